// RoomAgentClient against a real agent whose [api] limits are small: each
// limit's answer (close codes 4408, 1009, 1007; errors 4413, 4429) reaches the
// application as its own typed error, and the client reconnects only when the
// agent closed the socket (docs/client.md, "Limits").
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLIENT_ERROR_CODES, ERROR_CODES, RoomAgentClient, RpcError, type TopicEvent } from '../src/client/index.js';
import type { WebSocketConstructor } from '../src/client/client.js';
import { until } from './console-helpers.js';
import { startTestAgent, type TestAgent, TOKENS, wsClientCount } from './support/agent.js';
import { lineDriver } from './support/line-driver.js';

const DEVICE = '[devices.dev1]\ndriver = "line-test"\nsimulated = true\ntimeout_ms = 5000\n';

/** The `ws` package, remembering each socket so a test can stop reading it or send what a broken client would. */
class TestSocket extends WebSocket {
  static last: TestSocket | null = null;
  /** Rewrites an outgoing text before it is sent (a client with a broken encoder). */
  static rewrite: ((text: string) => string | Buffer) | null = null;
  constructor(url: string, opts?: object) {
    super(url, opts as WebSocket.ClientOptions);
    TestSocket.last = this;
  }
  override send(data: unknown): void {
    const out = TestSocket.rewrite && typeof data === 'string' ? TestSocket.rewrite(data) : data;
    // A Buffer sent as a text frame: the bytes go out as they are.
    super.send(out as string, { binary: false });
  }
  /** The TCP socket under the WebSocket (pause it to stop reading). */
  get tcp(): import('node:net').Socket {
    return (this as unknown as { _socket: import('node:net').Socket })._socket;
  }
}
const TestWs = TestSocket as unknown as WebSocketConstructor;

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof RpcError)) throw new Error(`expected an RpcError, got ${String(e)}`);
  return e;
}

let agent: TestAgent;
let client: RoomAgentClient | null = null;
beforeAll(async () => {
  agent = await startTestAgent(
    `${DEVICE}\n[api]\nmax_frame_bytes = 4096\nmax_in_flight = 2\nmax_reply_bytes = 1024\nmax_queued_bytes = 65536\n`,
    {
      drivers: [lineDriver],
    },
  );
  await until(() => agent.agent.devices.get('dev1')?.status.status === 'online', 'dev1 online');
});
afterAll(async () => {
  await agent.stop();
});
afterEach(() => {
  client?.close();
  client = null;
  TestSocket.rewrite = null;
});

async function connect(extra: Partial<ConstructorParameters<typeof RoomAgentClient>[0]> = {}): Promise<RoomAgentClient> {
  client = new RoomAgentClient({
    url: agent.url,
    token: TOKENS.operator,
    WebSocket: TestWs,
    backoff: { initialMs: 20, maxMs: 200 },
    ...extra,
  });
  await client.connect();
  return client;
}

describe('client and the agent limits', () => {
  it('knows the limits from system.info', async () => {
    const c = await connect();
    expect(c.info?.limits).toEqual({ max_frame_bytes: 4096, max_batch: 100, max_reply_bytes: 1024, max_in_flight: 2 });
  });

  it('a request over max_frame_bytes fails with MESSAGE_TOO_BIG and is not sent; the connection and other calls live on', async () => {
    const c = await connect();
    const slow = c.call('device.action', { device: 'dev1', action: 'slow', params: { ms: 300 } });
    const e = await rejection(c.call('devices.get', { device: 'x'.repeat(5000) }));
    expect(e.is('MESSAGE_TOO_BIG')).toBe(true);
    expect(e.code).toBe(1009);
    expect(e.message).toMatch(/over the agent's \[api\] max_frame_bytes \(4096\)/);
    await expect(slow).resolves.toBeTruthy();
    expect(c.state).toBe('open');
    expect((await c.call('system.info')).room_id).toBe('test-room');
  });

  it('calls beyond max_in_flight wait in the client instead of getting TOO_MANY_REQUESTS', async () => {
    const c = await connect();
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => c.call('device.action', { device: 'dev1', action: 'slow', params: { ms: 50 } })),
    );
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  });

  it('TOO_MANY_REQUESTS from the agent (client allowed more than the agent) is a typed error; the connection stays', async () => {
    const c = await connect();
    // As if the agent's limit were lowered after the client read it.
    (c.info as { limits: { max_in_flight: number } }).limits.max_in_flight = 10;
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => c.call('device.action', { device: 'dev1', action: 'slow', params: { ms: 100 } })),
    );
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as RpcError);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      expect(e.is('TOO_MANY_REQUESTS')).toBe(true);
      expect(e.code).toBe(ERROR_CODES.TOO_MANY_REQUESTS);
    }
    expect(c.state).toBe('open');
  });

  it('a reply over max_reply_bytes is REPLY_TOO_LARGE for that call only; no reconnect', async () => {
    // Six devices: their list is longer than max_reply_bytes (1024).
    const many = await startTestAgent(
      `${[1, 2, 3, 4, 5, 6].map((n) => DEVICE.replace('dev1', `dev${n}`)).join('\n')}\n[api]\nmax_reply_bytes = 1024\n`,
      { drivers: [lineDriver] },
    );
    try {
      const c = new RoomAgentClient({ url: many.url, token: TOKENS.viewer, WebSocket: TestWs });
      client = c;
      await c.connect();
      let reconnects = 0;
      c.onState((s) => {
        if (s === 'reconnecting') reconnects++;
      });
      const e = await rejection(c.call('devices.list'));
      expect(e.is('REPLY_TOO_LARGE'), `${e.code} ${e.message}`).toBe(true);
      expect(e.code).toBe(ERROR_CODES.REPLY_TOO_LARGE);
      expect(c.state).toBe('open');
      expect((await c.call('system.info')).room_id).toBe('test-room');
      expect(reconnects).toBe(0);
    } finally {
      client?.close();
      client = null;
      await many.stop();
    }
  });

  it('close 1009 (the agent limit lower than the client knew): pending calls fail MESSAGE_TOO_BIG, the client reconnects', async () => {
    const c = await connect();
    const states: string[] = [];
    c.onState((s, detail) => states.push(`${s}: ${detail}`));
    // The frame grows on the way out (padding), past what the client checked.
    TestSocket.rewrite = (text) => (text.includes('"slow"') ? `${text}${' '.repeat(5000)}` : text);
    const e = await rejection(c.call('device.action', { device: 'dev1', action: 'slow', params: { ms: 10 } }));
    TestSocket.rewrite = null;
    expect(e.is('MESSAGE_TOO_BIG')).toBe(true);
    await until(() => c.state === 'open', 'reconnected');
    expect(states.some((s) => s.startsWith('reconnecting') && s.includes('1009'))).toBe(true);
    expect((await c.call('system.info')).room_id).toBe('test-room');
  });

  it('close 1007 (a frame that is not UTF-8): pending calls fail INVALID_UTF8, the client reconnects', async () => {
    const c = await connect();
    TestSocket.rewrite = (text) =>
      text.includes('"bad-utf8"') ? Buffer.concat([Buffer.from(text), Buffer.from([0xc3, 0x28])]) : text;
    const e = await rejection(c.call('devices.get', { device: 'bad-utf8' }));
    TestSocket.rewrite = null;
    expect(e.is('INVALID_UTF8')).toBe(true);
    expect(e.code).toBe(CLIENT_ERROR_CODES.INVALID_UTF8);
    await until(() => c.state === 'open', 'reconnected');
    expect((await c.call('system.info')).room_id).toBe('test-room');
  });

  it('close 4408 (stopped reading): pending calls fail TOO_SLOW, the client reconnects and gets a fresh snapshot', async () => {
    const c = await connect();
    const snapshots: TopicEvent[] = [];
    await c.subscribe(['devices'], (ev) => {
      if (ev.snapshot) snapshots.push(ev);
    });
    expect(snapshots).toHaveLength(1);
    const first = TestSocket.last!;
    const connected = await wsClients();
    first.tcp.pause();
    // Device changes through the agent's real bus, 16 KB each, until the agent drops the client.
    const before = agent.agent.bus;
    const big = 'v'.repeat(16 * 1024);
    // A call now and then: the ones sent after the kernel's buffers filled are never answered.
    const calls: Promise<unknown>[] = [];
    for (let n = 0; n < 4000 && first.readyState === WebSocket.OPEN; n++) {
      before.publish('devices', { device: 'dev1', state: { blob: { value: big, n } } });
      if (n % 50 === 49) {
        calls.push(c.call('system.info'));
        // let the agent write and notice; the paused socket reports the close only once resumed
        await new Promise((r) => setTimeout(r, 5));
        if ((await wsClients()) < connected) break;
      }
    }
    expect(await wsClients()).toBe(connected - 1);
    first.tcp.resume();
    const outcomes = await Promise.allSettled(calls);
    const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as RpcError);
    expect(failed.length).toBeGreaterThan(0);
    for (const e of failed) {
      expect(e.is('TOO_SLOW'), e.message).toBe(true);
      expect(e.code).toBe(4408);
    }
    await until(() => c.state === 'open' && snapshots.length === 2, 'reconnected with a fresh snapshot');
  });
});

/** WebSocket clients the agent counts (the paused one leaves when it is closed with 4408). */
function wsClients(): Promise<number> {
  return wsClientCount(agent.url);
}
