// Inbound MQTT: `cmd/<method>` runs the same JSON-RPC methods with the same
// role checks as the WebSocket API; `inbox/events` feeds the tracking ingest.
import type { IPublishPacket } from 'mqtt';
import type { Principal } from '../api/auth.js';
import type { RpcClient, RpcError, RpcRegistry } from '../api/rpc.js';
import type { TokenAuth } from '../api/auth.js';
import { AgentError, ERROR_CODES, errorMessage } from '../util/errors.js';
import { jsonSyntaxReason } from '../util/json-depth.js';
import type { MqttSection } from './schema.js';
import type { CommandMessage, ReplyMessage } from './topics.js';

/** What sync needs from the tracking feature (`ctx.feature('tracking')`). */
export interface TrackingIngest {
  ingest(events: unknown[], source: string): Promise<IngestResult> | IngestResult;
}
export interface IngestResult {
  accepted: number;
  duplicates: number;
}

export interface ReplyTarget {
  topic: string;
  properties?: { correlationData?: Buffer };
}

export type Reply = { target: ReplyTarget; payload: ReplyMessage };

/**
 * Where a reply goes: the MQTT 5 response topic (with its correlation data) when it lies in the room's
 * reply namespace (`allowedPrefix`), else — no response topic — `fallback` (`<topic>/reply`). A response
 * topic outside the namespace is refused: whoever may publish to `cmd/#` must not be able to make the
 * agent publish anywhere (another room's topics, the central service's own). The refusal's reply goes to
 * `fallback`, with the correlation data, so the requester can still learn why.
 */
export function replyTarget(
  packet: IPublishPacket,
  fallback: string,
  allowedPrefix: string,
): { target: ReplyTarget; refused: string | null } {
  const rt = packet.properties?.responseTopic;
  const cd = packet.properties?.correlationData;
  const properties = cd ? { properties: { correlationData: cd } } : {};
  if (!rt) return { target: { topic: fallback }, refused: null };
  if (rt.startsWith(allowedPrefix) && rt.length > allowedPrefix.length && !/[#+\u0000]/.test(rt)) {
    return { target: { topic: rt, ...properties }, refused: null };
  }
  return {
    target: { topic: fallback, ...properties },
    refused: `response topic is outside this room's reply namespace ${allowedPrefix}`,
  };
}

/** The error reply for a refused response topic (the request itself is not run). */
export function refusedReply(payload: Buffer, reason: string): ReplyMessage {
  const parsed = parseBody(payload);
  const v = parsed.ok ? (parsed.value as { transaction?: unknown } | null) : null;
  const transaction = v && typeof v === 'object' && !Array.isArray(v) ? v.transaction : undefined;
  const t = typeof transaction === 'string' || typeof transaction === 'number' ? { transaction } : {};
  return { ...t, error: { code: ERROR_CODES.FORBIDDEN, message: `${reason}; the request was not run` } };
}

export function parseBody(payload: Buffer): { ok: true; value: unknown } | { ok: false; error: RpcError } {
  if (payload.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (e) {
    return { ok: false, error: { code: ERROR_CODES.PARSE_ERROR, message: `payload is ${jsonSyntaxReason(e)}` } };
  }
}

export class CommandHandler {
  constructor(
    private readonly rpc: RpcRegistry,
    private readonly auth: TokenAuth,
    private readonly cfg: MqttSection,
  ) {}

  /** Who a command runs as: its own token when it carries one, else the configured broker identity. */
  principal(body: CommandMessage): Principal | RpcError {
    if (body.token !== undefined) {
      const p = typeof body.token === 'string' ? this.auth.check(body.token) : null;
      return p ?? { code: ERROR_CODES.FORBIDDEN, message: 'unknown token in command' };
    }
    if (this.cfg.command_role === 'none') {
      return { code: ERROR_CODES.FORBIDDEN, message: 'commands without a token are refused ([mqtt] command_role = "none")' };
    }
    return { name: this.cfg.command_identity, role: this.cfg.command_role };
  }

  async run(method: string, payload: Buffer): Promise<ReplyMessage> {
    const parsed = parseBody(payload);
    if (!parsed.ok) return { error: parsed.error };
    const body = (
      parsed.value && typeof parsed.value === 'object' && !Array.isArray(parsed.value) ? parsed.value : {}
    ) as CommandMessage;
    const transaction =
      typeof body.transaction === 'string' || typeof body.transaction === 'number' ? body.transaction : undefined;
    const t = transaction !== undefined ? { transaction } : {};
    if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      return {
        ...t,
        error: { code: ERROR_CODES.INVALID_REQUEST, message: 'expected a JSON object {params, transaction?, token?}' },
      };
    }
    const principal = this.principal(body);
    if ('code' in principal) return { ...t, error: principal };
    const client: RpcClient = { principal, remote: 'mqtt', topics: new Set(), transport: 'mqtt' };
    const r = await this.rpc.call(method, body.params ?? {}, client);
    return 'error' in r ? { ...t, error: r.error } : { ...t, result: r.result };
  }
}

/** Runs an `inbox/events` delivery through the tracking ingest (its dedup applies). */
export async function runInbox(tracking: TrackingIngest | undefined, payload: Buffer, source: string): Promise<ReplyMessage> {
  const parsed = parseBody(payload);
  if (!parsed.ok) return { error: parsed.error };
  const v = parsed.value as { events?: unknown; transaction?: string | number } | unknown[];
  const transaction = !Array.isArray(v) && v && typeof v === 'object' ? v.transaction : undefined;
  const t = typeof transaction === 'string' || typeof transaction === 'number' ? { transaction } : {};
  const events = Array.isArray(v) ? v : v && typeof v === 'object' && Array.isArray(v.events) ? v.events : [v];
  if (!tracking) {
    return { ...t, error: { code: ERROR_CODES.UNAVAILABLE, message: 'meeting tracking is not running in this agent' } };
  }
  try {
    return { ...t, result: await tracking.ingest(events, source) };
  } catch (e) {
    if (e instanceof AgentError) return { ...t, error: { code: ERROR_CODES[e.code], message: e.message } };
    return { ...t, error: { code: ERROR_CODES.INVALID_PARAMS, message: errorMessage(e) } };
  }
}
