// The only way into go2rtc from outside: three routes on the agent's port,
// behind the agent's token (viewer or above). `src` must be one of our
// stream names — never a URL, which go2rtc would open on the fly.
import type {} from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { requireRole, type TokenAuth } from '../api/auth.js';
import { httpRequest } from '../transport/http-client.js';
import { redactUrlsInText } from './redact.js';

export interface ProxyTarget {
  /** go2rtc's API port when it is running, else null (with the reason). */
  upstream(): { port: number } | { unavailable: string };
  hasStream(name: string): boolean;
}

/** Pause go2rtc when a slow client has this much unsent data (MSE is a firehose). */
const WS_HIGH_WATER = 4 * 1024 * 1024;
const FRAME_PARAMS = ['width', 'w', 'height', 'h', 'rotate', 'cache'];

export function registerVideoProxy(
  http: FastifyInstance,
  auth: TokenAuth,
  target: ProxyTarget,
  logger: Logger,
  maxBodyBytes: number,
): void {
  const viewerOnly = requireRole(auth, 'viewer');
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    // A refusal has been sent when this returns. (Its return value is the reply,
    // a thenable: awaiting it yields undefined, so test reply.sent instead.)
    await viewerOnly(req, reply);
    if (reply.sent) return reply;
    const src = new URL(req.url, 'http://x').searchParams.get('src') ?? '';
    if (!target.hasStream(src)) return reply.code(404).send({ error: `unknown stream "${src}"` });
    const up = target.upstream();
    if ('unavailable' in up) return reply.code(503).send({ error: `video unavailable: ${up.unavailable}` });
  };

  void http.register(async (scoped) => {
    // Bodies are passed through untouched (JSON offer, WHEP SDP, form data).
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) => done(null, body));

    scoped.get('/video/ws', { websocket: true, preValidation: guard }, (client, req) => {
      const up = target.upstream();
      if ('unavailable' in up) return client.close(1013, 'video unavailable');
      const src = new URL(req.url, 'http://x').searchParams.get('src') ?? '';
      // No Origin header upstream: go2rtc's origin check passes for a same-host client (B.5).
      const upstream = new WebSocket(`ws://127.0.0.1:${up.port}/api/ws?src=${encodeURIComponent(src)}`, {
        perMessageDeflate: false,
      });
      const pending: { data: WebSocket.RawData; binary: boolean }[] = [];
      client.on('message', (data, binary) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
        else if (upstream.readyState === WebSocket.CONNECTING && pending.length < 64) pending.push({ data, binary });
      });
      upstream.on('open', () => {
        for (const p of pending.splice(0)) upstream.send(p.data, { binary: p.binary });
      });
      upstream.on('message', (raw, binary) => {
        if (client.readyState !== WebSocket.OPEN) return;
        // go2rtc's error frames can quote a source URL with its password
        // ("streams: unsupported scheme: <url>"); text frames with a URL are redacted.
        const data = binary ? raw : redactFrame(raw);
        client.send(data, { binary }, () => {
          if (client.bufferedAmount < WS_HIGH_WATER && upstream.isPaused) upstream.resume();
        });
        if (client.bufferedAmount >= WS_HIGH_WATER) upstream.pause();
      });
      const closeBoth = (code: number, reason: string) => {
        const c = code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1011;
        if (client.readyState === WebSocket.OPEN || client.readyState === WebSocket.CONNECTING) client.close(c, reason);
        if (upstream.readyState === WebSocket.OPEN) upstream.close(c === 1011 ? 1000 : c, reason);
        else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate();
      };
      upstream.on('close', (code, reason) => closeBoth(code, reason.toString()));
      upstream.on('error', (e) => {
        logger.warn({ err: e.message, src }, 'video ws upstream error');
        closeBoth(1011, 'go2rtc unreachable');
      });
      client.on('close', () => closeBoth(1000, ''));
      client.on('error', () => closeBoth(1011, ''));
    });

    scoped.post('/video/webrtc', { preValidation: guard }, async (req, reply) => {
      const src = new URL(req.url, 'http://x').searchParams.get('src') ?? '';
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const ct = req.headers['content-type'];
      const bad = offerProblem(ct, body);
      if (bad) return reply.code(400).send({ error: bad });
      return forward(reply, `/api/webrtc?src=${encodeURIComponent(src)}`, target, {
        method: 'POST',
        body,
        headers: ct ? { 'content-type': ct } : {},
      });
    });

    scoped.get('/video/frame.jpeg', { preValidation: guard }, async (req, reply) => {
      const q = new URL(req.url, 'http://x').searchParams;
      const out = new URLSearchParams({ src: q.get('src') ?? '' });
      for (const k of FRAME_PARAMS) {
        const v = q.get(k);
        if (v !== null && /^[0-9a-z.]{1,12}$/i.test(v)) out.set(k, v);
      }
      return forward(reply, `/api/frame.jpeg?${out}`, target, { method: 'GET' });
    });
  });
}

/**
 * A WebRTC offer in one of the forms go2rtc takes (go2rtc's website/api/openapi.yaml and internal/webrtc, POST
 * /api/webrtc): JSON {"type":"offer","sdp":…}, form data=<base64 SDP>, or raw
 * SDP. Checked here so a malformed offer is the client's 400, not an upstream
 * failure. Null when it looks like an offer.
 */
export function offerProblem(contentType: string | undefined, body: Buffer): string | null {
  if (body.length === 0) return 'empty body: expected a WebRTC offer (JSON {"type":"offer","sdp":…} or SDP)';
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const text = body.toString('utf8');
  if (ct === 'application/json') {
    let offer: unknown;
    try {
      offer = JSON.parse(text);
    } catch {
      return 'malformed JSON: expected {"type":"offer","sdp":"v=0…"}';
    }
    const sdp = (offer as { sdp?: unknown } | null)?.sdp;
    return typeof sdp === 'string' && sdp.startsWith('v=') ? null : 'expected {"type":"offer","sdp":"v=0…"}';
  }
  if (ct === 'application/x-www-form-urlencoded') {
    const data = new URLSearchParams(text).get('data');
    return data && /^[A-Za-z0-9+/=\s]+$/.test(data) ? null : 'expected data=<base64 SDP offer>';
  }
  return text.startsWith('v=') ? null : 'expected an SDP offer (starting "v=")';
}

async function forward(
  reply: FastifyReply,
  pathAndQuery: string,
  target: ProxyTarget,
  init: { method: string; body?: Buffer; headers?: Record<string, string> },
): Promise<FastifyReply> {
  const up = target.upstream();
  if ('unavailable' in up) return reply.code(503).send({ error: `video unavailable: ${up.unavailable}` });
  try {
    const res = await httpRequest(`http://127.0.0.1:${up.port}${pathAndQuery}`, {
      method: init.method,
      headers: init.headers,
      body: init.body && init.body.length > 0 ? init.body : undefined,
      timeoutMs: 15_000,
    });
    // An error text from go2rtc may quote a source URL: redacted like every answer.
    const buf = res.status >= 400 ? Buffer.from(redactUrlsInText(res.body.toString('utf8'))) : res.body;
    // go2rtc's own failure is a bad gateway for our client, not an internal error of ours.
    if (res.status >= 500) {
      return reply.code(502).send({ error: `go2rtc answered ${res.status}: ${buf.toString('utf8').slice(0, 200)}` });
    }
    const ct = res.header('content-type');
    if (ct) reply.header('content-type', ct);
    reply.header('cache-control', 'no-store');
    return reply.code(res.status).send(buf);
  } catch (e) {
    return reply.code(502).send({ error: `go2rtc did not answer: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/** A text frame from go2rtc with any URL in it redacted (frames without `://` pass untouched). */
function redactFrame(raw: WebSocket.RawData): WebSocket.RawData {
  const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
  if (!buf.includes('://')) return raw;
  const text = buf.toString('utf8');
  try {
    // go2rtc frames are JSON: redact inside string values, so a URL never eats the closing quote.
    return Buffer.from(JSON.stringify(redactStrings(JSON.parse(text))));
  } catch {
    return Buffer.from(redactUrlsInText(text));
  }
}

function redactStrings(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redactUrlsInText(v);
  if (depth > 32 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => redactStrings(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactStrings(x, depth + 1)]));
}
