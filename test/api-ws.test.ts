import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ERROR_CODES } from '../src/util/errors.js';
import { startTestAgent, TOKENS, type TestAgent } from './support/agent.js';
import { LineSimulator, lineDriver } from './support/line-driver.js';

let t: TestAgent;
const sim = new LineSimulator();

beforeAll(async () => {
  const port = await sim.start();
  t = await startTestAgent(
    `[devices.dev1]\ndriver = "line-test"\nport = ${port}\n\n[devices.dev2]\ndriver = "line-test"\nsimulated = true\n\n[devices.dead]\ndriver = "line-test"\nport = 1\n`,
    { drivers: [lineDriver] },
  );
  const c = await t.connect();
  // wait until both live devices are online
  for (;;) {
    const list = await c.call<{ id: string; status: { status: string } }[]>('devices.list');
    if (list.filter((d) => d.status.status === 'online').length === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});
afterAll(async () => {
  await t.stop();
  await sim.stop();
});

function closeCode(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ code: number; reason: string; messages: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    let messages = 0;
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'devices.list' })));
    ws.on('message', () => messages++);
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), messages }));
  });
}

describe('WebSocket authentication', () => {
  it('closes with 4401 and serves nothing without a token', async () => {
    const r = await closeCode(`${t.url.replace('http', 'ws')}/ws`);
    expect(r.code).toBe(4401);
    expect(r.messages).toBe(0);
  });
  it('closes with 4401 for a wrong token', async () => {
    const r = await closeCode(`${t.url.replace('http', 'ws')}/ws?token=wrong-token-wrong-token`);
    expect(r.code).toBe(4401);
    expect(r.messages).toBe(0);
  });
  it('accepts a Bearer header', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    const reply = await new Promise<{ result: { room_id: string } }>((resolve, reject) => {
      ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'system.info' })));
      ws.on('message', (m) => resolve(JSON.parse(m.toString())));
      ws.on('close', (code) => reject(new Error(`closed ${code}`)));
    });
    ws.close();
    expect(reply.result.room_id).toBe('test-room');
  });
  it('an ingest token cannot use the WS API', async () => {
    const c = await t.connect(TOKENS.ingest);
    const r = await c.request('devices.list');
    expect(r.error?.code).toBe(ERROR_CODES.FORBIDDEN);
  });
});

describe('JSON-RPC errors', () => {
  it('a viewer calling an action gets FORBIDDEN and the device receives nothing', async () => {
    const c = await t.connect(TOKENS.viewer);
    const before = sim.received.length;
    const r = await c.request('device.action', { device: 'dev1', action: 'set', params: { key: 'a', value: 1 } });
    expect(r.error?.code).toBe(ERROR_CODES.FORBIDDEN);
    expect(r.error?.message).toMatch(/needs role operator/);
    expect(sim.received.length).toBe(before);
  });
  it('unknown method', async () => {
    const c = await t.connect();
    const r = await c.request('no.such.method');
    expect(r.error?.code).toBe(ERROR_CODES.METHOD_NOT_FOUND);
  });
  it('bad params are INVALID_PARAMS naming the field', async () => {
    const c = await t.connect();
    const r = await c.request('device.action', { device: 'dev1', action: 'set', params: { key: 'a', value: 500 } });
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_PARAMS);
    expect(r.error?.message).toMatch(/value/);
    const r2 = await c.request('devices.get', { nope: 1 });
    expect(r2.error?.code).toBe(ERROR_CODES.INVALID_PARAMS);
  });
  it('malformed JSON is a parse error, the socket stays open', async () => {
    const c = await t.connect();
    const reply = await new Promise<{ error: { code: number } }>((resolve) => {
      c.ws.once('message', (m) => resolve(JSON.parse(m.toString())));
      c.ws.send('{not json');
    });
    expect(reply.error.code).toBe(ERROR_CODES.PARSE_ERROR);
    expect((await c.call<{ room_id: string }>('system.info')).room_id).toBe('test-room');
  });
  it('a parse error does not quote the frame (a code or token typed into it stays out of the answer)', async () => {
    const c = await t.connect();
    for (const frame of ['secret-code-998877', '{"code": 998877secret}']) {
      const reply = await new Promise<{ error: { code: number; message: string } }>((resolve) => {
        c.ws.once('message', (m) => resolve(JSON.parse(m.toString())));
        c.ws.send(frame);
      });
      expect(reply.error.code).toBe(ERROR_CODES.PARSE_ERROR);
      expect(reply.error.message).toMatch(/^invalid JSON: not valid JSON/);
      expect(reply.error.message).not.toMatch(/9988|secr|code/);
    }
  });
  it('unknown device and unknown action have their own codes', async () => {
    const c = await t.connect();
    expect((await c.request('device.action', { device: 'nope', action: 'set' })).error?.code).toBe(ERROR_CODES.DEVICE_NOT_FOUND);
    expect((await c.request('device.action', { device: 'dev1', action: 'nope' })).error?.code).toBe(ERROR_CODES.ACTION_NOT_FOUND);
  });
  it('an offline device answers at once with DEVICE_OFFLINE', async () => {
    const c = await t.connect();
    const r = await c.request('device.action', { device: 'dead', action: 'set', params: { key: 'a', value: 1 } });
    expect(r.error?.code).toBe(ERROR_CODES.DEVICE_OFFLINE);
    expect(r.error?.message).toMatch(/dead is (offline|connecting)/);
  });
  it('a device error is DEVICE_ERROR with the device message', async () => {
    const c = await t.connect();
    const r = await c.request('device.action', { device: 'dev1', action: 'fail' });
    expect(r.error?.code).toBe(ERROR_CODES.DEVICE_ERROR);
    expect(r.error?.message).toMatch(/refused/);
  });
});

describe('actions, state and subscriptions', () => {
  it('actions.list gives each action with a JSON Schema for its params', async () => {
    const c = await t.connect(TOKENS.viewer);
    const actions = await c.call<{ name: string; params: { properties: Record<string, unknown> } }[]>('actions.list', {
      device: 'dev1',
    });
    const set = actions.find((a) => a.name === 'set');
    expect(set?.params.properties).toHaveProperty('value');
  });
  it('subscribe answers with a snapshot, then pushes changes with their cause', async () => {
    const viewer = await t.connect(TOKENS.viewer);
    const sub = await viewer.call<{ snapshot: { devices: { id: string }[] } }>('subscribe', { topics: ['devices'] });
    expect(sub.snapshot.devices.map((d) => d.id).sort()).toEqual(['dead', 'dev1', 'dev2']);
    const op = await t.connect(TOKENS.operator);
    await op.call('device.action', { device: 'dev1', action: 'set', params: { key: 'volume', value: 42 } });
    const n = await viewer.waitFor((e) => {
      const d = e.data as { device: string; state?: Record<string, { value: unknown }> };
      return e.topic === 'devices' && d.device === 'dev1' && d.state?.volume?.value === '42';
    });
    const entry = (n.data as { state: Record<string, { cause: { kind: string; name: string } }> }).state.volume;
    expect(entry.cause).toMatchObject({ kind: 'api', name: 'operator-client' });
    // a change the device reports by itself is attributed to the device
    await new Promise((r) => setTimeout(r, 2100));
    sim.push('PUSH mode auto');
    const pushed = await viewer.waitFor((e) => (e.data as { state?: Record<string, unknown> }).state?.mode !== undefined);
    expect((pushed.data as { state: Record<string, { cause: { kind: string } }> }).state.mode.cause.kind).toBe('device');
  });
  it('unknown topics are refused', async () => {
    const c = await t.connect();
    const r = await c.request('subscribe', { topics: ['nope'] });
    expect(r.error?.code).toBe(ERROR_CODES.INVALID_PARAMS);
  });
  it('every action is in the audit log with who asked', async () => {
    const c = await t.connect();
    const rows = await c.call<{ device: string; action: string; ok: boolean; cause: { name: string } }[]>('audit.list', {
      device: 'dev1',
    });
    expect(rows.some((r) => r.action === 'set' && r.ok && r.cause.name === 'operator-client')).toBe(true);
    expect(rows.some((r) => r.action === 'fail' && !r.ok)).toBe(true);
  });
  it('a slow device does not block another device or the API', async () => {
    const c = await t.connect();
    let slowDone = false;
    const slow = c.call('device.action', { device: 'dev1', action: 'slow', params: { ms: 400 } }).then(() => {
      slowDone = true;
    });
    await c.call('device.action', { device: 'dev2', action: 'set', params: { key: 'x', value: 1 } });
    await c.call('system.info');
    // ordering, not timing: the other device and the API answered while dev1 was still busy
    expect(slowDone).toBe(false);
    await slow;
    expect(slowDone).toBe(true);
  });
  it('/healthz needs no token, /metrics lists device status and actions', async () => {
    const h = await fetch(`${t.url}/healthz`);
    expect(h.status).toBe(200);
    const m = await (await fetch(`${t.url}/metrics`)).text();
    expect(m).toMatch(/room_agent_device_status\{device="dev1",driver="line-test",status="online"\} 1/);
    expect(m).toMatch(/room_agent_actions_total\{driver="line-test",action="set",ok="true"\}/);
  });
});

describe('replies leave together', () => {
  it('replies produced in one turn leave the agent in one TCP write', async () => {
    // The agent's end of the next WebSocket: count the writes it hands to the kernel
    // (a stream's _write/_writev is one write or writev system call each; behaviour unchanged).
    let writes = 0;
    t.agent.http.server.once('upgrade', (_req, socket: net.Socket) => {
      const s = socket as net.Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
      const write = s._write.bind(s);
      const writev = s._writev.bind(s);
      s._write = (...a) => {
        writes++;
        write(...a);
      };
      s._writev = (...a) => {
        writes++;
        writev(...a);
      };
    });
    const c = await t.connect(TOKENS.operator);
    const n = 5;
    writes = 0;
    // Five requests handled in one turn of the agent (a pipelining client, or one read of five frames).
    const replies = await Promise.all(Array.from({ length: n }, () => c.request('system.info')));
    expect(replies.every((r) => r.result !== undefined)).toBe(true);
    expect(writes).toBe(1);
    // A lone call after them is answered (nothing waits for a later turn to write it).
    expect((await c.request('system.info')).result).toBeDefined();
    expect(writes).toBe(2);
  }, 20_000);
});
