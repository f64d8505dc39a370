// HTTP client for one TrueConf Server: OAuth2 password grant with the token in
// memory only, one refresh-and-retry on a rejected token, paging, timeouts.
// Messages it produces name the path, never the query (v3 carries the token there).
import type { Logger } from 'pino';
import { type HttpResponse, httpRequest } from '../../src/transport/http-client.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { errorMessage } from '../../src/util/errors.js';
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
  constructor(message: string) {
    super(message);
    this.name = 'TcsTransientError';
  }
}

/** The server answered 4xx to an API call (not found, forbidden…). */
export class TcsRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'TcsRequestError';
  }
}

export interface TcsClientOptions {
  conn: ConnectionInfo;
  api: ApiVersion;
  tokenPath: string;
  timeoutMs: number;
  pageSize: number;
  clock: Clock;
  logger: Logger;
}

/** Refresh this long before `expires_in` runs out (SERVICES.md A.2 suggests ~60 s). */
const REFRESH_MARGIN_MS = 60_000;
const MAX_PAGES = 1000;

export class TcsClient {
  // The token lives only here: never logged, never put in state or errors.
  #token: { value: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;
  private refreshTimer: TimerHandle | null = null;
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
    // Refresh ahead of expiry; very short lifetimes refresh at 80 %.
    const due = life > 2 * REFRESH_MARGIN_MS ? life - REFRESH_MARGIN_MS : life * 0.8;
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

  /** An authorised API call under /api/<ver>; one token refresh and retry on 401 / 403 accessTokenInvalid. */
  async api(method: string, path: string, query: Record<string, string> = {}, signal?: AbortSignal): Promise<unknown> {
    const full = `/api/${this.o.api.path}${path}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      const q = { ...query };
      const headers: Record<string, string> = { accept: 'application/json' };
      // Exactly one place for the token: query on v3, Bearer header on v4.
      if (this.o.api.major === 4) headers.authorization = `Bearer ${token}`;
      else q.access_token = token;
      const res = await this.send(method, full, q, headers, undefined, signal);
      if (isTokenRejected(res.status, res.json) && attempt === 0) {
        this.o.logger.info({ path: full, status: res.status }, 'token rejected; fetching a new one and retrying once');
        if (this.#token?.value === token) this.#token = null;
        continue;
      }
      if (res.status >= 500) throw new TcsTransientError(`${method} ${full}: ${restErrorMessage(res.status, res.json)}`);
      if (res.status >= 400)
        throw new TcsRequestError(`${method} ${full}: ${restErrorMessage(res.status, res.json)}`, res.status);
      if (res.json === undefined && res.status !== 204)
        throw new TcsTransientError(`${method} ${full}: response is not valid JSON`);
      return res.json;
    }
  }

  /** Every conference visible to the user, following paging; v4 narrows to [from, to) on the server. */
  async conferences(fromMs: number, toMs: number, signal?: AbortSignal): Promise<Conference[]> {
    const out: Conference[] = [];
    const size = String(this.o.pageSize);
    if (this.o.api.major === 4) {
      const range = { after: String(Math.floor(fromMs / 1000)), before: String(Math.ceil(toMs / 1000)) };
      for (let page = 1; page <= MAX_PAGES; page++) {
        const p = parseConferencePage(
          await this.api('GET', '/conferences', { ...range, page: String(page), page_size: size }, signal),
        );
        out.push(...p.conferences);
        const seen = (page - 1) * this.o.pageSize + p.rawCount;
        if (p.rawCount < this.o.pageSize || (p.total !== null && seen >= p.total)) return out;
      }
      throw new TcsTransientError(`GET /conferences: more than ${MAX_PAGES} pages`);
    }
    const seenIds = new Set<string>();
    let pageId: string | number = 0;
    for (let n = 0; n < MAX_PAGES; n++) {
      const p = parseConferencePage(await this.api('GET', '/conferences', { page_id: String(pageId), page_size: size }, signal));
      out.push(...p.conferences);
      if (p.nextPageId === null) return out;
      // A server that repeats a cursor would loop forever.
      if (seenIds.has(String(p.nextPageId))) throw new TcsTransientError(`GET /conferences: page ${p.nextPageId} repeated`);
      seenIds.add(String(pageId));
      pageId = p.nextPageId;
    }
    throw new TcsTransientError(`GET /conferences: more than ${MAX_PAGES} pages`);
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
      res = await httpRequest(url, {
        method,
        headers,
        body,
        timeoutMs: this.o.timeoutMs,
        signal: [this.stopped.signal, signal],
        redirect: 'error',
      });
    } catch (e) {
      throw new TcsTransientError(`${method} ${path}: ${errorMessage(e)}`);
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
