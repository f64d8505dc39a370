// The API warm-up (src/api/warm-up.ts): before `room-agent ready` the agent
// calls its own WebSocket API over loopback, and leaves nothing behind: no
// connection, no audit row, no usable token, nothing in the log but one line.
// What it buys is measured, not asserted (docs/performance.md, "API warm-up").
import net from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenAuth } from '../src/api/auth.js';
import { apiUrl, WARM_UP_CLIENT, warmUpApi, warmUpBeforeReady } from '../src/api/warm-up.js';
import { RpcTestClient, startTestAgent, type TestAgent, TOKENS, wsClientCount } from './support/agent.js';
import { freePort } from './video-helpers.js';
import { startLoggedAgent } from './support/logged-agent.js';

/** The warm-up needs no device; a room with none starts fastest. */
const NO_DEVICES = '';

let running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running) await r.stop();
  running = [];
});

/** Lines of a pino JSON log whose msg is `msg`. */
function lines(log: string, msg: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe('API warm-up at start', () => {
  it('runs before ready by default, says what it did in one line, and leaves no connection or audit row', async () => {
    const a = await startLoggedAgent(NO_DEVICES, { level: 'debug' });
    running.push(a);
    const log = a.log();
    const [warmed] = lines(log, 'API warmed up');
    expect(warmed).toBeDefined();
    // Every request answered, or warm_up_max_ms (250) ended it on a slow machine: both are a warm-up.
    expect(warmed.ended_by === 'count' ? warmed.requests === 1000 : (warmed.requests as number) > 0).toBe(true);
    expect(log.indexOf('"API warmed up"')).toBeLessThan(log.indexOf('"room-agent ready"'));
    expect(lines(log, 'API warm-up failed; the agent starts without it')).toEqual([]);
    // Nothing of its own in the log: no request line, no client name, no token.
    expect(log).not.toContain(WARM_UP_CLIENT);
    expect(log).not.toMatch(/Bearer|authorization/i);

    expect(await wsClientCount(a.url)).toBe(0);
    const t = await RpcTestClient.open(`${a.url.replace('http', 'ws')}/ws?token=${TOKENS.admin}`);
    const rows = await t.call<unknown[]>('audit.list', {});
    expect(rows).toEqual([]);
    t.close();
  });

  it('does not run with [api] warm_up_requests = 0', async () => {
    const a = await startLoggedAgent(`[api]\nwarm_up_requests = 0\n${NO_DEVICES}`, { level: 'debug' });
    running.push(a);
    expect(lines(a.log(), 'API warmed up')).toEqual([]);
    expect(a.log()).toContain('"room-agent ready"');
  });

  it('ends at warm_up_max_ms whatever warm_up_requests says, and the agent starts', async () => {
    const a = await startLoggedAgent(`[api]\nwarm_up_requests = 100000\nwarm_up_max_ms = 30\n${NO_DEVICES}`, { level: 'info' });
    running.push(a);
    const [warmed] = lines(a.log(), 'API warmed up');
    // 100,000 calls cannot be answered in 30 ms; the line may be missing only if not one was.
    if (warmed) {
      expect(warmed.ended_by).toBe('time');
      expect(warmed.requests as number).toBeLessThan(100_000);
    }
    expect(a.log()).toContain('"room-agent ready"');
  });
});

describe('warmUpApi', () => {
  let t: TestAgent;
  afterEach(async () => {
    await t?.stop();
  });

  it('answers the count it was asked for, then its token is refused', async () => {
    t = await startTestAgent(NO_DEVICES, {});
    const auth = t.agent.ctx.auth;
    const grant = auth.grantTemporary.bind(auth);
    let token = '';
    auth.grantTemporary = (p) => {
      const g = grant(p);
      token = g.token;
      return g;
    };
    const address = addressOf(t.url);
    const r = await warmUpApi({ address, auth, requests: 25, maxMs: 10_000 });
    expect(r).toMatchObject({ answered: 25, endedBy: 'count' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.check(token)).toBeNull();
    // The API refuses it too, as any unknown token: 4401.
    const refused = await closeCodeOf(`${t.url.replace('http', 'ws')}/ws?token=${token}`);
    expect(refused).toBe(4401);
  });

  it('fails with the reason when nothing listens, and the start step only warns', async () => {
    const port = await freePort(); // nothing listens there any more
    const auth = new TokenAuth([]);
    await expect(
      warmUpApi({ address: { address: '127.0.0.1', family: 'IPv4', port }, auth, requests: 5, maxMs: 5000 }),
    ).rejects.toThrow(/API warm-up: .*ECONNREFUSED/);
    const logged: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => logged.push(JSON.parse(l)) });
    const server = { address: () => ({ address: '127.0.0.1', family: 'IPv4', port }) };
    await warmUpBeforeReady(server, auth, { warm_up_requests: 5, warm_up_max_ms: 5000 }, logger);
    expect(logged).toMatchObject([{ level: 40, msg: 'API warm-up failed; the agent starts without it' }]);
    expect(String(logged[0].err)).toContain('ECONNREFUSED');
  });
});

describe('warmUpBeforeReady', () => {
  it('warns when the listener takes the connection but never answers within warm_up_max_ms', async () => {
    // A TCP listener that accepts and says nothing: the upgrade never completes.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const held: net.Socket[] = [];
    silent.on('connection', (c) => held.push(c));
    try {
      const logged: Record<string, unknown>[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => logged.push(JSON.parse(l)) });
      await warmUpBeforeReady(silent, new TokenAuth([]), { warm_up_requests: 5, warm_up_max_ms: 100 }, logger);
      expect(logged).toMatchObject([{ level: 40, msg: 'API warm-up failed; the agent starts without it' }]);
      expect(String(logged[0].err)).toMatch(
        /no answer from ws:\/\/127\.0\.0\.1:\d+\/ws within \[api\] warm_up_max_ms \(100 ms\)/,
      );
    } finally {
      for (const c of held) c.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('TokenAuth.grantTemporary', () => {
  it('is accepted until revoked, survives a reload of the config tokens, and is never the same twice', () => {
    const auth = new TokenAuth([{ name: 'ops', role: 'operator', token: TOKENS.operator }]);
    const a = auth.grantTemporary({ name: 'mine', role: 'viewer' });
    const b = auth.grantTemporary({ name: 'mine', role: 'viewer' });
    expect(a.token).not.toBe(b.token);
    const p = auth.check(a.token);
    expect(p).toEqual({ name: 'mine', role: 'viewer' });
    auth.replace([{ name: 'ops2', role: 'admin', token: TOKENS.admin }]);
    expect(auth.check(a.token)).toBe(p);
    expect(auth.isCurrent(p as NonNullable<typeof p>)).toBe(true);
    a.revoke();
    expect(auth.check(a.token)).toBeNull();
    expect(auth.isCurrent(p as NonNullable<typeof p>)).toBe(false);
    expect(auth.check(b.token)).toEqual({ name: 'mine', role: 'viewer' });
    expect(auth.check(TOKENS.admin)).toEqual({ name: 'ops2', role: 'admin' });
  });
});

describe('apiUrl', () => {
  it('calls a wildcard listener on IPv4 loopback and brackets an IPv6 address', () => {
    expect(apiUrl({ address: '0.0.0.0', family: 'IPv4', port: 8080 })).toBe('ws://127.0.0.1:8080/ws');
    expect(apiUrl({ address: '::', family: 'IPv6', port: 8080 })).toBe('ws://127.0.0.1:8080/ws');
    expect(apiUrl({ address: '::1', family: 'IPv6', port: 9 })).toBe('ws://[::1]:9/ws');
    expect(apiUrl({ address: '192.168.1.20', family: 'IPv4', port: 80 })).toBe('ws://192.168.1.20:80/ws');
  });
});

function addressOf(url: string): net.AddressInfo {
  const u = new URL(url);
  return { address: u.hostname, family: 'IPv4', port: Number(u.port) };
}

async function closeCodeOf(url: string): Promise<number> {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once('close', (code) => resolve(code));
    ws.once('error', reject);
  });
}
