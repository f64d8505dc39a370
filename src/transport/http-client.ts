// Small HTTP(S) client on node:http/node:https for the agent's own requests
// (calendar servers, go2rtc's API, webhooks).
//
// Why not the global fetch: Node's fetch is undici, which the agent would load
// only for these few requests, and it costs ~13 MB of resident memory (its
// JS, WHATWG streams, the llhttp WebAssembly module) — a sixth of the room
// PC's budget. node:http is already loaded for the API server and uses the
// native parser. See docs/architecture.md "Memory: what the agent leaves out".
//
// What it keeps from fetch: one deadline for connect + headers + body,
// AbortSignal, gzip/deflate/br bodies, redirects (followed or refused), the
// default keep-alive agent. Added: a body size cap, and one retry of an
// idempotent request whose reused keep-alive socket was closed by the server.
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

export type HttpErrorKind = 'timeout' | 'aborted' | 'network' | 'too_large' | 'redirect' | 'bad_url' | 'bad_request';

/** A request that produced no usable response. Messages never contain a URL's path or query. */
export class HttpError extends Error {
  constructor(
    readonly kind: HttpErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Deadline for the whole exchange, body included. */
  timeoutMs: number;
  /** Aborts the request; several (say the caller's and the driver's stop signal) abort it when any does. */
  signal?: AbortSignal | readonly (AbortSignal | undefined)[];
  /** 'follow' (default, at most 5 hops) or 'error' (a 3xx is an HttpError). */
  redirect?: 'follow' | 'error';
  /** Largest body accepted, after decompression. Default 64 MiB. */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Final URL after redirects. */
  url: URL;
  /** Body as UTF-8, without a leading byte order mark (as fetch's text()). */
  text(): string;
  /** Parsed body; throws SyntaxError on invalid JSON. */
  json(): unknown;
  header(name: string): string | undefined;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** One request of the redirect chain; httpRequest rewrites it between hops. */
interface Hop {
  target: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

/** What every hop shares: the one deadline, the abort signals and the limits. */
interface Exchange {
  deadline: number;
  timeoutMs: number;
  signals: AbortSignal[];
  maxBytes: number;
}

export async function httpRequest(url: string | URL, opts: HttpRequestOptions): Promise<HttpResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new HttpError('bad_url', 'not a valid URL');
  }
  const x: Exchange = {
    deadline: Date.now() + opts.timeoutMs,
    timeoutMs: opts.timeoutMs,
    signals: (Array.isArray(opts.signal) ? opts.signal : [opts.signal]).filter((g): g is AbortSignal => g !== undefined),
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
  };
  const hop: Hop = { target, method: (opts.method ?? 'GET').toUpperCase(), headers: {}, body: opts.body };
  const headers = hop.headers;
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['accept-encoding'] ??= 'gzip, deflate, br';
  for (let n = 0; ; n++) {
    const res = await exchangeWithRetry(hop, x);
    const location = res.headers.location;
    // Only the redirect codes fetch follows; 300, 304, 305 and 306 are answers.
    if (!REDIRECTS.has(res.status) || !location) return res;
    let next: URL;
    try {
      next = new URL(location, hop.target);
    } catch {
      // Not quoted: a Location may carry secrets too.
      throw new HttpError('redirect', `redirected (HTTP ${res.status}) to an invalid URL`);
    }
    if (opts.redirect === 'error') {
      // Origin only: paths and queries may carry secrets (published calendar
      // links, TrueConf API v3 tokens).
      throw new HttpError('redirect', `redirected (HTTP ${res.status}) to ${next.origin}`);
    }
    if (n >= MAX_REDIRECTS) throw new HttpError('redirect', `more than ${MAX_REDIRECTS} redirects`);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HttpError('redirect', `redirected to unsupported scheme ${next.protocol}`);
    }
    // Credentials stay with the origin they were meant for.
    if (next.origin !== hop.target.origin) {
      delete headers.authorization;
      delete headers.cookie;
    }
    // As fetch: 303 turns anything but GET/HEAD into GET, 301/302 only a POST.
    if (
      (res.status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') ||
      ((res.status === 301 || res.status === 302) && hop.method === 'POST')
    ) {
      hop.method = 'GET';
      hop.body = undefined;
      delete headers['content-type'];
      delete headers['content-length'];
    }
    hop.target = next;
  }
}

async function exchangeWithRetry(hop: Hop, x: Exchange): Promise<HttpResponse> {
  try {
    return await exchange(hop, x);
  } catch (e) {
    // A keep-alive socket the server closed while idle fails at once; Node's
    // docs recommend retrying such a request when it is safe to repeat.
    if (!(e instanceof StaleSocketError)) throw e;
    if (!IDEMPOTENT.has(hop.method)) throw e.cause;
  }
  // Once: the retry may take another stale socket from the pool, and that
  // failure is the caller's (as an HttpError, never the internal wrapper).
  try {
    return await exchange(hop, x);
  } catch (e) {
    throw e instanceof StaleSocketError ? e.cause : e;
  }
}

class StaleSocketError extends Error {
  constructor(override readonly cause: HttpError) {
    super(cause.message);
  }
}

function exchange({ target, method, headers, body }: Hop, x: Exchange): Promise<HttpResponse> {
  const lib = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
  if (!lib) return Promise.reject(new HttpError('bad_url', `unsupported scheme ${target.protocol}`));
  const { maxBytes, signals } = x;
  const remaining = x.deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new HttpError('timeout', `no answer within ${x.timeoutMs} ms`));
  if (signals.some((g) => g.aborted)) return Promise.reject(new HttpError('aborted', 'aborted'));

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const g of signals) g.removeEventListener('abort', onAbort);
      if (err) {
        req?.destroy();
        reject(err);
      } else resolve(res!);
    };
    const onAbort = () => finish(new HttpError('aborted', 'aborted'));
    const timer = setTimeout(() => finish(new HttpError('timeout', `no answer within ${x.timeoutMs} ms`)), remaining);
    for (const g of signals) g.addEventListener('abort', onAbort, { once: true });

    const sendHeaders = { ...headers };
    if (body !== undefined) sendHeaders['content-length'] = String(Buffer.byteLength(body));
    let req: http.ClientRequest | undefined;
    try {
      req = lib.request(target, { method, headers: sendHeaders });
    } catch (e) {
      // Node validates method and headers synchronously (a header value with
      // characters outside Latin-1, say). Its messages name the header, not its value.
      finish(new HttpError('bad_request', `cannot send the request: ${(e as Error).message}`));
      return;
    }
    req.on('error', (e: NodeJS.ErrnoException) => {
      const err = new HttpError('network', e.message);
      finish(req?.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') ? new StaleSocketError(err) : err);
    });
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (declared > maxBytes) {
        finish(new HttpError('too_large', `body of ${declared} bytes is larger than ${maxBytes}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) finish(new HttpError('too_large', `body is larger than ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('error', (e) => finish(new HttpError('network', e.message)));
      res.on('aborted', () => finish(new HttpError('network', 'connection closed before the body ended')));
      res.on('end', () => {
        if (settled) return;
        let raw: Buffer = Buffer.concat(chunks, size);
        try {
          raw = decode(raw, res.headers['content-encoding'], maxBytes);
        } catch (e) {
          const tooLarge = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
          finish(
            tooLarge
              ? new HttpError('too_large', `body is larger than ${maxBytes} bytes`)
              : new HttpError('network', `cannot decode ${res.headers['content-encoding']} body: ${(e as Error).message}`),
          );
          return;
        }
        finish(null, makeResponse(res.statusCode ?? 0, res.headers, raw, target));
      });
    });
    req.end(body);
  });
}

function decode(raw: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (!encoding || raw.length === 0) return raw;
  const enc = encoding.trim().toLowerCase();
  // maxOutputLength bounds a small compressed body that inflates to gigabytes.
  const o = { maxOutputLength: maxBytes };
  if (enc === 'gzip' || enc === 'x-gzip') return zlib.gunzipSync(raw, { ...o, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  if (enc === 'deflate') {
    // Some servers send raw deflate without the zlib wrapper the name promises.
    try {
      return zlib.inflateSync(raw, o);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw e;
      return zlib.inflateRawSync(raw, o);
    }
  }
  if (enc === 'br') return zlib.brotliDecompressSync(raw, o);
  if (enc === 'identity') return raw;
  throw new Error('unsupported content-encoding');
}

function makeResponse(status: number, headers: http.IncomingHttpHeaders, body: Buffer, url: URL): HttpResponse {
  // Like fetch's text() (WHATWG "UTF-8 decode"): a leading byte order mark is
  // dropped. ical.js and JSON.parse both fail on one.
  const text = () => {
    const s = body.toString('utf8');
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  };
  return {
    status,
    headers,
    body,
    url,
    text,
    json: () => JSON.parse(text()),
    header: (name) => {
      const v = headers[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}
