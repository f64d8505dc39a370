// RoomAgentClient (room-agent/client) in Node against a real agent: typed
// calls, typed errors with their numeric codes, subscriptions, and reconnect
// with fresh snapshots through a TCP relay we can cut.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ERROR_CODES,
  type ConnectionState,
  ERROR_CODES,
  RoomAgentClient,
  RpcError,
  type MeetingState,
  type TopicEvent,
} from '../src/client/index.js';
import type { TrackingFeature } from '../src/tracking/index.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { until } from './console-helpers.js';

const ROOM = `
[devices.cam-1]
driver = "visca"
name = "Camera 1"
simulated = true
framing = "raw-tcp"
host = "192.168.10.22"
profile = "ptzoptics"

[tracking]
publish_delay_ms = 0
`;

/** A TCP relay to the agent; `cut()` drops every connection through it (the network fails). */
class Relay {
  private readonly sockets = new Set<net.Socket>();
  readonly server: net.Server;
  port = 0;
  refuse = false;
  constructor(private readonly target: number) {
    this.server = net.createServer((client) => {
      if (this.refuse) return client.destroy();
      const up = net.connect(this.target, '127.0.0.1');
      for (const s of [client, up]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(up).pipe(client);
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }
  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** The RpcError a call failed with (fails the test when it succeeded). */
function failure(p: Promise<unknown>): Promise<RpcError> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e as RpcError,
  );
}

let t: TestAgent;
let relay: Relay;
const clients: RoomAgentClient[] = [];

function client(token = TOKENS.operator, url = t.url): RoomAgentClient {
  const c = new RoomAgentClient({ url, token, backoff: { initialMs: 20, maxMs: 200 }, callTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  t = await startTestAgent(ROOM);
  relay = new Relay(Number(new URL(t.url).port));
  await relay.listen();
  await until(() => t.agent.devices.get('cam-1')?.status.status === 'online', 'cam-1 online');
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  relay.refuse = false;
});
afterAll(async () => {
  await relay?.close();
  await t?.stop();
});

describe('RoomAgentClient calls', () => {
  it('connects, checks the token with system.info and answers typed results', async () => {
    const c = client();
    await c.connect();
    expect(c.state).toBe('open');
    expect(c.info?.room_id).toBe('test-room');
    const devices = await c.call('devices.list');
    expect(devices.map((d) => d.id)).toEqual(['cam-1']);
    expect(devices[0].status.status).toBe('online');
    const one = await c.call('devices.get', { device: 'cam-1' });
    expect(one.kind).toBe('camera');
    const r = await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 3 } });
    expect(r).toMatchObject({ preset: 3 });
  });

  it('errors carry the numeric code and its stable name', async () => {
    const viewer = client(TOKENS.viewer);
    await viewer.connect();
    const forbidden = await failure(viewer.call('device.action', { device: 'cam-1', action: 'home', params: {} }));
    expect(forbidden).toBeInstanceOf(RpcError);
    expect(forbidden).toMatchObject({ code: ERROR_CODES.FORBIDDEN, codeName: 'FORBIDDEN', method: 'device.action' });
    const missing = await failure(viewer.call('devices.get', { device: 'nope' }));
    expect(missing.code).toBe(4100);
    expect(missing.is('DEVICE_NOT_FOUND')).toBe(true);
    const invalid = await failure(viewer.call('devices.get', { device: '' }));
    expect(invalid.codeName).toBe('INVALID_PARAMS');
    // A method this client version does not know still answers with the agent's code.
    const unknown = await failure(viewer.call('no.such' as 'system.info'));
    expect([unknown.code, unknown.codeName]).toEqual([-32601, 'METHOD_NOT_FOUND']);
  });

  it('a wrong token rejects with UNAUTHORIZED (4401), ends in state unauthorized and is not retried', async () => {
    const c = client('wrong-token');
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    const err = await failure(c.connect());
    expect(err).toMatchObject({ code: CLIENT_ERROR_CODES.UNAUTHORIZED, codeName: 'UNAUTHORIZED' });
    expect(c.state).toBe('unauthorized');
    expect(states).toEqual(['connecting', 'unauthorized']);
    const call = await failure(c.call('system.info'));
    expect(call.codeName).toBe('NOT_CONNECTED');
  });

  it('an agent that cannot be reached rejects connect with NOT_CONNECTED and state closed', async () => {
    relay.refuse = true;
    const c = client(TOKENS.admin, `http://127.0.0.1:${relay.port}`);
    const err = await failure(c.connect());
    expect(err.codeName).toBe('NOT_CONNECTED');
    expect(c.state).toBe('closed');
  });
});

describe('RoomAgentClient subscriptions and reconnect', () => {
  it('delivers the snapshot then changes; a closed subscription stops receiving', async () => {
    const c = client();
    await c.connect();
    const got: TopicEvent<'devices'>[] = [];
    const sub = await c.subscribe(['devices'], (e) => got.push(e));
    expect(got[0]).toMatchObject({ topic: 'devices', snapshot: true });
    expect((got[0].data as { id: string }[])[0].id).toBe('cam-1');
    await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 5 } });
    await until(() => got.some((e) => !e.snapshot && 'state' in e.data && e.data.state.last_preset !== undefined), 'state push');
    await sub.close();
    const n = got.length;
    await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 6 } });
    // A second client still subscribed proves the change went out; the closed handler got nothing.
    const other = client();
    await other.connect();
    const seen: TopicEvent<'devices'>[] = [];
    await other.subscribe(['devices'], (e) => seen.push(e));
    await other.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 4 } });
    await until(() => seen.some((e) => !e.snapshot), 'push to the other client');
    expect(got.length).toBe(n);
  });

  it('after the link drops it reconnects with backoff, re-subscribes and delivers a fresh snapshot', async () => {
    const c = client(TOKENS.operator, `http://127.0.0.1:${relay.port}`);
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    await c.connect();
    const snapshots: unknown[] = [];
    const changes: unknown[] = [];
    await c.subscribe(['devices'], (e) => (e.snapshot ? snapshots : changes).push(e.data));
    expect(snapshots).toHaveLength(1);
    // A call in flight when the link drops fails at once with NOT_CONNECTED (never silently lost).
    const inFlight = c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 7 } });
    relay.cut();
    const err = await failure(inFlight);
    expect(err.codeName).toBe('NOT_CONNECTED');
    await until(() => c.state === 'open' && snapshots.length === 2, 'reconnect with a fresh snapshot');
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    // Changes made while the client was away show in the fresh snapshot; live pushes resume.
    expect((snapshots[1] as { id: string }[])[0].id).toBe('cam-1');
    await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 8 } });
    await until(() => changes.length > 0, 'pushes after reconnect');
  });

  it('followMeeting applies the meeting deltas to its snapshot and starts from a fresh one after a reconnect', async () => {
    const tracking = t.agent.ctx.feature<TrackingFeature>('tracking')!;
    const base = Date.now() - 60_000;
    const joined = (k: number) => ({
      event: 'conf.joined',
      id: 'follow-conf',
      call_id: `f${k}`,
      join_time: base + k * 1000,
      part_uri: `+49${k}`,
    });
    tracking.ingest(
      [{ event: 'conf.create.succ', id: 'follow-conf', begin_time: base, user_data: '{"meeting":"FOLLOW"}' }, joined(1)],
      'test',
    );
    const c = client(TOKENS.viewer, `http://127.0.0.1:${relay.port}`);
    await c.connect();
    const seen: MeetingState[] = [];
    const follow = await c.followMeeting('FOLLOW', (s) => seen.push(s));
    expect(follow.state?.insight.participants.map((p) => p.key)).toEqual(['+491']);
    tracking.ingest(joined(2), 'test');
    await until(() => follow.state?.insight.participants.length === 2, 'delta applied');
    const afterDelta = follow.state!;
    expect(afterDelta.seq).toBe(seen[0].seq + 1);
    // Deltas sent while the link is down are lost: the reconnect brings a fresh snapshot.
    relay.refuse = true;
    relay.cut();
    await until(() => c.state === 'reconnecting', 'link down');
    tracking.ingest([joined(3), joined(4)], 'test');
    relay.refuse = false;
    await until(() => follow.state?.insight.participants.length === 4, 'fresh snapshot after reconnect');
    const st = follow.state!;
    expect(st.seq).toBeGreaterThan(afterDelta.seq + 1);
    expect(st.insight).toEqual(await c.call('meetings.get', { id: 'FOLLOW', at: st.insight.as_of }));
    await follow.close();
  });

  it('keeps retrying while the agent is unreachable and comes back when it is', async () => {
    const c = client(TOKENS.operator, `http://127.0.0.1:${relay.port}`);
    await c.connect();
    relay.refuse = true;
    relay.cut();
    await until(() => c.state === 'reconnecting', 'reconnecting');
    // Several refused attempts, then the network is back.
    await new Promise((r) => setTimeout(r, 300));
    expect(c.state).toBe('reconnecting');
    const call = await failure(c.call('system.info'));
    expect(call.code).toBe(CLIENT_ERROR_CODES.NOT_CONNECTED);
    relay.refuse = false;
    await until(() => c.state === 'open', 'open again');
    expect((await c.call('system.info')).room_id).toBe('test-room');
  });

  it('close() fails pending calls with CLOSED and never reconnects', async () => {
    const c = client();
    await c.connect();
    const pending = c.call('device.action', { device: 'cam-1', action: 'home', params: {} });
    c.close();
    const err = await failure(pending);
    expect(err.codeName).toBe('CLOSED');
    expect(c.state).toBe('closed');
  });
});
