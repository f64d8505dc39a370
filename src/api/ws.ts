import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Bus } from '../state/bus.js';
import { ERROR_CODES, errorMessage } from '../util/errors.js';
import { jsonDepth, jsonSyntaxReason } from '../util/json-depth.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import type { TokenAuth } from './auth.js';
import type { ApiSection } from './config.js';
import { type RpcClient, type RpcError, type RpcRegistry, RpcRefusal, toRpcError } from './rpc.js';

/** Close codes (documented in docs/api.md, "Limits" and "Connecting"). */
export const WS_CLOSE = {
  SHUTDOWN: 1001,
  /** Sent by the ws library: a text message that is not valid UTF-8. */
  INVALID_UTF8: 1007,
  /** Sent by the ws library: a message over [api] max_frame_bytes. */
  TOO_BIG: 1009,
  UNAUTHORIZED: 4401,
  TOO_SLOW: 4408,
} as const;

export interface WsStats {
  clients: number;
}

interface Connection {
  socket: WebSocket;
  client: RpcClient;
  /** Requests (batch items included) whose handler has not finished. */
  inFlight: number;
  /** The TCP socket under the WebSocket (the upgraded request's), corked while replies gather. */
  tcp: Duplex;
  /** Sends the reply of one request (none for a notification); made once per connection. */
  answer: (reply: Reply | null) => void;
  /** The same for the reply of a call that waited (its promise callback): alone, it is written at once. */
  answerCall: (reply: Reply | null) => void;
  /** Writes what the connection gathered (uncork), made once per connection for nextTick/setImmediate. */
  flush: () => void;
  /** Bytes (frames, headers included) sent since `tcp` was corked: held back by the cork, not by the client. */
  corkedBytes: number;
  corked: boolean;
}

/** Replies and events gathered in one turn past this many bytes are written at once. */
const CORK_MAX_BYTES = 64 * 1024;

type Id = string | number | null;

/** handleOne's answer for a single request whose reply its own callback sends. */
const WAITING = Symbol('waiting');

/** ws.send options of every reply and event (one object, not one per message). */
const TEXT_FRAME = { binary: false } as const;

/** JSON-RPC 2.0 over WebSocket at /ws, with topic subscriptions fed by the bus. */
export function registerWs(
  app: FastifyInstance,
  o: { rpc: RpcRegistry; auth: TokenAuth; bus: Bus; logger: Logger; limits: ApiSection },
): { stats: WsStats; closeAll(): void; closeRevoked(): number } {
  const { limits } = o;
  const clients = new Map<WebSocket, Connection>();
  const noisy = new RateLimitedLog(o.logger);
  const stats: WsStats = {
    get clients() {
      return clients.size;
    },
  };

  o.bus.subscribe(({ topic, data }) => {
    if (clients.size === 0) return;
    // Serialised and UTF-8 encoded once for every subscriber (ws sends the same buffer to each).
    let frame: Buffer | null = null;
    // Every device state change passes here (two per camera action): no entry array per client.
    for (const conn of clients.values()) {
      if (!conn.client.topics.has(topic)) continue;
      const ws = conn.socket;
      if (frame === null) {
        try {
          frame = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'event', params: { topic, data } }));
        } catch (e) {
          noisy.error(`event:${topic}`, { topic, err: errorMessage(e) }, 'event could not be serialized; not sent');
          return;
        }
      }
      sendText(ws, conn, frame);
    }
  });

  app.get('/ws', { websocket: true }, (socket, req) => {
    const principal = o.auth.fromRequest(req.headers, req.url);
    if (!principal) {
      socket.close(WS_CLOSE.UNAUTHORIZED, 'unauthorized: send a valid token as Authorization: Bearer or ?token=');
      return;
    }
    const conn: Connection = {
      socket,
      client: { principal, remote: req.ip, topics: new Set(), transport: 'ws' },
      inFlight: 0,
      tcp: req.socket,
      answer: (reply) => {
        try {
          if (reply) sendReply(socket, conn, reply, false);
        } catch (e) {
          failedOutsideHandler(e);
        }
      },
      answerCall: (reply) => {
        try {
          if (reply) sendReply(socket, conn, reply, true);
        } catch (e) {
          failedOutsideHandler(e);
        }
      },
      flush: () => uncork(conn),
      corkedBytes: 0,
      corked: false,
    };
    clients.set(socket, conn);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
    socket.on('message', (raw, isBinary) => {
      if (isBinary) {
        sendReply(socket, conn, errorReply(null, ERROR_CODES.INVALID_REQUEST, 'expected a JSON text message, got binary'));
        return;
      }
      // Everything below answers or logs; nothing a client sends may throw or reject unhandled.
      try {
        handleText(String(raw), socket, conn);
      } catch (e) {
        failedOutsideHandler(e);
      }
    });
  });

  /** One function for every message's promise, not a closure per message. */
  function failedOutsideHandler(e: unknown): void {
    noisy.error('handler', { err: errorMessage(e) }, 'ws request failed outside any handler');
  }

  /**
   * One message: a request, a notification or a batch. Not async: a single request (what
   * every call of a Coordinator is) waits in handleOne only, and its reply is sent by the
   * connection's one `answer` function, not by a suspended frame and promise per message.
   */
  function handleText(text: string, socket: WebSocket, conn: Connection): void {
    const depth = jsonDepth(text, limits.max_json_depth);
    if (depth > limits.max_json_depth) {
      const msg = `message nested deeper than ${limits.max_json_depth} levels ([api] max_json_depth)`;
      sendReply(socket, conn, errorReply(null, ERROR_CODES.INVALID_REQUEST, msg));
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      sendReply(socket, conn, errorReply(null, ERROR_CODES.PARSE_ERROR, `invalid JSON: ${jsonSyntaxReason(e)}`));
      return;
    }
    if (!Array.isArray(msg)) {
      // A call that waits answers from its own promise callback; the rest are answered here.
      const reply = handleOne(msg, conn, true);
      if (reply !== WAITING) conn.answer(reply);
      return;
    }
    if (msg.length === 0) {
      sendReply(socket, conn, errorReply(null, ERROR_CODES.INVALID_REQUEST, 'empty batch'));
      return;
    }
    if (msg.length > limits.max_batch) {
      const why = `batch of ${msg.length} requests; at most ${limits.max_batch} per batch ([api] max_batch): send it in parts`;
      sendReply(socket, conn, errorReply(null, ERROR_CODES.INVALID_REQUEST, why));
      return;
    }
    Promise.all(msg.map((m) => handleOne(m, conn, false))).then((all) => {
      try {
        const replies = all.filter((r) => r !== null);
        if (replies.length) sendBatch(socket, conn, replies);
      } catch (e) {
        failedOutsideHandler(e);
      }
    }, failedOutsideHandler);
  }

  /**
   * One request: its reply (null for a notification), at once for a request refused here, else a
   * promise. `single` (a message of one request, what every call of a Coordinator is): a call
   * that waits sends its own reply and WAITING is returned.
   */
  function handleOne(msg: unknown, conn: Connection, single: true): Reply | null | typeof WAITING;
  function handleOne(msg: unknown, conn: Connection, single: false): Reply | null | Promise<Reply | null>;
  function handleOne(msg: unknown, conn: Connection, single: boolean): Reply | null | Promise<Reply | null> | typeof WAITING {
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
      return errorReply(null, ERROR_CODES.INVALID_REQUEST, 'expected a JSON-RPC 2.0 object');
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
    if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') {
      return errorReply(id, ERROR_CODES.INVALID_REQUEST, 'expected {"jsonrpc":"2.0","method":string,"id":…}');
    }
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      return errorReply(id, ERROR_CODES.INVALID_PARAMS, 'params must be an object (named parameters)');
    }
    const isNotification = !Object.hasOwn(m, 'id');
    if (conn.inFlight >= limits.max_in_flight) {
      if (isNotification) {
        noisy.warn('in-flight', { client: conn.client.principal.name }, 'ws notification dropped: too many requests in flight');
        return null;
      }
      const why = `${limits.max_in_flight} requests of this connection are still being worked on ([api] max_in_flight); wait for their answers`;
      return errorReply(id, ERROR_CODES.TOO_MANY_REQUESTS, why);
    }
    conn.inFlight++;
    let out: unknown;
    try {
      out = o.rpc.begin(m.method, m.params, conn.client);
    } catch (e) {
      conn.inFlight--;
      throw e;
    }
    // Not async: one pair of callbacks on the handler's own promise per call, no promise of the
    // RPC layer's outcome in between (every device action passes here). A refused call is
    // answered the same way, after this turn's synchronous work.
    const pending = out instanceof RpcRefusal ? Promise.reject(out) : Promise.resolve(out);
    const answered = pending.then(
      (value) => {
        conn.inFlight--;
        const reply: Reply | null = isNotification ? null : { jsonrpc: '2.0', id, result: value ?? null };
        if (!single) return reply;
        conn.answerCall(reply);
        return null;
      },
      (e: unknown) => {
        conn.inFlight--;
        let error: RpcError;
        try {
          error = e instanceof RpcRefusal ? e.error : toRpcError(e);
        } catch (err) {
          // Nothing to answer with (an error whose text cannot be read): logged, as a batch's is.
          if (!single) throw err;
          failedOutsideHandler(err);
          return null;
        }
        const reply: Reply | null = isNotification ? null : { jsonrpc: '2.0', id, error };
        if (!single) return reply;
        conn.answerCall(reply);
        return null;
      },
    );
    return single ? WAITING : answered;
  }

  /** One reply as text: never throws; too large or unserializable becomes an error reply with the same id. */
  function replyText(reply: Reply, budget: number): string {
    let text: string;
    try {
      text = JSON.stringify(reply);
    } catch (e) {
      // Not the client's doing (a handler returned something JSON cannot hold): ours to fix.
      noisy.error('serialize', { err: errorMessage(e) }, 'reply could not be serialized');
      text = JSON.stringify(errorReply(reply.id, ERROR_CODES.INTERNAL, `internal error: the reply could not be serialized`));
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > budget) {
      const why = `the reply would be ${bytes} bytes, over [api] max_reply_bytes (${limits.max_reply_bytes}): ask for less per call`;
      text = JSON.stringify(errorReply(reply.id, ERROR_CODES.REPLY_TOO_LARGE, why));
    }
    return text;
  }

  function sendReply(ws: WebSocket, conn: Connection, reply: Reply, call = false): void {
    sendText(ws, conn, replyText(reply, limits.max_reply_bytes), call);
  }

  /** A batch reply is one message and counts as one reply against max_reply_bytes. */
  function sendBatch(ws: WebSocket, conn: Connection, replies: Reply[]): void {
    const parts: string[] = [];
    let total = 2; // the brackets
    for (const r of replies) {
      // Each item gets what is left; an item that does not fit is answered with REPLY_TOO_LARGE.
      const left = Math.max(0, limits.max_reply_bytes - total - 1);
      const text = replyText(r, left);
      parts.push(text);
      total += Buffer.byteLength(text) + 1;
    }
    sendText(ws, conn, `[${parts.join(',')}]`);
  }

  /**
   * The one way out to a client. A client whose unwritten replies and events
   * would pass max_queued_bytes has stopped reading: it is closed with 4408
   * (one message always fits an empty queue).
   *
   * Everything sent to a client in one turn leaves in one write: the TCP socket
   * is corked at the first message and uncorked when the turn's microtasks are
   * done (process.nextTick), so a lone reply waits for nothing. While other
   * requests of the client are still in flight it stays corked until the event
   * loop's check phase (setImmediate): the replies of every device answer read
   * in this poll phase then share one write instead of one writev each. The reply
   * of a client's only call in flight, when nothing was gathered before it in this
   * turn (a Coordinator's sequential calls), is written at once: one write either
   * way, without the cork's turn-end callback.
   */
  function sendText(ws: WebSocket, conn: Connection, text: string | Buffer, call = false): void {
    if (ws.readyState !== ws.OPEN) return;
    // What was written in earlier turns and still waits for the kernel; not this turn's corked bytes.
    const queued = ws.bufferedAmount - conn.corkedBytes;
    const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (queued > 0 && queued + bytes > limits.max_queued_bytes) {
      noisy.warn(
        'too-slow',
        { client: conn.client.principal.name, remote: conn.client.remote, queued },
        'ws client too slow, disconnecting',
      );
      clients.delete(ws);
      uncork(conn);
      ws.close(WS_CLOSE.TOO_SLOW, 'too slow: reconnect and subscribe again for a fresh snapshot');
      return;
    }
    if (!conn.corked) {
      // The reply of the client's last call in flight, with nothing gathered before it (a
      // Coordinator's sequential calls): one write whether corked or not, so it is written now.
      if (call && conn.inFlight === 0) {
        ws.send(text, TEXT_FRAME);
        return;
      }
      conn.corked = true;
      conn.tcp.cork();
      if (conn.inFlight > 0) setImmediate(conn.flush);
      else process.nextTick(conn.flush);
    }
    const before = ws.bufferedAmount;
    ws.send(text, TEXT_FRAME);
    conn.corkedBytes += ws.bufferedAmount - before; // the frame, header included
    if (conn.corkedBytes >= CORK_MAX_BYTES) uncork(conn);
  }

  return {
    stats,
    closeAll() {
      for (const ws of clients.keys()) ws.close(WS_CLOSE.SHUTDOWN, 'agent stopping');
      clients.clear();
    },
    /** After a config reload: closes (4401) the connections whose token is no longer in the config. */
    closeRevoked() {
      let n = 0;
      for (const [ws, conn] of clients) {
        if (o.auth.isCurrent(conn.client.principal)) continue;
        ws.close(WS_CLOSE.UNAUTHORIZED, 'unauthorized: the token was removed from the config');
        clients.delete(ws);
        n++;
      }
      return n;
    },
  };
}

/**
 * For @fastify/websocket's `errorHandler`: protocol errors of a client's socket
 * (invalid UTF-8, a frame over max_frame_bytes, a bad opcode, a reset) are the
 * client's doing. The ws library has already sent the close code (1007, 1009,
 * 1002); log one rate-limited warn line without a stack and drop the socket
 * when it is not closing already.
 */
export function wsErrorHandler(logger: Logger): (error: Error, socket: WebSocket, req: FastifyRequest) => void {
  const noisy = new RateLimitedLog(logger);
  return (error, socket, req) => {
    const code = (error as { code?: string }).code ?? 'unknown';
    noisy.warn(`ws-error:${code}`, { code, remote: req.ip, err: error.message }, 'ws client protocol error; socket closed');
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.terminate();
  };
}

/** Writes what a connection gathered this turn (at most once per cork). */
function uncork(conn: Connection): void {
  if (!conn.corked) return;
  conn.corked = false;
  conn.corkedBytes = 0;
  conn.tcp.uncork();
}

interface Reply {
  jsonrpc: '2.0';
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function errorReply(id: Id, code: number, message: string): Reply {
  return { jsonrpc: '2.0', id, error: { code, message } };
}
