import type { Static, TSchema } from '@sinclair/typebox';
import type { Role } from '../config/schema.js';
import { compileParams, type ParamsValidator } from '../host/validate.js';
import { AgentError, ERROR_CODES } from '../util/errors.js';
import { jsonValueDepth } from '../util/json-depth.js';
import type { Principal } from './auth.js';
import { allows } from './auth.js';

export interface RpcClient {
  principal: Principal;
  /** Remote address, for the audit log's detail. */
  remote: string;
  /** Topics this client subscribed to. */
  topics: Set<string>;
  transport: 'ws' | 'mqtt' | 'internal';
}

export interface MethodDef<P extends TSchema = TSchema> {
  name: string;
  description: string;
  role: Role;
  params: P;
  /** JSON Schema of the result, for docs and the typed client. */
  result?: TSchema;
  handler(params: Static<P>, client: RpcClient): Promise<unknown> | unknown;
}

export interface TopicDef {
  name: string;
  description: string;
  /** Current picture sent on subscribe, before any change. */
  snapshot(client: RpcClient): unknown;
  /** Payload schema of the pushed changes, for docs and the typed client. */
  data?: TSchema;
}

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** Methods and topics, registered by each module; one dispatcher for WS and MQTT. */
export class RpcRegistry {
  private readonly methods = new Map<string, { def: MethodDef; validate: ParamsValidator }>();
  private readonly topicDefs = new Map<string, TopicDef>();
  /** Deepest params accepted ([api] max_json_depth), checked without recursion before the validator walks them. */
  maxParamsDepth = 64;

  method<P extends TSchema>(def: MethodDef<P>): void {
    if (this.methods.has(def.name)) throw new Error(`method ${def.name} registered twice`);
    this.methods.set(def.name, {
      def: def as unknown as MethodDef,
      validate: compileParams(def.name, def.params, { inPlace: true }),
    });
  }
  topic(def: TopicDef): void {
    if (this.topicDefs.has(def.name)) throw new Error(`topic ${def.name} registered twice`);
    this.topicDefs.set(def.name, def);
  }
  /** Removes a method (a feature restarted by a config reload registers its own again). */
  removeMethod(name: string): void {
    this.methods.delete(name);
  }
  /** Removes a topic; clients subscribed to it stay subscribed and hear its next owner. */
  removeTopic(name: string): void {
    this.topicDefs.delete(name);
  }
  listMethods(): MethodDef[] {
    return [...this.methods.values()].map((m) => m.def);
  }
  listTopics(): TopicDef[] {
    return [...this.topicDefs.values()];
  }
  getTopic(name: string): TopicDef | undefined {
    return this.topicDefs.get(name);
  }

  /** Runs one call; errors come back as JSON-RPC error objects, never thrown.
   * `params` must belong to this call: validation fills in defaults in place.
   * Not async: the handler's promise is answered by two module-level functions, without a
   * suspended frame of this function per call. */
  call(method: string, params: unknown, client: RpcClient): Promise<RpcOutcome> {
    const out = this.begin(method, params, client);
    if (out instanceof RpcRefusal) return Promise.resolve({ error: out.error });
    // Promise.resolve returns a native promise as it is and follows any other thenable.
    return Promise.resolve(out).then(asResult, asError);
  }

  /**
   * A call up to its handler: a refusal (unknown method, role, params too deep or invalid) or a
   * handler that threw at once comes back as an RpcRefusal; otherwise the handler's own answer,
   * a value or a promise, whose rejection the caller turns into an error with toRpcError (its
   * result is `value ?? null`). `call` is this, wrapped; the WebSocket path answers from it with
   * one promise callback per call (every device action passes here).
   */
  begin(method: string, params: unknown, client: RpcClient): unknown {
    const m = this.methods.get(method);
    if (!m) return new RpcRefusal({ code: ERROR_CODES.METHOD_NOT_FOUND, message: `unknown method "${method}"` });
    if (!allows(client.principal.role, m.def.role)) {
      return new RpcRefusal({
        code: ERROR_CODES.FORBIDDEN,
        message: `${method} needs role ${m.def.role}; token "${client.principal.name}" has role ${client.principal.role}`,
      });
    }
    if (jsonValueDepth(params, this.maxParamsDepth) > this.maxParamsDepth) {
      const message = `${method}: params nested deeper than ${this.maxParamsDepth} levels ([api] max_json_depth)`;
      return new RpcRefusal({ code: ERROR_CODES.INVALID_PARAMS, message });
    }
    try {
      return m.def.handler(m.validate(params ?? {}), client);
    } catch (e) {
      return new RpcRefusal(toRpcError(e));
    }
  }
}

/** A call answered with an error before its handler's answer (RpcRegistry.begin). */
export class RpcRefusal {
  constructor(readonly error: RpcError) {}
}

export type RpcOutcome = { result: unknown } | { error: RpcError };

function asResult(value: unknown): RpcOutcome {
  return { result: value ?? null };
}

function asError(e: unknown): RpcOutcome {
  return { error: toRpcError(e) };
}

export function toRpcError(e: unknown): RpcError {
  if (e instanceof AgentError) {
    return { code: ERROR_CODES[e.code], message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) };
  }
  return { code: ERROR_CODES.INTERNAL, message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}
