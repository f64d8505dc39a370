// Inbound MQTT: `cmd/<method>` runs the same JSON-RPC methods with the same
// role checks as the WebSocket API; `inbox/events` feeds the tracking ingest.
import type { IPublishPacket } from 'mqtt';
import type { Principal } from '../api/auth.js';
import type { RpcClient, RpcError, RpcRegistry } from '../api/rpc.js';
import type { TokenAuth } from '../api/auth.js';
import { AgentError, ERROR_CODES, errorMessage } from '../util/errors.js';
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

/** Where a reply goes: MQTT 5 response topic (with its correlation data) first, else `<topic>/reply`. */
export function replyTarget(packet: IPublishPacket, fallback: string): ReplyTarget {
  const rt = packet.properties?.responseTopic;
  if (rt) {
    const cd = packet.properties?.correlationData;
    return { topic: rt, ...(cd ? { properties: { correlationData: cd } } : {}) };
  }
  return { topic: fallback };
}

export function parseBody(payload: Buffer): { ok: true; value: unknown } | { ok: false; error: RpcError } {
  if (payload.length === 0) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (e) {
    return { ok: false, error: { code: ERROR_CODES.PARSE_ERROR, message: `payload is not JSON: ${errorMessage(e)}` } };
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
