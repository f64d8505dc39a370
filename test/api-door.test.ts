// Regression tests for the WebSocket door (issue 16): client input that used
// to crash, freeze or flood the agent gets a clear answer or a documented close.
import { Type } from '@sinclair/typebox';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiLimits } from '../src/api/config.js';
import type { FeatureFactory } from '../src/app-context.js';
import { type ConfigError, formatIssue, parseConfig } from '../src/config/load.js';
import { DriverRegistry } from '../src/host/registry.js';
import { ERROR_CODES } from '../src/util/errors.js';
import { startTestAgent, type TestAgent, TOKENS, wsClientCount } from './support/agent.js';
import { lineDriver } from './support/line-driver.js';
import { nestedObjects, openRaw } from './support/ws-raw.js';

const DEVICES = '[devices.dev1]\ndriver = "line-test"\nsimulated = true\n';

/** A feature whose one method returns what JSON cannot hold: a handler bug the send path must contain. */
const brokenReplyFeature: FeatureFactory = (ctx) => {
  ctx.rpc.method({
    name: 'test.unserializable',
    description: 'Returns a BigInt.',
    role: 'viewer',
    params: Type.Object({}),
    handler: () => ({ n: 10n }),
  });
  return null;
};

let t: TestAgent;
const logLines: { level: number; msg: string; [k: string]: unknown }[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) logLines.push(JSON.parse(l));
      done();
    },
  });
  t = await startTestAgent(DEVICES, {
    drivers: [lineDriver],
    features: [brokenReplyFeature],
    logger: pino({ level: 'debug' }, sink),
  });
});
afterAll(async () => {
  await t.stop();
});

type Reply = { id: unknown; result?: unknown; error?: { code: number; message: string } };

describe('action names from the client are looked up as own names only (finding 7)', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'device.action "%s" is ACTION_NOT_FOUND, not an internal error',
    async (action) => {
      const c = await t.connect();
      const r = await c.request('device.action', { device: 'dev1', action, params: {} });
      expect(r.error?.code).toBe(ERROR_CODES.ACTION_NOT_FOUND);
      expect(r.error?.message).toContain(`no action "${action}"`);
    },
  );
});

describe('control names from the client are looked up as own names only (Tesira, Q-SYS)', () => {
  const MIXERS = `
[devices.dsp]
driver = "tesira"
simulated = true
host = "192.0.2.12"
controls = { room-level = { instance = "RoomLevel", type = "level" } }

[devices.core]
driver = "qsys"
simulated = true
host = "192.0.2.13"
controls = { program-level = { control = "ProgramGain", type = "level" } }
`;
  let m: TestAgent;
  beforeAll(async () => {
    m = await startTestAgent(MIXERS);
    const deadline = Date.now() + 10_000;
    const online = () => m.agent.devices.list().every((d) => d.status.status === 'online');
    while (Date.now() < deadline && !online()) await new Promise((r) => setTimeout(r, 50));
  }, 20_000);
  afterAll(async () => {
    await m?.stop();
  });
  const cases = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'].flatMap((control) => [
    ['dsp', 'level', { control, db: -10 }],
    ['dsp', 'read', { control }],
    ['core', 'level', { control, db: -10 }],
    ['core', 'mute', { control, on: true }],
  ]) as [string, string, { control: string }][];
  it.each(cases)('%s %s %j is INVALID_PARAMS "unknown control"', async (device, action, params) => {
    const c = await m.connect();
    const r = await c.request('device.action', { device, action, params });
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_PARAMS);
    expect(r.error?.message).toContain(`unknown control "${params.control}"`);
  });
  it('a configured control still works', async () => {
    const c = await m.connect();
    expect(
      (await c.request('device.action', { device: 'dsp', action: 'level', params: { control: 'room-level', db: -10 } })).error,
    ).toBeUndefined();
    expect(
      (await c.request('device.action', { device: 'core', action: 'level', params: { control: 'program-level', db: -10 } }))
        .error,
    ).toBeUndefined();
  });
});

describe('nesting depth is refused before anything recursive runs (finding 7)', () => {
  it('device.action with params nested 10,000 deep gets INVALID_REQUEST naming the limit', async () => {
    const c = await openRaw(t.url, TOKENS.operator);
    const frame = `{"jsonrpc":"2.0","id":1,"method":"device.action","params":{"device":"dev1","action":"set","params":${nestedObjects(10_000)}}}`;
    const r = JSON.parse(await c.ask(frame)) as Reply;
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_REQUEST);
    expect(r.error?.message).toMatch(/nested deeper than 64 levels \(\[api\] max_json_depth\)/);
    c.ws.close();
  });
  it('params reaching the registry by another door (MQTT, internal) are checked by an iterative walk', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    const client = {
      principal: { name: 'internal', role: 'admin' as const },
      remote: '',
      topics: new Set<string>(),
      transport: 'internal' as const,
    };
    const out = await t.agent.rpc.call('device.action', { device: 'dev1', action: 'set', params: deep }, client);
    expect('error' in out && out.error.code).toBe(ERROR_CODES.INVALID_PARAMS);
    expect('error' in out && out.error.message).toMatch(/nested deeper than 64 levels/);
  });
});

describe('one frame cannot make a reply that kills the agent (finding 1)', () => {
  it('a 1 MiB array of zeros gets one short INVALID_REQUEST, not a 50 MB reply', async () => {
    const c = await openRaw(t.url, TOKENS.viewer);
    const zeros = `[${'0,'.repeat(524_000)}0]`;
    const text = await c.ask(zeros);
    expect(text.length).toBeLessThan(1000);
    const r = JSON.parse(text) as Reply;
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_REQUEST);
    expect(r.error?.message).toMatch(/batch of 524001 requests; at most 100 per batch \(\[api\] max_batch\)/);
    c.ws.close();
  });
  it('a reply JSON cannot hold is an error reply with its id; the socket keeps serving', async () => {
    const c = await openRaw(t.url, TOKENS.viewer);
    const r = JSON.parse(await c.ask('{"jsonrpc":"2.0","id":"b","method":"test.unserializable"}')) as Reply;
    expect(r).toMatchObject({ id: 'b', error: { code: ERROR_CODES.INTERNAL } });
    expect(r.error?.message).toMatch(/could not be serialized/);
    const info = JSON.parse(await c.ask('{"jsonrpc":"2.0","id":2,"method":"system.info"}')) as Reply;
    expect(info.result).toMatchObject({ room_id: 'test-room' });
    c.ws.close();
  });
});

describe('log flooding (finding 9)', () => {
  it('invalid UTF-8 and oversize frames close with 1007/1009 and log a few warn lines without stack', async () => {
    const before = logLines.length;
    const codes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const bad = await openRaw(t.url, TOKENS.viewer);
      bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
      codes.push((await bad.closed).code);
      const big = await openRaw(t.url, TOKENS.viewer);
      big.ws.send('x'.repeat(1024 * 1024 + 1));
      codes.push((await big.closed).code);
    }
    expect(new Set(codes)).toEqual(new Set([1007, 1009]));
    await new Promise((r) => setImmediate(r));
    const lines = logLines.slice(before).filter((l) => l.level >= 40);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(10); // 5 per kind per minute
    expect(lines.every((l) => l.level === 40)).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/stack|\n\s+at /);
  });
});

describe('WebSocket protocol errors close with 1002 (docs/api.md close codes)', () => {
  it.each([
    ['a reserved opcode', [0x83, 0x80, 0, 0, 0, 0]],
    ['an unmasked client frame', [0x81, 0x01, 0x61]],
    ['a fragmented control frame', [0x09, 0x80, 0, 0, 0, 0]],
  ])('%s: 1002, one warn line without a stack, the agent keeps answering', async (_name, bytes) => {
    const before = logLines.length;
    const bad = await openRaw(t.url, TOKENS.viewer);
    bad.tcp.write(Buffer.from(bytes as number[]));
    expect((await bad.closed).code).toBe(1002);
    const lines = logLines.slice(before).filter((l) => l.level >= 40);
    expect(lines.every((l) => l.level === 40)).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/stack|\n\s+at /);
    const ok = await openRaw(t.url, TOKENS.viewer);
    expect(JSON.parse(await ok.ask(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.info' }))).result).toBeDefined();
    ok.ws.close();
  });
});

describe('slow clients (finding 3)', () => {
  it('a client that keeps calling but stops reading is closed with 4408; the others are served', async () => {
    const slow = await openRaw(t.url, TOKENS.viewer);
    const watcher = await openRaw(t.url, TOKENS.viewer);
    slow.tcp.pause();
    const clients = () => wsClientCount(t.url);
    const start = await clients();
    const batch = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'devices.list' })));
    // Replies first fill the kernel's socket buffers, then the agent's queue; default max_queued_bytes (8 MiB); bounded at ~100 MB of replies.
    for (let round = 0; round < 1000 && (await clients()) === start; round++) {
      for (let i = 0; i < 40; i++) slow.ws.send(batch);
      // the other client is served all along
      expect(JSON.parse(await watcher.ask('{"jsonrpc":"2.0","id":1,"method":"system.info"}')).result).toBeTruthy();
    }
    expect(await clients()).toBe(start - 1); // the agent dropped it (before the fix: ~100 MB of replies queued)
    slow.tcp.resume();
    const { code } = await slow.closed;
    expect(code).toBe(4408);
    watcher.ws.close();
  });
});

describe('slow subscribers', () => {
  it('a subscriber that stops reading is closed with 4408 once unwritten events pass max_queued_bytes; a reading one gets every event', async () => {
    const slow = await openRaw(t.url, TOKENS.viewer);
    await slow.ask('{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"topics":["devices"]}}');
    const reader = await t.connect(TOKENS.viewer);
    await reader.call('subscribe', { topics: ['devices'] });
    slow.tcp.pause();
    const clients = () => wsClientCount(t.url);
    const start = await clients();
    // Device changes as the devices topic carries them, 64 KB each, through the agent's real bus.
    const big = 'v'.repeat(64 * 1024);
    let published = 0;
    while (published < 2000 && (await clients()) === start) {
      for (let i = 0; i < 20; i++, published++) {
        t.agent.bus.publish('devices', { device: 'dev1', state: { blob: { value: big, n: published } } });
      }
    }
    expect(await clients()).toBe(start - 1);
    await reader.waitFor((n) => (n.data as { state?: { blob?: { n: number } } }).state?.blob?.n === published - 1);
    expect(reader.events.filter((n) => (n.data as { state?: { blob?: unknown } }).state?.blob)).toHaveLength(published);
    slow.tcp.resume();
    expect((await slow.closed).code).toBe(4408);
  });
});

describe('limits set in [api]', () => {
  let small: TestAgent;
  beforeAll(async () => {
    small = await startTestAgent(
      `${[1, 2, 3, 4, 5].map((n) => DEVICES.replace('dev1', `dev${n}`)).join('\n')}\n[api]\nmax_batch = 10\nmax_reply_bytes = 1024\nmax_queued_bytes = 65536\nmax_in_flight = 3\n`,
      { drivers: [lineDriver] },
    );
  });
  afterAll(async () => {
    await small.stop();
  });
  const call = (id: number, method: string, params?: unknown) => ({ jsonrpc: '2.0', id, method, params });

  it('a reply over max_reply_bytes is REPLY_TOO_LARGE with its id', async () => {
    const c = await openRaw(small.url, TOKENS.viewer);
    const r = JSON.parse(await c.ask(JSON.stringify(call(5, 'devices.list')))) as Reply;
    expect(r).toMatchObject({ id: 5, error: { code: ERROR_CODES.REPLY_TOO_LARGE } });
    expect(r.error?.message).toMatch(/over \[api\] max_reply_bytes \(1024\)/);
    c.ws.close();
  });
  it('a batch reply counts as one reply: the items that do not fit get REPLY_TOO_LARGE, every id is answered', async () => {
    const c = await openRaw(small.url, TOKENS.viewer);
    // three calls (max_in_flight = 3): two short answers fit, the devices list does not
    const batch = [call(0, 'system.info'), call(1, 'devices.list'), call(2, 'system.info')];
    const replies = JSON.parse(await c.ask(JSON.stringify(batch))) as Reply[];
    expect(replies.map((r) => r.id).sort()).toEqual([0, 1, 2]);
    expect(replies.find((r) => r.id === 1)?.error?.code).toBe(ERROR_CODES.REPLY_TOO_LARGE);
    expect(replies.filter((r) => r.result)).toHaveLength(2);
    c.ws.close();
  });
  it('a batch over max_batch is one INVALID_REQUEST', async () => {
    const c = await openRaw(small.url, TOKENS.viewer);
    const batch = Array.from({ length: 11 }, (_, i) => call(i, 'system.info'));
    const r = JSON.parse(await c.ask(JSON.stringify(batch))) as Reply;
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_REQUEST);
    expect(r.error?.message).toMatch(/at most 10 per batch/);
    c.ws.close();
  });
  it('requests past max_in_flight are answered TOO_MANY_REQUESTS at once', async () => {
    const c = await openRaw(small.url, TOKENS.viewer);
    const batch = Array.from({ length: 5 }, (_, i) => call(i, 'unsubscribe', { topics: ['devices'] }));
    const replies = JSON.parse(await c.ask(JSON.stringify(batch))) as Reply[];
    expect(replies.filter((r) => r.result)).toHaveLength(3);
    const refused = replies.filter((r) => r.error?.code === ERROR_CODES.TOO_MANY_REQUESTS);
    expect(refused).toHaveLength(2);
    expect(refused[0]?.error?.message).toMatch(/\[api\] max_in_flight/);
    c.ws.close();
  });
});

describe('[api] in api.toml', () => {
  it('every limit has a default; a bad value names file, line and key', () => {
    expect(apiLimits(undefined)).toEqual({
      max_frame_bytes: 1024 * 1024,
      max_json_depth: 64,
      max_batch: 100,
      max_reply_bytes: 4 * 1024 * 1024,
      max_queued_bytes: 8 * 1024 * 1024,
      max_in_flight: 128,
      warm_up_requests: 1000,
      warm_up_max_ms: 250,
    });
    const text = '[agent]\nroom_id = "r"\n\n[api]\nmax_batch = 0\nmax_frames = 3\n';
    let issues: string[] = [];
    try {
      parseConfig(text, 'api.toml', new DriverRegistry([lineDriver]));
    } catch (e) {
      issues = (e as ConfigError).issues.map(formatIssue);
    }
    expect(issues).toEqual([
      'api.toml:5: api.max_batch: must be >= 1, found 0',
      expect.stringMatching(/^api\.toml:6: api\.max_frames: unknown key/),
    ]);
  });
});
