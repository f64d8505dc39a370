// A poll-driven "link" to an HTTP device or service (TrueConf Server, an ICS
// feed, an HTTP-CGI camera), on src/transport/http-client.ts. HTTP has no
// connection to watch, so the device's liveness is its answers: the device
// lifecycle's handshake and probe are requests made through this link, and
// the link tells the two ways a request can go wrong apart:
//
// - silence (`DEVICE_TIMEOUT`: no answer within the deadline; `DEVICE_OFFLINE`:
//   refused, reset, unreachable) — the device is not there: the probe fails
//   and the lifecycle reports `offline` and backs off;
// - an answer that is an error (`HttpAnsweredError`: an HTTP status the caller
//   does not accept, or a body it cannot read) — the device is there and said
//   no: the driver reports it (e.g. `error` with the status) and keeps polling.
//
// One request at a time (a small device or an on-premises server is not
// hammered by concurrent polls), with an optional minimum gap between the end
// of one request and the start of the next.
import type { TimerHandle } from '../util/clock.js';
import { DeviceError, errorMessage } from '../util/errors.js';
import { HttpError, type HttpRequestOptions, type HttpResponse, httpRequest } from './http-client.js';
import { AnsweredFault, ConfigFault, type ConnectionHooks, type DeviceConnection } from './lifecycle.js';
import { Link, type LinkOptions } from './link.js';

export interface HttpLinkOptions extends LinkOptions {
  /** Base URL, e.g. `https://tcs.example.org` or `http://10.0.0.9:8080/cgi-bin/`. Paths are resolved against it. */
  baseUrl: string;
  /** Deadline of one request, body included (ms). */
  timeoutMs: number;
  /** Pause between the end of one request and the start of the next (ms); 0 = none. */
  minGapMs?: number;
  /** Largest body accepted (bytes); default that of http-client (64 MiB). */
  maxBytes?: number;
  /** Headers sent with every request (a request's own headers win). */
  headers?: Record<string, string>;
  /** 'error' (default): a redirect is an answered error, so credentials never go to another address. */
  redirect?: 'follow' | 'error';
}

export interface HttpLinkRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
  /** Overrides the link's deadline for this request (ms). */
  timeoutMs?: number;
  /** Which statuses are an answer the caller wants; default 2xx. Others throw `HttpAnsweredError`. */
  accept?: (status: number) => boolean;
}

/**
 * The device answered, but not with what was asked for (an HTTP error status, an unreadable body).
 * The link's error messages say what happened, not to whom: the caller (or the lifecycle) names the device.
 */
export class HttpAnsweredError extends DeviceError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message, 'DEVICE_ERROR', status === null ? undefined : { http_status: status });
    this.name = 'HttpAnsweredError';
  }
}

/** True for "the device did not answer" (timeout, refused, unreachable), false for an answer that was an error. */
export function isSilence(e: unknown): boolean {
  return (
    e instanceof DeviceError && !(e instanceof HttpAnsweredError) && (e.code === 'DEVICE_TIMEOUT' || e.code === 'DEVICE_OFFLINE')
  );
}

interface Waiting {
  run: () => Promise<void>;
  reject: (e: Error) => void;
}

export class HttpLink extends Link {
  private readonly base: URL;
  private readonly queue: Waiting[] = [];
  private busy = false;
  private gapTimer: TimerHandle | null = null;
  private lastEndedAt = Number.NEGATIVE_INFINITY;
  /** Aborts the request in flight when the link closes. */
  private closing = new AbortController();
  private open_ = false;
  /** Requests sent, answers (any HTTP status) and silences, for diagnostics and tests. */
  readonly stats = { requests: 0, answered: 0, silent: 0 };
  /** Deadline of one request (ms), unless the request sets its own. */
  readonly timeoutMs: number;
  /** Longest a busy device may go without answering anything: one request's deadline after the gap before it (ms). */
  get longestSilenceMs(): number {
    return this.timeoutMs + (this.o.minGapMs ?? 0);
  }
  /** Clock time of the last HTTP answer of any status. */
  lastAnsweredAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: HttpLinkOptions) {
    super(o);
    this.timeoutMs = o.timeoutMs;
    try {
      this.base = new URL(o.baseUrl);
    } catch {
      throw new DeviceError(`not a URL: ${JSON.stringify(o.baseUrl)}`, 'DEVICE_ERROR');
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new DeviceError(`${this.base.protocol} URLs are not HTTP`, 'DEVICE_ERROR');
    }
  }

  /** Origin only: paths and queries may hold tokens and are never shown. */
  describe(): string {
    return this.base.origin;
  }

  /** HTTP has no byte stream: use `request`. */
  write(): void {
    throw new Error(`${this.describe()}: an HTTP link carries requests, not bytes (use request())`);
  }

  /** Nothing to open: the device's first answer (the lifecycle's handshake) shows it is there. */
  protected async open(): Promise<void> {
    this.closing = new AbortController();
    this.open_ = true;
  }

  /** Aborts the request in flight and refuses those waiting. */
  protected async close(): Promise<void> {
    this.open_ = false;
    this.closing.abort(new DeviceError(`link closed`, 'DEVICE_OFFLINE'));
    this.clock.clearTimeout(this.gapTimer);
    this.gapTimer = null;
    for (const w of this.queue.splice(0)) w.reject(new DeviceError(`link closed`, 'DEVICE_OFFLINE'));
  }

  /** Requests waiting behind the one in flight. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * One request, after those queued before it. Resolves with an accepted answer; rejects with
   * `HttpAnsweredError` (the device answered with an error) or a silence (`isSilence`).
   */
  request(path: string, r: HttpLinkRequest = {}): Promise<HttpResponse> {
    if (!this.open_) {
      return Promise.reject(new DeviceError(`not connected`, 'DEVICE_OFFLINE'));
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      const w: Waiting = {
        run: () => this.exchange(path, r).then(resolve, reject),
        reject,
      };
      this.queue.push(w);
      r.signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(w);
          if (i >= 0) {
            this.queue.splice(i, 1);
            reject(new DeviceError(`request cancelled before it was sent`, 'DEVICE_ERROR'));
          }
        },
        { once: true },
      );
      this.pump();
    });
  }

  /** A GET whose 2xx body must be JSON; a body that is not is an answered error, not silence. */
  async json(path: string, r: HttpLinkRequest = {}): Promise<unknown> {
    const res = await this.request(path, { ...r, headers: { accept: 'application/json', ...r.headers } });
    try {
      return res.json();
    } catch (e) {
      throw new HttpAnsweredError(`answered HTTP ${res.status} with a body that is not JSON (${errorMessage(e)})`, res.status);
    }
  }

  private pump(): void {
    if (this.busy || this.gapTimer || this.queue.length === 0) return;
    const wait = this.lastEndedAt + (this.o.minGapMs ?? 0) - this.clock.now();
    if (wait > 0) {
      this.gapTimer = this.clock.setTimeout(() => {
        this.gapTimer = null;
        this.pump();
      }, wait);
      return;
    }
    const w = this.queue.shift()!;
    this.busy = true;
    void w.run().finally(() => {
      this.busy = false;
      this.lastEndedAt = this.clock.now();
      this.pump();
    });
  }

  private async exchange(path: string, r: HttpLinkRequest): Promise<HttpResponse> {
    const url = new URL(path, this.base);
    const timeoutMs = r.timeoutMs ?? this.o.timeoutMs;
    const opts: HttpRequestOptions = {
      method: r.method ?? 'GET',
      headers: { ...this.o.headers, ...r.headers },
      body: r.body,
      timeoutMs,
      signal: [r.signal, this.closing.signal],
      redirect: this.o.redirect ?? 'error',
      maxBytes: this.o.maxBytes,
    };
    this.stats.requests++;
    let res: HttpResponse;
    try {
      res = await httpRequest(url, opts);
    } catch (e) {
      throw this.classify(e, timeoutMs);
    }
    this.stats.answered++;
    this.lastAnsweredAt = this.clock.now();
    this.emit('answered');
    const accept = r.accept ?? ((s: number) => s >= 200 && s < 300);
    if (!accept(res.status)) throw new HttpAnsweredError(`answered HTTP ${res.status}`, res.status);
    return res;
  }

  private classify(e: unknown, timeoutMs: number): Error {
    if (e instanceof DeviceError) return e;
    if (!(e instanceof HttpError)) return new DeviceError(`${errorMessage(e)}`, 'DEVICE_ERROR');
    switch (e.kind) {
      case 'timeout':
        this.stats.silent++;
        return new DeviceError(`no answer within ${timeoutMs} ms`, 'DEVICE_TIMEOUT');
      case 'network':
        this.stats.silent++;
        return new DeviceError(`${e.message}`, 'DEVICE_OFFLINE');
      case 'aborted':
        if (this.closing.signal.aborted) return new DeviceError(`link closed`, 'DEVICE_OFFLINE');
        return new DeviceError(`request cancelled`, 'DEVICE_ERROR');
      case 'too_large':
      case 'redirect':
        // The server answered, with something we will not take.
        this.stats.answered++;
        this.lastAnsweredAt = this.clock.now();
        this.emit('answered');
        return new HttpAnsweredError(`${e.message}`, null);
      default:
        return new DeviceError(`${e.message}`, 'DEVICE_ERROR');
    }
  }
}

/** What an HTTP driver supplies; `connectHttp` turns it into the lifecycle's hooks. */
export interface HttpPollHooks {
  /** The first request(s) after connect (a token, a first read); default: one `poll`. Resolves with the `online` message. */
  handshake?(signal: AbortSignal): Promise<string | undefined>;
  /** One poll through the link; resolves (optionally with a status message) when the answer was good. */
  poll(): Promise<string | undefined>;
  /** Time from the start of one poll to the start of the next (ms): the driver's own config key. */
  pollIntervalMs: number;
  /** Longest the device may stay silent after a poll started (ms); default the link's request deadline plus its minimum gap. */
  pollTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** The connection ended: drop per-connection state (a token, a session). */
  onDown?(reason: string): void;
}

/**
 * Puts an HTTP device under the host's lifecycle (`ctx.connect`): online once
 * the handshake got a good answer, a poll every `pollIntervalMs`.
 * - Silence (timeout, refused, unreachable) fails the handshake or the probe:
 *   `offline` with the reason, reconnect with the lifecycle's backoff.
 * - An answered error in the handshake: 401/403 is `auth_failure`, 404/410 is
 *   `bad_config` (both retried at the longest interval; a wrong URL or password
 *   will not heal sooner); any other (5xx, a body the driver cannot read) is
 *   `error` with what the device answered — reachable, not serving — and the
 *   attempt is retried on the reconnect backoff like a silent one.
 * - An answered error in a poll keeps the connection: status `error` with what
 *   the device said, back to `online` at the next good answer.
 * - A `ConfigFault` from the handshake or a poll ends the connection with its
 *   status (`auth_failure`, `bad_config`) and retry schedule.
 */
export function connectHttp(
  connect: (link: Link, hooks: ConnectionHooks) => DeviceConnection,
  link: HttpLink,
  h: HttpPollHooks,
): DeviceConnection {
  let inError = false;
  const conn: DeviceConnection = connect(link, {
    handshakeTimeoutMs: h.handshakeTimeoutMs,
    probeIntervalMs: h.pollIntervalMs,
    probeTimeoutMs: h.pollTimeoutMs ?? link.longestSilenceMs,
    async handshake({ signal }) {
      inError = false;
      try {
        return await (h.handshake ? h.handshake(signal) : h.poll());
      } catch (e) {
        if (e instanceof HttpAnsweredError && (e.status === 401 || e.status === 403))
          throw new ConfigFault(e.message, 'auth_failure');
        if (e instanceof HttpAnsweredError && (e.status === 404 || e.status === 410))
          throw new ConfigFault(e.message, 'bad_config');
        // The device is there and said no (5xx, a body it cannot have meant): `error`, not `offline`.
        if (!(e instanceof ConfigFault) && !isSilence(e)) throw new AnsweredFault(errorMessage(e));
        throw e;
      }
    },
    async probe() {
      try {
        const message = await h.poll();
        if (inError || message) conn.condition('online', message ?? `${link.describe()} answers again`);
        inError = false;
      } catch (e) {
        // A config fault the poll found (credentials revoked meanwhile) ends the connection with its own status and schedule.
        if (e instanceof ConfigFault) {
          conn.fault(e.message, e.status, e.retry);
          return;
        }
        // Only silence ends the connection; anything the device answered (a status, an unreadable body) is reported.
        if (isSilence(e)) throw e;
        inError = true;
        conn.condition('error', `${link.describe()}: ${errorMessage(e)}`);
      }
    },
    onDown: h.onDown,
  });
  return conn;
}
