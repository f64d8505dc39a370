// The API warm-up: before the agent says ready, it calls its own WebSocket API
// over loopback the way a Coordinator does, so that V8 has compiled the request
// path by the time the first operator's call arrives (docs/performance.md,
// "API warm-up"; the keys are [api] warm_up_requests and warm_up_max_ms).
//
// Why it is needed: V8 runs a function interpreted until it has been called a
// few hundred times, then compiles it optimised on a background thread. The
// path of one call (the TCP read, the ws library's frame parser and sender,
// JSON-RPC dispatch, params validation, the reply) is a few hundred functions;
// without a warm-up they all cross those thresholds during the first 1,000
// calls after a boot, and the calls where they do wait for the compilers. The
// compile cache (src/launcher.ts) cannot help: it keeps the code compiled at
// load, not what V8 optimises later from how the code runs.
//
// It changes nothing: the requests are `system.info`, which reads. No audit
// row, metric, event or log line comes from them; the connection's token is
// made here, held only in this function and revoked when it ends.
import type { AddressInfo, Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { errorMessage } from '../util/errors.js';
import type { TokenAuth } from './auth.js';
import type { ApiSection } from './config.js';

export interface WarmUpOptions {
  /** Where the API listens (the HTTP server's address()); a wildcard address is called on loopback. */
  address: AddressInfo;
  auth: TokenAuth;
  /** Requests to send, one at a time ([api] warm_up_requests). */
  requests: number;
  /** It ends here whatever `requests` says ([api] warm_up_max_ms). */
  maxMs: number;
}

export interface WarmUpResult {
  /** Requests answered. */
  answered: number;
  ms: number;
  /** `time`: warm_up_max_ms ended it before warm_up_requests were answered (after one at least). */
  endedBy: 'count' | 'time';
}

/** How long the end of the warm-up waits for the agent's side of the closing handshake. */
const CLOSE_WAIT_MS = 200;

/** The principal of the warm-up's connection (role viewer: system.info is all it may call). */
export const WARM_UP_CLIENT = 'agent-warm-up';

/** Runs the warm-up; rejects (with the reason, never the token) when the API could not be called. */
export function warmUpApi(o: WarmUpOptions): Promise<WarmUpResult> {
  const started = performance.now();
  if (o.requests <= 0 || o.maxMs <= 0) return Promise.resolve({ answered: 0, ms: 0, endedBy: 'count' });
  const grant = o.auth.grantTemporary({ name: WARM_UP_CLIENT, role: 'viewer' });
  const url = apiUrl(o.address);
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${grant.token}` },
    perMessageDeflate: false,
  });
  return new Promise<WarmUpResult>((resolve, reject) => {
    let answered = 0;
    let ended = false;
    const end = (outcome: { endedBy: WarmUpResult['endedBy'] } | { error: string }) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      grant.revoke();
      ws.removeAllListeners();
      ws.on('error', () => {}); // a late socket error has nobody left to tell
      const settle = () => {
        if ('error' in outcome) reject(new Error(`API warm-up: ${outcome.error}`));
        else resolve({ answered, ms: performance.now() - started, endedBy: outcome.endedBy });
      };
      if (ws.readyState !== ws.OPEN) {
        ws.terminate();
        settle();
        return;
      }
      // A closing handshake, so the agent has let go of the connection before it says ready.
      const closed = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
      ws.once('close', () => {
        clearTimeout(closed);
        settle();
      });
      ws.close(1000, 'warm-up done');
    };
    // The time bound ends a warm-up that has run; one that got no answer at all has failed.
    const timer = setTimeout(() => {
      if (answered > 0) end({ endedBy: 'time' });
      else end({ error: `no answer from ${url} within [api] warm_up_max_ms (${o.maxMs} ms)` });
    }, o.maxMs);
    const next = () => {
      if (answered >= o.requests) end({ endedBy: 'count' });
      else ws.send(`{"jsonrpc":"2.0","id":${answered},"method":"system.info"}`);
    };
    ws.on('open', next);
    ws.on('message', (data) => {
      const reply = parseReply(String(data));
      if (reply.error !== undefined) return end({ error: `system.info was refused: ${reply.error}` });
      answered++;
      next();
    });
    ws.on('unexpected-response', (_req, res) => end({ error: `the API answered the upgrade with HTTP ${res.statusCode}` }));
    ws.on('error', (e) => end({ error: e.message }));
    ws.on('close', (code) => end({ error: `the API closed the connection (${code})` }));
  });
}

/**
 * The start's step before `room-agent ready`: the warm-up as [api] configures it, one info line with
 * what it did. It never fails the start: a warm-up that could not run is a warning.
 */
export async function warmUpBeforeReady(
  server: Pick<Server, 'address'>,
  auth: TokenAuth,
  limits: Pick<ApiSection, 'warm_up_requests' | 'warm_up_max_ms'>,
  logger: Logger,
): Promise<void> {
  const address = server.address();
  if (!address || typeof address === 'string') return;
  try {
    const r = await warmUpApi({ address, auth, requests: limits.warm_up_requests, maxMs: limits.warm_up_max_ms });
    if (r.answered > 0) logger.info({ requests: r.answered, ms: Math.round(r.ms), ended_by: r.endedBy }, 'API warmed up');
  } catch (e) {
    logger.warn({ err: errorMessage(e) }, 'API warm-up failed; the agent starts without it');
  }
}

/** ws://host:port/ws for the listener's address; 0.0.0.0 and :: (every interface) are called on 127.0.0.1. */
export function apiUrl(a: AddressInfo): string {
  const wildcard = a.address === '0.0.0.0' || a.address === '::';
  const host = wildcard ? '127.0.0.1' : a.address;
  return `ws://${host.includes(':') ? `[${host}]` : host}:${a.port}/ws`;
}

function parseReply(text: string): { error?: string } {
  try {
    const m = JSON.parse(text) as { result?: unknown; error?: { message?: unknown } };
    if (m.error) return { error: String(m.error.message ?? 'error') };
    if (m.result === undefined) return { error: 'a reply without a result' };
    return {};
  } catch {
    return { error: 'a reply that is not JSON' };
  }
}
