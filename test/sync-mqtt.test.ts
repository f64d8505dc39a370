// The MQTT link end to end against each test broker (aedes in-process;
// Mosquitto too when available): retained topics, events with ids and seqs,
// broker down at start, broker restart with 10,000 queued, commands, inbox.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentContext, Feature } from '../src/app-context.js';
import { createAlerts, createSync, type SyncFeature } from '../src/sync/index.js';
import type { EventMessage } from '../src/sync/topics.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { brokerSpecs, freePort, mqttToml, Subscriber, type TestBroker } from './sync-support.js';

const BASE = 'rooms/test-room';

/** Stands in for the tracking feature: dedups by event id, like the real ingest path. */
function fakeTracking(seen: Set<string>) {
  return (
    _ctx: AgentContext,
  ): Feature & { ingest(events: unknown[], source: string): { accepted: number; duplicates: number } } => ({
    name: 'tracking',
    async start() {},
    async stop() {},
    ingest(events, source) {
      if (source !== 'mqtt') throw new Error(`unexpected source ${source}`);
      let accepted = 0;
      let duplicates = 0;
      for (const e of events) {
        const id = (e as { id?: unknown }).id;
        if (typeof id !== 'string') throw new Error('event without id');
        if (seen.has(id)) duplicates++;
        else {
          seen.add(id);
          accepted++;
        }
      }
      return { accepted, duplicates };
    },
  });
}

describe.each(brokerSpecs)('sync over $kind', (spec) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  async function broker(port?: number): Promise<TestBroker> {
    const b = await spec.create(port);
    cleanups.push(() => b.close());
    return b;
  }
  async function agent(b: TestBroker, extra = '', opts: Parameters<typeof startTestAgent>[1] = {}): Promise<TestAgent> {
    const a = await startTestAgent(mqttToml(b, extra), { features: [createAlerts, createSync], ...opts });
    cleanups.push(() => a.stop());
    return a;
  }
  async function subscribe(b: TestBroker, topics = [`${BASE}/#`], opts: Parameters<typeof Subscriber.connect>[2] = {}) {
    const s = await Subscriber.connect(b, topics, opts);
    cleanups.push(() => s.close());
    return s;
  }
  const sync = (a: TestAgent) => a.agent.ctx.feature<SyncFeature>('sync')!;
  /** Until the agent's MQTT link is up (it subscribes to commands and replies on up). */
  const linkUp = (a: TestAgent) =>
    vi.waitFor(
      () => {
        if (!sync(a).link.isUp) throw new Error('mqtt link not up');
      },
      { timeout: 10_000, interval: 20 },
    );
  const emit = (a: TestAgent, type: string, data: Record<string, unknown> = {}) =>
    a.agent.events.emit({ type, at: new Date().toISOString(), data });

  it('publishes retained status, state and devices, and every event with id, seq, room, time, type and data', async () => {
    const b = await broker();
    const sub = await subscribe(b);
    const a = await agent(b);
    await sub.waitFor(() => sub.json(`${BASE}/status`).some((s) => s.state === 'online'), 10_000, 'status online');
    const status = sub.last(`${BASE}/status`)!;
    expect(status).toMatchObject({ state: 'online', room: 'test-room', started_at: a.agent.startedAt });
    expect(typeof status.version).toBe('string');

    a.agent.devices.add({ id: 'cam1', name: 'Camera 1', driver: 'test', kind: 'camera', simulated: true });
    a.agent.devices.setStatus('cam1', 'online', 'connected');
    a.agent.devices.setState('cam1', { preset: 3 }, { kind: 'api', name: 'admin-client' });
    await sub.waitFor(
      () => sub.json(`${BASE}/devices/cam1`).some((d) => (d.state as { preset?: unknown }).preset),
      10_000,
      'device',
    );
    expect(sub.last(`${BASE}/devices/cam1`)).toMatchObject({ id: 'cam1', kind: 'camera', status: { status: 'online' } });
    await sub.waitFor(() => sub.json(`${BASE}/state`).some((s) => (s.devices as Record<string, unknown>).cam1), 10_000, 'state');

    // In a transaction: the row commits with it; a rolled-back record leaves no event.
    const db = a.agent.store.db;
    db.transaction(() => emit(a, 'test.one', { n: 1 }))();
    expect(() =>
      db.transaction(() => {
        emit(a, 'test.rolled_back', { n: 2 });
        throw new Error('caller fails');
      })(),
    ).toThrow('caller fails');
    emit(a, 'test.two', { n: 3 });
    await sub.waitFor(() => sub.json<EventMessage>(`${BASE}/events`).some((e) => e.type === 'test.two'), 10_000, 'events');
    const events = sub.json<EventMessage>(`${BASE}/events`);
    expect(events.map((e) => e.type)).not.toContain('test.rolled_back');
    expect(events.map((e) => e.type)).toContain('device.status');
    const one = events.find((e) => e.type === 'test.one')!;
    const two = events.find((e) => e.type === 'test.two')!;
    expect(one).toMatchObject({ room: 'test-room', data: { n: 1 } });
    expect(one.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(two.seq).toBeGreaterThan(one.seq);
    const seqs = events.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs); // order kept
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // A subscriber that comes later still sees the retained picture.
    const late = await subscribe(b, [`${BASE}/status`, `${BASE}/devices/+`]);
    await late.waitFor(() => late.messages.length >= 2, 10_000, 'retained');
    expect(late.messages.every((m) => m.retain)).toBe(true);

    await vi.waitFor(() => expect(sync(a).stats().outbox).toBe(0), { timeout: 10_000 });
    await a.stop();
    await sub.waitFor(() => sub.last(`${BASE}/status`)?.state === 'offline', 10_000, 'offline on clean stop');
  });

  it('runs with the broker down at start and catches up when it comes', async () => {
    const port = await freePort();
    // A persistent session created before the outage, so the broker queues for it.
    let b = await broker(port);
    const first = await Subscriber.connect(b, [`${BASE}/events`], { clientId: 'central-1', clean: false });
    await first.close();
    await b.stop();

    const a = await agent(b);
    for (let i = 0; i < 50; i++) emit(a, 'test.offline', { i });
    const res = await fetch(`${a.url}/healthz`);
    expect(res.status).toBe(200);
    expect(sync(a).stats()).toMatchObject({ connected: false });
    expect(sync(a).stats().outbox).toBeGreaterThanOrEqual(50);

    await b.start(true);
    b = b as TestBroker;
    const sub = await subscribe(b, [`${BASE}/events`], { clientId: 'central-1', clean: false });
    await sub.waitFor(
      () => sub.json<EventMessage>(`${BASE}/events`).filter((e) => e.type === 'test.offline').length >= 50,
      15_000,
      '50 events',
    );
    const got = sub.json<EventMessage>(`${BASE}/events`).filter((e) => e.type === 'test.offline');
    expect(new Set(got.map((e) => e.data.i)).size).toBe(50);
  });

  it('broker restarted mid-stream with 10,000 events queued: the subscriber gets all, exactly 10,000 distinct ids', async () => {
    const b = await broker();
    // The central service: a persistent MQTT session on Mosquitto; inside the broker on aedes (see TestBroker.tap).
    const received: EventMessage[] = [];
    const waiters: (() => void)[] = [];
    const onEvent = (payload: Buffer) => {
      received.push(JSON.parse(payload.toString()) as EventMessage);
      for (const w of waiters) w();
    };
    if (b.tap) b.tap(`${BASE}/events`, onEvent);
    else {
      const sub = await subscribe(b, [`${BASE}/events`], { clientId: 'central-2', clean: false });
      sub.client.on('message', (_t, payload) => onEvent(payload));
    }
    const until = (pred: () => boolean, ms: number, what: string) =>
      vi.waitFor(
        () => {
          if (!pred()) {
            const seqs = new Set(received.map((e) => e.seq));
            const missing: number[] = [];
            for (let s = 1; s <= 10_010; s++) if (!seqs.has(s)) missing.push(s);
            throw new Error(
              `waiting for ${what}: ${seqs.size} distinct so far; missing ${missing.slice(0, 5)}..${missing.slice(-5)} (${missing.length})`,
            );
          }
        },
        { timeout: ms, interval: 50 },
      );
    const a = await agent(b);
    const db = a.agent.store.db;
    db.transaction(() => {
      for (let i = 0; i < 10_000; i++) emit(a, 'test.bulk', { i });
    })();
    await until(() => received.length >= 1500, 20_000, 'first events');
    await b.stop();
    expect(sync(a).stats().outbox).toBeGreaterThan(0);
    await b.start(true);
    const bulk = () => received.filter((e) => e.type === 'test.bulk');
    await until(
      () => received.length >= 10_000 && new Set(bulk().map((e) => e.id)).size >= 10_000,
      30_000,
      '10,000 distinct ids',
    );
    expect(new Set(bulk().map((e) => e.id)).size).toBe(10_000);
    expect(new Set(bulk().map((e) => e.data.i)).size).toBe(10_000);
    await vi.waitFor(() => expect(sync(a).stats()).toMatchObject({ outbox: 0, in_flight: 0 }), { timeout: 5000 });
  }, 60_000);

  it('republishes retained topics after the broker lost them', async () => {
    const b = await broker();
    const a = await agent(b);
    a.agent.devices.add({ id: 'mixer', name: 'Mixer', driver: 'test', kind: 'mixer', simulated: true });
    a.agent.devices.setStatus('mixer', 'online', 'ok');
    const s1 = await subscribe(b, [`${BASE}/devices/mixer`]);
    await s1.waitFor(() => s1.messages.length > 0, 10_000, 'device retained');
    await s1.close();
    await b.stop();
    await b.start(false); // empty broker: no retained messages, no sessions
    await new Promise((r) => setTimeout(r, 50));
    const s2 = await subscribe(b, [`${BASE}/status`, `${BASE}/devices/mixer`, `${BASE}/state`]);
    await s2.waitFor(() => new Set(s2.messages.map((m) => m.topic)).size === 3, 10_000, 'retained republished');
    expect(s2.last(`${BASE}/status`)).toMatchObject({ state: 'online' });
    expect(sync(a).link.connects).toBeGreaterThanOrEqual(2);
  });

  it('runs cmd/<method> with the WS methods and role checks; replies with the transaction', async () => {
    const b = await broker();
    const a = await agent(b);
    const sub = await subscribe(b, [`${BASE}/cmd/+/reply`]);
    await linkUp(a);
    const send = (method: string, body: unknown) =>
      sub.client.publishAsync(`${BASE}/cmd/${method}`, JSON.stringify(body), { qos: 1 });

    await send('system.info', { transaction: 't1' });
    await sub.waitFor(() => sub.json(`${BASE}/cmd/system.info/reply`).length === 1, 10_000, 'reply');
    expect(sub.last(`${BASE}/cmd/system.info/reply`)).toMatchObject({ transaction: 't1', result: { room_id: 'test-room' } });

    // Broker identity is operator by default: admin-only methods are refused.
    await send('audit.list', { transaction: 't2' });
    await sub.waitFor(() => sub.json(`${BASE}/cmd/audit.list/reply`).length === 1, 10_000, 'reply');
    expect(sub.last(`${BASE}/cmd/audit.list/reply`)).toMatchObject({ transaction: 't2', error: { code: 4003 } });

    // A command carrying a viewer token is refused an operator method.
    await send('device.action', { transaction: 't3', token: TOKENS.viewer, params: { device: 'x', action: 'y' } });
    await sub.waitFor(() => sub.json(`${BASE}/cmd/device.action/reply`).length === 1, 10_000, 'reply');
    const refused = sub.last<{ transaction: string; error: { code: number; message: string } }>(
      `${BASE}/cmd/device.action/reply`,
    )!;
    expect(refused).toMatchObject({ transaction: 't3', error: { code: 4003 } });
    expect(refused.error.message).not.toContain(TOKENS.viewer);

    // An admin token may; unknown methods and bad JSON get JSON-RPC errors.
    await send('audit.list', { transaction: 't4', token: TOKENS.admin });
    await sub.client.publishAsync(`${BASE}/cmd/no.such`, '{"transaction":"t5"}', { qos: 1 });
    await sub.client.publishAsync(`${BASE}/cmd/system.info`, '{nope', { qos: 1 });
    await sub.waitFor(() => sub.json(`${BASE}/cmd/audit.list/reply`).length === 2, 10_000, 'reply');
    await sub.waitFor(() => sub.json(`${BASE}/cmd/no.such/reply`).length === 1, 10_000, 'reply');
    await sub.waitFor(() => sub.json(`${BASE}/cmd/system.info/reply`).length === 2, 10_000, 'reply');
    expect(sub.last(`${BASE}/cmd/audit.list/reply`)).toMatchObject({ transaction: 't4', result: expect.anything() });
    expect(sub.last(`${BASE}/cmd/no.such/reply`)).toMatchObject({ transaction: 't5', error: { code: -32601 } });
    expect(sub.last(`${BASE}/cmd/system.info/reply`)).toMatchObject({ error: { code: -32700 } });
  });

  it('refuses every command when the broker identity is a viewer', async () => {
    const b = await broker();
    const a = await agent(b, 'command_role = "viewer"\ncommand_identity = "central-viewer"');
    const sub = await subscribe(b, [`${BASE}/cmd/+/reply`]);
    await linkUp(a);
    await sub.client.publishAsync(
      `${BASE}/cmd/device.action`,
      JSON.stringify({ transaction: 7, params: { device: 'd', action: 'a' } }),
      { qos: 1 },
    );
    await sub.waitFor(() => sub.json(`${BASE}/cmd/device.action/reply`).length === 1, 10_000, 'reply');
    const r = sub.last<{ transaction: number; error: { code: number; message: string } }>(`${BASE}/cmd/device.action/reply`)!;
    expect(r.transaction).toBe(7);
    expect(r.error.code).toBe(4003);
    expect(r.error.message).toContain('central-viewer');
  });

  it.runIf(spec.kind === 'mosquitto')(
    'replies to an MQTT 5 response topic in the reply namespace, with the correlation data',
    async () => {
      const b = await broker();
      const a = await agent(b, 'reply_topic_prefix = "central/replies/test-room/"');
      const sub = await subscribe(b, ['central/replies/#'], { protocolVersion: 5 });
      await linkUp(a);
      await sub.client.publishAsync(`${BASE}/cmd/system.info`, '{}', {
        qos: 1,
        properties: { responseTopic: 'central/replies/test-room/x', correlationData: Buffer.from('corr-42') },
      });
      await sub.waitFor(() => sub.messages.length === 1, 10_000, 'v5 reply');
      expect(sub.messages[0].topic).toBe('central/replies/test-room/x');
      expect(sub.messages[0].properties?.correlationData?.toString()).toBe('corr-42');
      expect(JSON.parse(sub.messages[0].payload.toString())).toMatchObject({ result: { room_id: 'test-room' } });
    },
  );

  // Issue 19 item 4: anyone allowed to publish to cmd/# could make the agent publish anywhere.
  it.runIf(spec.kind === 'mosquitto')(
    "a response topic outside the room's reply namespace is refused: not run, not published there, logged",
    async () => {
      const b = await broker();
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const a = await agent(b, '', { logger });
      const sub = await subscribe(b, ['#'], { protocolVersion: 5 });
      await linkUp(a);
      const before = a.agent.host.ids().length;
      for (const [i, responseTopic] of ['rooms/other-room/cmd/device.action', 'central/anything', `${BASE}/status`].entries()) {
        await sub.client.publishAsync(
          `${BASE}/cmd/device.action`,
          JSON.stringify({ transaction: `t${i}`, params: { device: 'nope', action: 'x' } }),
          {
            qos: 1,
            properties: { responseTopic, correlationData: Buffer.from(`c${i}`) },
          },
        );
      }
      await sub.waitFor(() => sub.json(`${BASE}/cmd/device.action/reply`).length === 3, 10_000, 'refusals on the fallback topic');
      const replies = sub.messages.filter((m) => m.topic === `${BASE}/cmd/device.action/reply`);
      for (const m of replies) {
        const body = JSON.parse(m.payload.toString()) as { error: { code: number; message: string } };
        expect(body.error.code).toBe(4003);
        expect(body.error.message).toContain(`outside this room's reply namespace ${BASE}/reply/`);
        expect(body.error.message).toContain('the request was not run');
      }
      expect(replies.map((m) => m.properties?.correlationData?.toString()).sort()).toEqual(['c0', 'c1', 'c2']);
      // Nothing was published where the requests pointed, and the command never ran (no audit of it).
      expect(
        sub.messages.filter((m) => m.topic === 'rooms/other-room/cmd/device.action' || m.topic === 'central/anything'),
      ).toEqual([]);
      expect(sub.messages.filter((m) => m.topic === `${BASE}/status` && m.payload.toString().includes('transaction'))).toEqual(
        [],
      );
      expect(a.agent.host.ids().length).toBe(before);
      const refusals = lines.filter((l) => l.includes("outside the room's reply namespace"));
      expect(refusals.length).toBeGreaterThanOrEqual(1);
      expect(refusals[0]).toContain('rooms/other-room/cmd/device.action');
      // A response topic inside the default namespace is honoured.
      await sub.client.publishAsync(`${BASE}/cmd/system.info`, '{}', {
        qos: 1,
        properties: { responseTopic: `${BASE}/reply/central-1/42`, correlationData: Buffer.from('ok') },
      });
      await sub.waitFor(() => sub.json(`${BASE}/reply/central-1/42`).length === 1, 10_000, 'reply in the namespace');
    },
  );

  it('takes inbox/events through the tracking ingest path (dedup holds) and says when tracking is absent', async () => {
    const b = await broker();
    const seen = new Set<string>();
    const a = await agent(b, '', { features: [fakeTracking(seen), createAlerts, createSync] });
    const sub = await subscribe(b, [`${BASE}/inbox/events/reply`]);
    await linkUp(a);
    const delivery = JSON.stringify({ transaction: 'd1', events: [{ id: 'e1' }, { id: 'e2' }] });
    await sub.client.publishAsync(`${BASE}/inbox/events`, delivery, { qos: 1 });
    await sub.client.publishAsync(`${BASE}/inbox/events`, delivery, { qos: 1 });
    await sub.client.publishAsync(`${BASE}/inbox/events`, JSON.stringify([{ nope: true }]), { qos: 1 });
    await sub.waitFor(() => sub.messages.length === 3, 10_000, 'inbox replies');
    const replies = sub.json(`${BASE}/inbox/events/reply`);
    // Replies may overtake each other on the broker; the ingest order is what dedup sees.
    expect(replies).toContainEqual({ transaction: 'd1', result: { accepted: 2, duplicates: 0 } });
    expect(replies).toContainEqual({ transaction: 'd1', result: { accepted: 0, duplicates: 2 } });
    expect(replies).toContainEqual({ error: { code: -32602, message: 'event without id' } });
    expect([...seen]).toEqual(['e1', 'e2']);

    const b2 = await broker();
    const a2 = await agent(b2);
    const sub2 = await subscribe(b2, [`${BASE}/inbox/events/reply`]);
    await linkUp(a2);
    await sub2.client.publishAsync(`${BASE}/inbox/events`, '[]', { qos: 1 });
    await sub2.waitFor(() => sub2.messages.length === 1, 10_000, 'reply');
    expect(sub2.last(`${BASE}/inbox/events/reply`)).toMatchObject({ error: { code: 4503 } });
  });
});

describe('sync without a broker section', () => {
  it('is off without [mqtt]', async () => {
    const a = await startTestAgent('', { features: [createAlerts, createSync] });
    try {
      expect(a.agent.ctx.feature('sync')).toBeUndefined();
      expect(a.agent.ctx.feature('alerts')).toBeUndefined();
    } finally {
      await a.stop();
    }
  });
  it('rejects unknown keys and bad URLs in [mqtt]', async () => {
    await expect(startTestAgent('[mqtt]\nurl = "http://x"\n')).rejects.toThrow(/mqtt\.url/);
    await expect(startTestAgent('[mqtt]\nurl = "mqtt://x"\nbogus = 1\n')).rejects.toThrow(/mqtt\.bogus: unknown key/);
  });
});
