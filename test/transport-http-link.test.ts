// The poll-driven HTTP link against real loopback HTTP servers: refused,
// 5xx, slow, garbage body; one request at a time; the minimum gap on a fake
// clock (no timing assertions).
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectHttp, HttpAnsweredError, HttpLink, isSilence } from '../src/transport/http-link.js';
import { ConfigFault, connectWithoutHost, type DeviceConnection } from '../src/transport/lifecycle.js';
import { realClock } from '../src/util/clock.js';
import { FakeClock } from '../src/util/clock.js';
import { maxConnects } from './support/fault-matrix.js';
import { until } from './support/wait.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];
const links: HttpLink[] = [];

afterEach(async () => {
  for (const l of links.splice(0)) await l.stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Handler): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, server };
}

/** A port nothing listens on (bound, then closed). */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function openLink(baseUrl: string, extra: Partial<ConstructorParameters<typeof HttpLink>[0]> = {}): Promise<HttpLink> {
  const link = new HttpLink({ baseUrl, timeoutMs: 500, ...extra });
  links.push(link);
  link.start();
  await until(() => link.connected, 'link open');
  return link;
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );

describe('HttpLink', () => {
  it('refused: silence (DEVICE_OFFLINE), not an answered error', async () => {
    const link = await openLink(`http://127.0.0.1:${await refusedPort()}`);
    const r = await outcome(link.request('/status'));
    expect(r.ok).toBe(false);
    const e = (r as { e: Error }).e;
    expect(isSilence(e)).toBe(true);
    expect(e).toMatchObject({ code: 'DEVICE_OFFLINE' });
    expect(e.message).not.toContain('/status');
    expect(link.stats).toMatchObject({ requests: 1, answered: 0, silent: 1 });
  });

  it('5xx: an answered error with the status, not silence', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(503).end('maintenance');
    });
    const link = await openLink(url);
    const r = await outcome(link.request('/api/v1/status?token=secret'));
    const e = (r as { e: Error }).e;
    expect(e).toBeInstanceOf(HttpAnsweredError);
    expect(isSilence(e)).toBe(false);
    expect(e).toMatchObject({ code: 'DEVICE_ERROR', status: 503 });
    // Neither the path nor its query (tokens) appear in the message.
    expect(e.message).toBe('answered HTTP 503');
    expect(link.lastAnsweredAt).toBeGreaterThan(0);
  });

  it('a status the caller accepts is an answer (e.g. 401 for a token renewal)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(401).end();
    });
    const link = await openLink(url);
    const res = await link.request('/x', { accept: (s) => s === 401 || (s >= 200 && s < 300) });
    expect(res.status).toBe(401);
  });

  it('slow: no answer within the deadline is silence (DEVICE_TIMEOUT), and the next request still runs', async () => {
    let n = 0;
    const { url } = await serve((_req, res) => {
      if (n++ === 0) return; // never answers the first request
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const link = await openLink(url, { timeoutMs: 200 });
    const first = outcome(link.request('/slow'));
    const second = link.json('/fast');
    const r = await first;
    expect(isSilence((r as { e: Error }).e)).toBe(true);
    expect((r as { e: Error }).e).toMatchObject({ code: 'DEVICE_TIMEOUT' });
    expect(await second).toEqual({ ok: true });
  });

  it('garbage body where JSON was expected: an answered error, not silence', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('\x00\xff<html>nope');
    });
    const link = await openLink(url);
    const r = await outcome(link.json('/events'));
    const e = (r as { e: Error }).e;
    expect(e).toBeInstanceOf(HttpAnsweredError);
    expect(e.message).toMatch(/not JSON/);
    expect(isSilence(e)).toBe(false);
  });

  it('one request at a time, in order', async () => {
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const { url } = await serve((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(req.url!);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end('ok');
      }, 20);
    });
    const link = await openLink(url);
    await Promise.all(['/a', '/b', '/c', '/d'].map((p) => link.request(p)));
    expect(most).toBe(1);
    expect(order).toEqual(['/a', '/b', '/c', '/d']);
  });

  it('the minimum gap holds the next request until it has passed (fake clock)', async () => {
    const seen: string[] = [];
    const { url } = await serve((req, res) => {
      seen.push(req.url!);
      res.writeHead(200).end('ok');
    });
    const clock = new FakeClock();
    const link = await openLink(url, { minGapMs: 1000, clock });
    await link.request('/one');
    const second = link.request('/two');
    // Give a real request every chance to go out: it must not before the gap.
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['/one']);
    expect(link.waiting).toBe(1);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['/one']);
    clock.advance(1);
    await second;
    expect(seen).toEqual(['/one', '/two']);
  });

  it('closing the link fails the request in flight and those waiting as offline', async () => {
    const { url } = await serve(() => undefined); // never answers
    const link = await openLink(url, { timeoutMs: 10_000 });
    const a = outcome(link.request('/a'));
    const b = outcome(link.request('/b'));
    await link.stop();
    for (const r of [await a, await b]) {
      expect(r.ok).toBe(false);
      expect((r as { e: Error }).e).toMatchObject({ code: 'DEVICE_OFFLINE' });
    }
    await expect(link.request('/c')).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
  });

  it('a redirect is an answered error by default (credentials never follow it)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere' }).end();
    });
    const link = await openLink(url);
    const r = await outcome(link.request('/token'));
    expect((r as { e: Error }).e).toBeInstanceOf(HttpAnsweredError);
  });
});

describe('HttpLink under the device lifecycle (connectHttp): online/offline from the poll', () => {
  const conns: DeviceConnection[] = [];
  afterEach(async () => {
    for (const c of conns.splice(0)) await c.stop();
  });

  function device(baseUrl: string, poll: (link: HttpLink) => Promise<string | undefined>, pollIntervalMs = 50) {
    const statuses: { status: string; message: string }[] = [];
    const link = new HttpLink({ baseUrl, timeoutMs: 200 });
    const conn = connectHttp(
      connectWithoutHost({ clock: realClock, setStatus: (status, message) => statuses.push({ status, message }) }),
      link,
      { poll: () => poll(link), pollIntervalMs },
    );
    conns.push(conn);
    conn.start();
    const last = () => statuses.at(-1);
    return { statuses, last, link };
  }

  it('refused from boot: offline with the reason, never online', async () => {
    const d = device(`http://127.0.0.1:${await refusedPort()}`, async (l) => {
      await l.request('/status');
      return undefined;
    });
    await until(() => d.last()?.status === 'offline', 'offline');
    expect(d.last()!.message).toMatch(/ECONNREFUSED/);
    expect(d.statuses.map((s) => s.status)).not.toContain('online');
  });

  it('5xx in a poll is an answered error (status error, connection kept), back online at the next good answer', async () => {
    let mode: 'ok' | '503' = 'ok';
    let hits = 0;
    const { url } = await serve((_req, res) => {
      hits++;
      if (mode === '503') res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":1}');
    });
    const d = device(url, async (l) => {
      await l.json('/status');
      return undefined;
    });
    await until(() => d.last()?.status === 'online', 'online');
    mode = '503';
    await until(() => d.last()?.status === 'error', 'error');
    expect(d.last()!.message).toBe(`${url}: answered HTTP 503`);
    const seen = hits;
    await until(() => hits > seen + 2, 'still polling');
    expect(d.statuses.map((s) => s.status)).not.toContain('offline');
    mode = 'ok';
    await until(() => d.last()?.status === 'online', 'online again');
  });

  it('5xx or garbage from boot: error saying what was answered (reachable, not serving), never offline; retried on the backoff; online once it serves', async () => {
    let mode: '503' | 'garbage' | 'ok' = '503';
    let hits = 0;
    const { url } = await serve((_req, res) => {
      hits++;
      if (mode === '503') res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(mode === 'ok' ? '{"n":1}' : '<html>');
    });
    const started = Date.now();
    const d = device(url, async (l) => {
      await l.json('/status');
      return undefined;
    });
    await until(() => d.last()?.status === 'error', 'error');
    expect(d.last()!.message).toMatch(/handshake failed: answered HTTP 503; next attempt in/);
    mode = 'garbage';
    await until(() => /not JSON/.test(d.last()!.message), 'the garbage reported');
    expect(d.last()!.status).toBe('error');
    expect(d.statuses.map((s) => s.status)).not.toContain('offline');
    // Retried on the reconnect backoff (1 s, 2 s … ±20 %), not at the 50 ms poll interval: no more
    // attempts than that schedule allows in the real time that passed (a bound, whatever the load).
    expect(hits).toBeLessThanOrEqual(maxConnects(Date.now() - started));
    mode = 'ok';
    await until(() => d.last()?.status === 'online', 'online');
  });

  it('slow (no answer in time): offline, and online again once it answers', async () => {
    let slow = false;
    const { url } = await serve((_req, res) => {
      if (!slow) res.writeHead(200).end('ok');
    });
    const d = device(url, async (l) => {
      await l.request('/status');
      return undefined;
    });
    await until(() => d.last()?.status === 'online', 'online');
    slow = true;
    await until(() => d.last()?.status === 'offline', 'offline');
    expect(d.last()!.message).toMatch(/no answer within 200 ms/);
    slow = false;
    await until(() => d.last()?.status === 'online', 'online again');
  });

  it('a garbage body is an answered error, not offline', async () => {
    let garbage = false;
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(garbage ? '<<<garbage' : '{"ok":true}');
    });
    const d = device(url, async (l) => {
      await l.json('/status');
      return undefined;
    });
    await until(() => d.last()?.status === 'online', 'online');
    garbage = true;
    await until(() => d.last()?.status === 'error', 'error');
    expect(d.last()!.message).toMatch(/not JSON/);
  });

  it('401 at the handshake is auth_failure; 404 is bad_config', async () => {
    for (const [code, status] of [
      [401, 'auth_failure'],
      [404, 'bad_config'],
    ] as const) {
      const { url } = await serve((_req, res) => {
        res.writeHead(code).end();
      });
      const d = device(url, async (l) => {
        await l.request('/api');
        return undefined;
      });
      await until(() => d.last()?.status === status, status);
      expect(d.last()!.message).toContain(`answered HTTP ${code}`);
    }
  });
  it('a ConfigFault with its own retry schedule, from the handshake or a poll: that status, growing delays, reset once online', async () => {
    let denied = true;
    const { url } = await serve((_req, res) => {
      res.writeHead(denied ? 401 : 200).end();
    });
    const schedule = { initialMs: 100, maxMs: 400 };
    const d = device(url, async (l) => {
      const r = await l.request('/api', { accept: () => true });
      if (r.status === 401) throw new ConfigFault('login refused', 'auth_failure', schedule);
      return undefined;
    });
    const delays = () =>
      d.statuses
        .filter((x) => x.status === 'auth_failure')
        .map((x) => Number(/next attempt in (\d+) ms$/.exec(x.message)?.[1] ?? Number.NaN));
    await until(() => delays().length >= 3, 'three refused logins');
    const [a, b, c] = delays();
    // 100, 200, 400 ms, each ±20 % (the lifecycle's default would be reconnect_max_ms, 60 s).
    expect(a).toBeGreaterThanOrEqual(80);
    expect(a).toBeLessThanOrEqual(120);
    expect(b).toBeGreaterThanOrEqual(160);
    expect(b).toBeLessThanOrEqual(240);
    expect(c).toBeGreaterThanOrEqual(320);
    expect(c).toBeLessThanOrEqual(400);
    denied = false;
    await until(() => d.last()?.status === 'online', 'online');
    const before = delays().length;
    denied = true; // refused in a poll: the connection ends with the fault's status, the schedule from its start
    await until(() => delays().length > before, 'refused in a poll');
    expect(delays()[before]).toBeLessThanOrEqual(120);
  });
});
