// HTTP client for one TrueConf Server, over the device's HTTP link (one request
// at a time, timeouts, silence told apart from answers): OAuth2 password grant
// with the token in memory only, one refresh-and-retry on a rejected token,
// paging. Messages it produces name the path, never the query (v3 carries the
// token there).
import type { Logger } from 'pino';
import type { HttpResponse } from '../../src/transport/http-client.js';
import { HttpAnsweredError, type HttpLink } from '../../src/transport/http-link.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { DeviceError, errorMessage } from '../../src/util/errors.js';
import {
  type ApiVersion,
  type Conference,
  type ConnectionInfo,
  isTokenRejected,
  parseConferencePage,
  parseTokenResponse,
  restErrorMessage,
  tokenErrorReason,
} from './protocol.js';

/** The server refused our credentials; retrying will not help until config changes. */
export class TcsAuthError extends Error {
  constructor(readonly reason: string) {
    super(`TrueConf Server refused the credentials: ${reason}`);
    this.name = 'TcsAuthError';
  }
}

/** A request failed in a way worth retrying later (5xx, network, timeout, bad JSON). */
export class TcsTransientError extends Error {
  constructor(
    message: string,
    /** Set when the server did not answer at all (timeout; refused, unreachable or not connected). */
    readonly silence: 'DEVICE_TIMEOUT' | 'DEVICE_OFFLINE' | null = null,
  ) {
    super(message);
    this.name = 'TcsTransientError';
  }
}

/** The server answered 4xx to an API call (not found, forbidden…); `body` is its parsed error JSON. */
export class TcsRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown = undefined,
  ) {
    super(message);
    this.name = 'TcsRequestError';
  }
}

export interface TcsClientOptions {
  conn: ConnectionInfo;
  /** The device's HTTP link to `conn.server`; every request goes through it. */
  link: HttpLink;
  api: ApiVersion;
  tokenPath: string;
  pageSize: number;
  /** A listing that failed part-way resumes from the failed page within this long; older partial lists are dropped. */
  resumeMaxAgeMs: number;
  clock: Clock;
  logger: Logger;
}

/** Refresh this long before `expires_in` runs out (our choice: use `expires_in` and renew ~60 s early). */
const REFRESH_MARGIN_MS = 60_000;
/** However short a token's life, it is not renewed more often than this (a bad `expires_in` cannot spin). */
const MIN_REFRESH_MS = 10_000;
const MAX_PAGES = 1000;

/** How far a conference listing got: the pages read so far and the cursor of the next one. */
interface ListingProgress {
  /** The range and page size it lists; a listing of anything else starts afresh. */
  key: string;
  /** When the page failed; the next listing resumes only within `resumeMaxAgeMs` of it. */
  failedAt: number;
  /** v3: the next `page_id`; v4: the next `page` number. */
  cursor: string | number;
  pagesRead: number;
  collected: Conference[];
  /** v3 cursors already followed (a server that repeats one would loop forever). */
  seenCursors: Set<string>;
}

/** The listing itself is malformed (a repeated cursor, too many pages): resuming it cannot help. */
class ListingError extends TcsTransientError {}

export class TcsClient {
  // The token lives only here: never logged, never put in state or errors.
  #token: { value: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;
  private refreshTimer: TimerHandle | null = null;
  /** Where the last resumable listing stopped, when it failed part-way. */
  #progress: ListingProgress | null = null;
  private readonly stopped = new AbortController();

  constructor(private readonly o: TcsClientOptions) {}

  close(): void {
    this.stopped.abort(new TcsTransientError('client stopped'));
    this.o.clock.clearTimeout(this.refreshTimer);
    this.#token = null;
  }

  /** True when a token is held and not yet due for refresh. */
  get hasToken(): boolean {
    return !!this.#token && this.#token.expiresAt - REFRESH_MARGIN_MS > this.o.clock.now();
  }

  /** Returns a valid token, fetching one when none is held or it is about to expire. */
  async token(): Promise<string> {
    if (this.#token && this.hasToken) return this.#token.value;
    this.#pending ??= this.fetchToken().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  private async fetchToken(): Promise<string> {
    const { conn } = this.o;
    const body = JSON.stringify({
      grant_type: 'password',
      username: conn.user,
      password: conn.password,
      client_id: conn.clientId,
    });
    const res = await this.send('POST', this.o.tokenPath, {}, { 'content-type': 'application/json' }, body);
    if (res.status >= 500) throw new TcsTransientError(`POST ${this.o.tokenPath}: HTTP ${res.status}`);
    if (res.status !== 200) throw new TcsAuthError(tokenErrorReason(res.status, res.json));
    const t = parseTokenResponse(res.json);
    const life = t.expiresIn * 1000;
    const now = this.o.clock.now();
    this.#token = { value: t.accessToken, expiresAt: now + life };
    // Refresh ahead of expiry; very short lifetimes refresh at 80 %, never more often than MIN_REFRESH_MS.
    // A lifetime of weeks (a server setting) is a delay the clock chains past Node's 24.8-day timer limit.
    const due = Math.max(MIN_REFRESH_MS, life > 2 * REFRESH_MARGIN_MS ? life - REFRESH_MARGIN_MS : life * 0.8);
    this.o.clock.clearTimeout(this.refreshTimer);
    this.refreshTimer = this.o.clock.setTimeout(() => {
      this.#token = null;
      this.token().catch((e) =>
        this.o.logger.warn({ err: (e as Error).message }, 'token refresh failed; retrying on next request'),
      );
    }, due);
    this.o.logger.debug({ expires_in: t.expiresIn }, 'TrueConf token obtained');
    return t.accessToken;
  }

  /**
   * An authorised API call under /api/<ver>; one token refresh and retry on 401 / 403 accessTokenInvalid.
   * `body`, when given, is sent as JSON.
   */
  async api(
    method: string,
    path: string,
    query: Record<string, string> = {},
    signal?: AbortSignal,
    body?: unknown,
  ): Promise<unknown> {
    const full = `/api/${this.o.api.path}${path}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      const q = { ...query };
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      // Exactly one place for the token: query on v3, Bearer header on v4.
      if (this.o.api.major === 4) headers.authorization = `Bearer ${token}`;
      else q.access_token = token;
      const res = await this.send(method, full, q, headers, body === undefined ? undefined : JSON.stringify(body), signal);
      if (isTokenRejected(res.status, res.json)) {
        // A token the server refuses right after issuing it: the account lacks the right or the
        // server does not accept its own tokens — credentials or server config, not the network.
        if (attempt > 0)
          throw new TcsAuthError(`a fresh token was rejected too (${method} ${full}: ${restErrorMessage(res.status, res.json)})`);
        this.o.logger.info({ path: full, status: res.status }, 'token rejected; fetching a new one and retrying once');
        if (this.#token?.value === token) this.#token = null;
        continue;
      }
      if (res.status >= 500) throw new TcsTransientError(`${method} ${full}: ${restErrorMessage(res.status, res.json)}`);
      if (res.status >= 400)
        throw new TcsRequestError(`${method} ${full}: ${restErrorMessage(res.status, res.json)}`, res.status, res.json);
      // A read must carry JSON; a command's acknowledgement may be empty.
      if (res.json === undefined && res.status !== 204 && method === 'GET')
        throw new TcsTransientError(`${method} ${full}: response is not valid JSON`);
      return res.json;
    }
  }

  /** Pages a failed resumable listing has kept (0 when none): the next resumable listing starts after them. */
  get resumablePages(): number {
    return this.#progress?.pagesRead ?? 0;
  }

  /**
   * Every conference visible to the user, following paging; v4 narrows to [from, to) on the server.
   * With `resume`, a listing that fails part-way keeps the pages read so far, and the next resumable
   * listing of the same range (within `resumeMaxAgeMs` of the failure) continues from the failed page instead of page 0,
   * so a long list on a flaky server still finishes.
   */
  async conferences(fromMs: number, toMs: number, signal?: AbortSignal, opts: { resume?: boolean } = {}): Promise<Conference[]> {
    const v4 = this.o.api.major === 4;
    const size = this.o.pageSize;
    const range: Record<string, string> = v4
      ? { after: String(Math.floor(fromMs / 1000)), before: String(Math.ceil(toMs / 1000)) }
      : {};
    const key = JSON.stringify([range, size]);
    const now = this.o.clock.now();
    const kept = this.#progress;
    const resumeFrom = opts.resume && kept && kept.key === key && now - kept.failedAt <= this.o.resumeMaxAgeMs ? kept : null;
    if (opts.resume) this.#progress = null;
    const p: ListingProgress = resumeFrom ?? {
      key,
      failedAt: now,
      cursor: v4 ? 1 : 0,
      pagesRead: 0,
      collected: [],
      seenCursors: new Set(),
    };
    if (resumeFrom) this.o.logger.debug({ page: p.pagesRead + 1 }, 'resuming the conference list at the failed page');
    try {
      while (p.pagesRead < MAX_PAGES) {
        const q: Record<string, string> = v4
          ? { ...range, page: String(p.cursor), page_size: String(size) }
          : { page_id: String(p.cursor), page_size: String(size) };
        const page = parseConferencePage(await this.api('GET', '/conferences', q, signal));
        p.collected.push(...page.conferences);
        p.pagesRead++;
        if (v4) {
          const seen = (Number(p.cursor) - 1) * size + page.rawCount;
          if (page.rawCount < size || (page.total !== null && seen >= page.total)) return p.collected;
          p.cursor = Number(p.cursor) + 1;
        } else {
          if (page.nextPageId === null) return p.collected;
          if (p.seenCursors.has(String(page.nextPageId)))
            throw new ListingError(`GET /conferences: page ${page.nextPageId} repeated`);
          p.seenCursors.add(String(p.cursor));
          p.cursor = page.nextPageId;
        }
      }
      throw new ListingError(`GET /conferences: more than ${MAX_PAGES} pages`);
    } catch (e) {
      // A 4xx (say, a cursor the server no longer knows) or a malformed listing starts afresh next time.
      if (opts.resume && p.pagesRead > 0 && !(e instanceof ListingError) && !(e instanceof TcsRequestError)) {
        p.failedAt = this.o.clock.now();
        this.#progress = p;
      }
      throw e;
    }
  }

  private async send(
    method: string,
    path: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; json: unknown }> {
    const url = new URL(this.o.conn.server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    let res: HttpResponse;
    try {
      res = await this.o.link.request(url.href, {
        method,
        headers,
        body,
        signal: signal ? AbortSignal.any([this.stopped.signal, signal]) : this.stopped.signal,
        // Every status is an answer the client reads itself (token refusals, REST errors).
        accept: () => true,
      });
    } catch (e) {
      const silence =
        e instanceof DeviceError &&
        !(e instanceof HttpAnsweredError) &&
        (e.code === 'DEVICE_TIMEOUT' || e.code === 'DEVICE_OFFLINE')
          ? e.code
          : null;
      throw new TcsTransientError(`${method} ${path}: ${errorMessage(e)}`, silence);
    }
    const text = res.text();
    let json: unknown;
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.status < 400) throw new TcsTransientError(`${method} ${path}: response is not valid JSON`);
      }
    }
    return { status: res.status, json };
  }
}
