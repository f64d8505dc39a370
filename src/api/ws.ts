import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { Bus } from '../state/bus.js';
import { ERROR_CODES } from '../util/errors.js';
import type { TokenAuth } from './auth.js';
import type { RpcClient, RpcRegistry } from './rpc.js';

/** Close codes (documented in docs/api.md). */
export const WS_CLOSE = { UNAUTHORIZED: 4401, TOO_SLOW: 4408, SHUTDOWN: 1001 } as const;
/** A client that lets this much unsent data pile up is dropped; on reconnect it gets fresh snapshots. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const MAX_MESSAGE = 1024 * 1024;

export interface WsStats {
  clients: number;
}

/** JSON-RPC 2.0 over WebSocket at /ws, with topic subscriptions fed by the bus. */
export function registerWs(
  app: FastifyInstance,
  o: { rpc: RpcRegistry; auth: TokenAuth; bus: Bus; logger: Logger },
): { stats: WsStats; closeAll(): void } {
  const clients = new Map<WebSocket, RpcClient>();
  const stats: WsStats = {
    get clients() {
      return clients.size;
    },
  };

  o.bus.subscribe(({ topic, data }) => {
    if (clients.size === 0) return;
    let text: string | null = null;
    for (const [ws, c] of clients) {
      if (!c.topics.has(topic)) continue;
      if (ws.bufferedAmount > MAX_BUFFERED) {
        o.logger.warn({ client: c.principal.name, remote: c.remote }, 'ws client too slow, disconnecting');
        ws.close(WS_CLOSE.TOO_SLOW, 'too slow: reconnect and subscribe again for a fresh snapshot');
        clients.delete(ws);
        continue;
      }
      text ??= JSON.stringify({ jsonrpc: '2.0', method: 'event', params: { topic, data } });
      ws.send(text);
    }
  });

  app.get('/ws', { websocket: true }, (socket, req) => {
    const principal = o.auth.fromRequest(req.headers, req.url);
    if (!principal) {
      socket.close(WS_CLOSE.UNAUTHORIZED, 'unauthorized: send a valid token as Authorization: Bearer or ?token=');
      return;
    }
    const client: RpcClient = { principal, remote: req.ip, topics: new Set(), transport: 'ws' };
    clients.set(socket, client);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
    socket.on('message', (raw, isBinary) => {
      if (isBinary || (raw as Buffer).length > MAX_MESSAGE) {
        send(socket, errorReply(null, ERROR_CODES.INVALID_REQUEST, 'expected a JSON text message of at most 1 MiB'));
        return;
      }
      void handleText(raw.toString(), client, socket);
    });
  });

  async function handleText(text: string, client: RpcClient, socket: WebSocket): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      send(socket, errorReply(null, ERROR_CODES.PARSE_ERROR, `invalid JSON: ${(e as Error).message}`));
      return;
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0) {
        send(socket, errorReply(null, ERROR_CODES.INVALID_REQUEST, 'empty batch'));
        return;
      }
      const replies = (await Promise.all(msg.map((m) => handleOne(m, client)))).filter((r) => r !== null);
      if (replies.length) send(socket, replies);
      return;
    }
    const reply = await handleOne(msg, client);
    if (reply) send(socket, reply);
  }

  async function handleOne(msg: unknown, client: RpcClient): Promise<object | null> {
    if (!msg || typeof msg !== 'object') return errorReply(null, ERROR_CODES.INVALID_REQUEST, 'expected a JSON-RPC 2.0 object');
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') {
      return errorReply(id, ERROR_CODES.INVALID_REQUEST, 'expected {"jsonrpc":"2.0","method":string,"id":…}');
    }
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      return errorReply(id, ERROR_CODES.INVALID_PARAMS, 'params must be an object (named parameters)');
    }
    const out = await o.rpc.call(m.method, m.params, client);
    if (!('id' in m)) return null; // notification: no reply
    return 'error' in out ? { jsonrpc: '2.0', id, error: out.error } : { jsonrpc: '2.0', id, result: out.result };
  }

  return {
    stats,
    closeAll() {
      for (const ws of clients.keys()) ws.close(WS_CLOSE.SHUTDOWN, 'agent stopping');
      clients.clear();
    },
  };
}

function errorReply(id: string | number | null, code: number, message: string): object {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function send(ws: WebSocket, obj: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj));
}
