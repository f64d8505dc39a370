// The typed WebSocket JSON-RPC client of the agent, for browsers and Node.
// It is what the commissioning console uses, so every feature of the page is
// also exercised through this class.
import { CLIENT_ERROR_CODES, RpcError } from './errors.js';
import { isMeetingDelta, MeetingFollower, type MeetingSnapshot, type MeetingState } from './meeting-deltas.js';
import type { Methods, Topics } from './methods.js';

export type MethodName = keyof Methods;
export type TopicName = keyof Topics;
export type ResultOf<M extends MethodName> = Methods[M]['result'];
export type ParamsOf<M extends MethodName> = Methods[M]['params'];
/** Params may be left out when the method has no required param. */
export type CallArgs<M extends MethodName> = Methods[M]['paramsOptional'] extends true
  ? [params?: ParamsOf<M>]
  : [params: ParamsOf<M>];

/**
 * A topic message: the snapshot sent on (re)subscribe, or a pushed change.
 * Snapshots and changes differ in shape on some topics (e.g. `devices`: the
 * list vs. one change), so a snapshot's data is typed `unknown`.
 */
export type TopicEvent<T extends TopicName = TopicName> =
  | { topic: T; snapshot: true; data: unknown }
  | { topic: T; snapshot: false; data: Topics[T] };

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'closed';

/** The part of the standard WebSocket the client uses (the browser's, Node 22's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocolsOrOptions?: string | string[] | object) => WebSocketLike;

export interface ClientOptions {
  /** The agent: `http://host:port`, `ws://host:port` or the full `ws://host:port/ws`. */
  url: string;
  /** API token (viewer, operator or admin). Never logged by the client. */
  token: string;
  /** WebSocket implementation; default: the global one, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor;
  /** Reconnect delays: initialMs · factor^attempt, at most maxMs, minus up to `jitter` of it at random. */
  backoff?: { initialMs?: number; maxMs?: number; factor?: number; jitter?: number };
  /** A call without an answer after this long fails with CALL_TIMEOUT (default 60 s: camera moves take a while). */
  callTimeoutMs?: number;
  /** Where exceptions thrown by event handlers go (default: console.error). */
  onHandlerError?: (err: unknown) => void;
  /**
   * Most calls sent and not yet answered; further calls wait in the client, in
   * order, so the agent never answers TOO_MANY_REQUESTS. Default: the agent's
   * `[api] max_in_flight` (from `system.info`); a lower value here wins.
   */
  maxInFlight?: number;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: RpcError): void;
  timer: ReturnType<typeof setTimeout>;
  /** The request text while it waits for a free in-flight slot; null once sent. */
  waiting: string | null;
}

/** Close codes after which the client reconnects, with the error pending calls fail with. */
const CLOSE_ERRORS = new Map<number, { code: number; why: string }>([
  [
    CLIENT_ERROR_CODES.TOO_SLOW,
    { code: CLIENT_ERROR_CODES.TOO_SLOW, why: 'the agent dropped this client for falling behind reading (4408)' },
  ],
  [
    CLIENT_ERROR_CODES.MESSAGE_TOO_BIG,
    { code: CLIENT_ERROR_CODES.MESSAGE_TOO_BIG, why: "a request was larger than the agent's max_frame_bytes (1009)" },
  ],
  [CLIENT_ERROR_CODES.INVALID_UTF8, { code: CLIENT_ERROR_CODES.INVALID_UTF8, why: 'a request was not valid UTF-8 (1007)' }],
]);

/** Bytes of `text` in UTF-8 (what a WebSocket frame carries). */
function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

interface Handler {
  topics: Set<string>;
  fn(e: TopicEvent): void;
}

export interface Subscription {
  readonly topics: readonly TopicName[];
  /** Stops this handler; topics no other handler wants are unsubscribed on the agent. */
  close(): Promise<void>;
}

/** A followed meeting (`followMeeting`): its latest state, kept up to date. */
export interface MeetingFollow {
  readonly id: string;
  readonly state: MeetingState | null;
  close(): Promise<void>;
}

const OPEN = 1;
const WS_MODULE = 'ws';

function wsUrl(base: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith('/ws')) u.pathname = `${u.pathname.replace(/\/$/, '')}/ws`;
  return u.toString();
}

export class RoomAgentClient {
  private ws: WebSocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Calls sent on the current socket and not answered yet. */
  private sentCount = 0;
  private readonly handlers = new Set<Handler>();
  private readonly stateListeners = new Set<(s: ConnectionState, detail: string) => void>();
  private current: ConnectionState = 'idle';
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private firstConnect: { resolve(): void; reject(e: RpcError): void } | null = null;
  private everReady = false;
  /** `system.info` as answered on the last (re)connect. */
  info: ResultOf<'system.info'> | null = null;

  constructor(private readonly o: ClientOptions) {}

  get state(): ConnectionState {
    return this.current;
  }

  /** Calls `fn` on every connection state change; returns the unsubscribe function. */
  onState(fn: (s: ConnectionState, detail: string) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /**
   * Opens the connection and checks the token (a `system.info` call). Rejects
   * with UNAUTHORIZED for a wrong token, NOT_CONNECTED when the agent cannot be
   * reached. Once connected, a lost connection is retried with backoff forever
   * and every subscription is renewed (fresh snapshots) on each reconnect.
   */
  connect(): Promise<void> {
    if (this.current !== 'idle') return Promise.reject(new RpcError(CLIENT_ERROR_CODES.CLOSED, `client is ${this.current}`));
    return new Promise((resolve, reject) => {
      this.firstConnect = { resolve, reject };
      void this.open();
    });
  }

  /** A typed call: rejects with RpcError (numeric `code`, stable `codeName`). */
  call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>> {
    if (this.current !== 'open') {
      return Promise.reject(new RpcError(CLIENT_ERROR_CODES.NOT_CONNECTED, `not connected (${this.current})`, undefined, method));
    }
    return this.send(method, args[0] ?? {}) as Promise<ResultOf<M>>;
  }

  /**
   * Subscribes `onEvent` to topics: it gets each topic's snapshot first
   * (`snapshot: true`), then the pushed changes, and a fresh snapshot after
   * every reconnect.
   */
  async subscribe<T extends TopicName>(topics: T[], onEvent: (e: TopicEvent<T>) => void): Promise<Subscription> {
    const handler: Handler = { topics: new Set(topics), fn: onEvent as (e: TopicEvent) => void };
    const r = await this.call('subscribe', { topics });
    this.handlers.add(handler);
    const snapshot = (r as { snapshot?: Record<string, unknown> }).snapshot ?? {};
    for (const t of topics) this.deliver(handler, { topic: t, snapshot: true, data: snapshot[t] });
    return {
      topics,
      close: async () => {
        if (!this.handlers.delete(handler)) return;
        const still = this.wantedTopics();
        const drop = topics.filter((t) => !still.has(t));
        if (drop.length && this.current === 'open') await this.call('unsubscribe', { topics: drop });
      },
    };
  }

  /**
   * Follows one meeting's insight: a snapshot (`meetings.snapshot`), then the
   * deltas of topic `meetings` applied to it; a missing delta, another epoch or
   * a reconnect fetches a fresh snapshot. `onChange` gets every new state.
   */
  async followMeeting(
    id: string,
    onChange: (state: MeetingState) => void,
    onError: (err: unknown) => void = (e) => this.reportHandlerError(e),
  ): Promise<MeetingFollow> {
    const follower = new MeetingFollower(
      id,
      (mid) => this.call('meetings.snapshot', { id: mid }) as Promise<MeetingSnapshot>,
      onChange,
      onError,
    );
    const sub = await this.subscribe(['meetings'], (e) => {
      if (!e.snapshot && isMeetingDelta(e.data)) follower.offer(e.data);
    });
    // After a reconnect the deltas missed meanwhile are gone: start again from a snapshot.
    const offState = this.onState((s) => {
      if (s === 'open') void follower.resync();
    });
    try {
      await follower.resync();
      if (!follower.state) throw new RpcError(CLIENT_ERROR_CODES.NOT_CONNECTED, `no snapshot of meeting "${id}"`);
    } catch (e) {
      offState();
      await sub.close();
      throw e;
    }
    return {
      id,
      get state() {
        return follower.state;
      },
      close: async () => {
        offState();
        await sub.close();
      },
    };
  }

  /** Closes for good: pending calls fail with CLOSED, no reconnect. */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.setState('closed', 'closed by the application');
    this.failPending(CLIENT_ERROR_CODES.CLOSED, 'client closed');
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'client closed');
    this.firstConnect?.reject(new RpcError(CLIENT_ERROR_CODES.CLOSED, 'client closed'));
    this.firstConnect = null;
  }

  private setState(s: ConnectionState, detail: string): void {
    if (this.current === s) return;
    this.current = s;
    for (const l of this.stateListeners) l(s, detail);
  }

  private async ctor(): Promise<{ Ctor: WebSocketConstructor; headers: boolean }> {
    if (this.o.WebSocket) return { Ctor: this.o.WebSocket, headers: false };
    const g = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (g) return { Ctor: g, headers: false };
    // Node 20 has no global WebSocket; the `ws` package can send the token as a header.
    const mod = (await import(WS_MODULE)) as { default: WebSocketConstructor };
    return { Ctor: mod.default, headers: true };
  }

  private async open(): Promise<void> {
    this.setState(this.everReady ? 'reconnecting' : 'connecting', this.everReady ? `attempt ${this.attempt}` : 'opening');
    const { Ctor, headers } = await this.ctor();
    if (this.current === 'closed') return;
    const url = wsUrl(this.o.url);
    let ws: WebSocketLike;
    try {
      // The standard WebSocket cannot send headers: the token goes in the query of the WS request only.
      ws = headers
        ? new Ctor(url, { headers: { authorization: `Bearer ${this.o.token}` } })
        : new Ctor(`${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(this.o.token)}`);
    } catch (e) {
      this.lost(0, e instanceof Error ? e.message : String(e));
      return;
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.onMessage(typeof ev.data === 'string' ? ev.data : String(ev.data));
    ws.onerror = () => undefined; // the close event that follows carries the outcome
    ws.onclose = (ev) => {
      if (this.ws === ws) this.lost(ev.code, ev.reason);
    };
    ws.onopen = () => void this.ready(ws);
  }

  /** Checks the token, renews subscriptions, then reports `open`. */
  private async ready(ws: WebSocketLike): Promise<void> {
    try {
      this.info = (await this.send('system.info', {})) as ResultOf<'system.info'>;
    } catch (e) {
      // A token without viewer rights (ingest) is still a valid login; anything else is a lost link.
      if (!(e instanceof RpcError && e.is('FORBIDDEN'))) return;
    }
    const wanted = [...this.wantedTopics()];
    if (wanted.length) {
      let snapshot: Record<string, unknown>;
      try {
        const r = (await this.send('subscribe', { topics: wanted })) as { snapshot: Record<string, unknown> };
        snapshot = r.snapshot;
      } catch {
        if (this.ws === ws) ws.close(4000, 'resubscribe failed');
        return;
      }
      for (const h of this.handlers)
        for (const t of h.topics) this.deliver(h, { topic: t as TopicName, snapshot: true, data: snapshot[t] });
    }
    if (this.ws !== ws) return;
    this.attempt = 0;
    this.everReady = true;
    this.setState('open', 'connected');
    this.firstConnect?.resolve();
    this.firstConnect = null;
  }

  private lost(code: number, reason: string): void {
    this.ws = null;
    if (this.current === 'closed') return;
    if (code === CLIENT_ERROR_CODES.UNAUTHORIZED) {
      this.failPending(CLIENT_ERROR_CODES.UNAUTHORIZED, 'unauthorized: the agent refused the token');
      this.setState('unauthorized', reason || 'token refused');
      this.firstConnect?.reject(new RpcError(CLIENT_ERROR_CODES.UNAUTHORIZED, 'unauthorized: the agent refused the token'));
      this.firstConnect = null;
      return;
    }
    const closeError = CLOSE_ERRORS.get(code);
    if (closeError) this.failPending(closeError.code, `${closeError.why}${reason ? `: ${reason}` : ''}`);
    else this.failPending(CLIENT_ERROR_CODES.NOT_CONNECTED, `connection lost (${code}${reason ? ` ${reason}` : ''})`);
    if (!this.everReady) {
      // Never connected: report it instead of retrying behind the caller's back.
      this.setState('closed', `cannot connect (${code}${reason ? ` ${reason}` : ''})`);
      this.firstConnect?.reject(new RpcError(CLIENT_ERROR_CODES.NOT_CONNECTED, `cannot connect to ${this.o.url}`));
      this.firstConnect = null;
      return;
    }
    this.setState('reconnecting', `${closeError ? closeError.why : `connection lost (${code})`}; retrying`);
    const b = { initialMs: 250, maxMs: 10_000, factor: 2, jitter: 0.3, ...this.o.backoff };
    const delay = Math.min(b.maxMs, b.initialMs * b.factor ** this.attempt) * (1 - b.jitter * Math.random());
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.open();
    }, delay);
  }

  private send(method: string, params: unknown): Promise<unknown> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) {
      return Promise.reject(new RpcError(CLIENT_ERROR_CODES.NOT_CONNECTED, 'not connected', undefined, method));
    }
    const id = this.nextId++;
    const text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    // Refused here rather than sent: the agent would close the socket (1009) and every other call with it.
    const maxFrame = this.info?.limits?.max_frame_bytes;
    if (maxFrame !== undefined && text.length > maxFrame / 3) {
      const bytes = utf8Bytes(text);
      if (bytes > maxFrame) {
        return Promise.reject(
          new RpcError(
            CLIENT_ERROR_CODES.MESSAGE_TOO_BIG,
            `${method}: the request is ${bytes} bytes, over the agent's [api] max_frame_bytes (${maxFrame}); not sent`,
            { bytes, max_frame_bytes: maxFrame },
            method,
          ),
        );
      }
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = this.o.callTimeoutMs ?? 60_000;
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        if (p && p.waiting === null) this.answered();
        reject(new RpcError(CLIENT_ERROR_CODES.CALL_TIMEOUT, `${method}: no answer within ${timeoutMs} ms`, undefined, method));
      }, timeoutMs);
      const p: Pending = { method, resolve, reject, timer, waiting: text };
      this.pending.set(id, p);
      if (this.sentCount < this.inFlightLimit()) this.transmit(ws, p);
    });
  }

  /** The most calls to have out at once (see ClientOptions.maxInFlight). */
  private inFlightLimit(): number {
    return Math.max(
      1,
      Math.min(this.o.maxInFlight ?? Number.POSITIVE_INFINITY, this.info?.limits?.max_in_flight ?? Number.POSITIVE_INFINITY),
    );
  }

  private transmit(ws: WebSocketLike, p: Pending): void {
    const text = p.waiting;
    if (text === null) return;
    p.waiting = null;
    this.sentCount++;
    ws.send(text);
  }

  /** A sent call got its answer (or gave up waiting): the next waiting call may go. */
  private answered(): void {
    this.sentCount = Math.max(0, this.sentCount - 1);
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    for (const p of this.pending.values()) {
      if (this.sentCount >= this.inFlightLimit()) return;
      if (p.waiting !== null) this.transmit(ws, p);
    }
  }

  private onMessage(text: string): void {
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return; // the agent only sends JSON; a broken frame cannot be matched to a call
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.method === 'event') {
      const p = msg.params as { topic?: unknown; data: unknown } | null;
      if (!p || typeof p !== 'object' || typeof p.topic !== 'string') return;
      for (const h of this.handlers)
        if (h.topics.has(p.topic as string)) this.deliver(h, { ...p, snapshot: false } as TopicEvent);
      return;
    }
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (p.waiting === null) this.answered();
    if (msg.error) {
      const e = msg.error as { code: number; message: string; data?: unknown };
      p.reject(new RpcError(e.code, e.message, e.data, p.method));
    } else p.resolve(msg.result);
  }

  private deliver(h: Handler, e: TopicEvent): void {
    try {
      h.fn(e);
    } catch (err) {
      this.reportHandlerError(err);
    }
  }

  private reportHandlerError(err: unknown): void {
    (this.o.onHandlerError ?? ((x) => console.error('room-agent client: event handler failed', x)))(err);
  }

  private wantedTopics(): Set<string> {
    const s = new Set<string>();
    for (const h of this.handlers) for (const t of h.topics) s.add(t);
    return s;
  }

  private failPending(code: number, message: string): void {
    this.sentCount = 0;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RpcError(code, message, undefined, p.method));
      this.pending.delete(id);
    }
  }
}
