import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackingFeature } from '../src/tracking/index.js';
import { applyMeetingDelta, type MeetingState } from '../src/client/meeting-deltas.js';
import type { Insight, MeetingDelta } from '../src/tracking/types.js';
import { zoomSignature } from '../src/tracking/zoom.js';
import type { RoomEvent } from '../src/state/bus.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SAMPLE = fs.readFileSync(path.join(HERE, 'fixtures/conference-events.sample.jsonl'), 'utf8');
const sample = SAMPLE.split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Record<string, unknown>);
const ZOOM_SECRET = 'zoom-test-secret-0123';
const T = (s: number) => new Date(s * 1000).toISOString();

let t: TestAgent;
const roomEvents: RoomEvent[] = [];

beforeAll(async () => {
  t = await startTestAgent(
    `[tracking]\nzoom_secret_token = "${ZOOM_SECRET}"\nmax_body_bytes = 65536\nmax_batch = 100\npublish_delay_ms = 0\n`,
  );
  t.agent.events.on((e) => roomEvents.push(e));
});
afterAll(async () => {
  await t?.stop();
});

const post = (pathname: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${pathname}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
const ingest = (body: unknown, token = TOKENS.ingest) =>
  post('/hooks/conference', JSON.stringify(body), { authorization: `Bearer ${token}` });
const get = async (pathname: string, token = TOKENS.viewer) => {
  const r = await fetch(`${t.url}${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('POST /hooks/conference', () => {
  it('stores the sample batch after commit and counts its duplicate', async () => {
    const r = await ingest(sample);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 8, duplicates: 1 });
  });

  it('counts redelivered single events as duplicates (token in ?token=)', async () => {
    for (const ev of sample.slice(0, 3)) {
      const r = await post(`/hooks/conference?token=${TOKENS.ingest}`, JSON.stringify(ev));
      expect(await r.json()).toEqual({ accepted: 0, duplicates: 1 });
    }
  });

  it('gives the sample insight over HTTP: p-42 with two calls, p-17 with one, timer paused while p-42 was away', async () => {
    const { status, body } = await get('/api/meetings/M-1001');
    expect(status).toBe(200);
    const i = body as unknown as Insight;
    expect(i).toMatchObject({ status: 'ended', actual_start_time: T(1763812800), actual_end_time: T(1763815200), final: true });
    expect(i.participants.map((p) => [p.key, p.calls.length])).toEqual([
      ['p-17', 1],
      ['p-42', 2],
    ]);
    expect(i.timer.segments).toEqual([
      { start: T(1763812875), end: T(1763813400) },
      { start: T(1763813460), end: T(1763815200) },
    ]);
    const failed = await get('/api/meetings/M-1002');
    expect(failed.body).toMatchObject({ status: 'failed', error: 'no route to media server' });
  });

  it('answers as of a time (?at=, ISO or epoch)', async () => {
    const a = await get(`/api/meetings/M-1001?at=${encodeURIComponent(T(1763813430))}`);
    expect(a.body).toMatchObject({ status: 'live', as_of: T(1763813430), final: false, timer: { running: false } });
    const b = await get('/api/meetings/M-1001?at=1763813000');
    expect(b.body).toMatchObject({ status: 'live', timer: { running: true, elapsed_ms: 125_000 } });
    expect((await get('/api/meetings/M-1001?at=tomorrow')).status).toBe(400);
    expect((await get('/api/meetings/nope')).status).toBe(404);
  });

  it('lists meetings with status and times, filtered by from/to', async () => {
    const all = await get('/api/meetings');
    const ms = all.body.meetings as { id: string; status: string }[];
    expect(ms.map((m) => [m.id, m.status])).toEqual(
      expect.arrayContaining([
        ['M-1001', 'ended'],
        ['M-1002', 'failed'],
      ]),
    );
    const none = await get(`/api/meetings?to=${encodeURIComponent('2025-11-22T11:00:00Z')}`);
    expect((none.body.meetings as { id: string }[]).map((m) => m.id)).not.toContain('M-1001');
    const hit = await get(
      `/api/meetings?from=${encodeURIComponent('2025-11-22T12:30:00Z')}&to=${encodeURIComponent('2025-11-22T12:31:00Z')}`,
    );
    expect((hit.body.meetings as { id: string }[]).map((m) => m.id)).toContain('M-1001');
  });

  it('lists the raw events in event-time order with receipt time, source and duplicate flag', async () => {
    const { body } = await get('/api/meetings/M-1001/events');
    const evs = body.events as {
      event: string;
      time: string;
      duplicates: number;
      duplicate: boolean;
      source: string;
      received_at: string;
      data: unknown;
      late: boolean;
    }[];
    expect(evs).toHaveLength(7);
    expect(evs.map((e) => e.time)).toEqual([...evs.map((e) => e.time)].sort());
    // Its redelivery (previous test) came after the meeting had ended: late.
    expect(evs[0]).toMatchObject({ event: 'conf.create.succ', source: 'conference', duplicate: true, duplicates: 1, late: true });
    expect(evs.find((e) => e.event === 'conf.end')).toMatchObject({ duplicate: false, late: false });
    // after_seq: only the events stored after that one (what a follower has not seen yet).
    const seqs = (body.events as { seq: number }[]).map((e) => e.seq).sort((a, b) => a - b);
    const newer = (await get(`/api/meetings/M-1001/events?after_seq=${seqs[4]}`)).body.events as { seq: number }[];
    expect(newer.map((e) => e.seq).sort((a, b) => a - b)).toEqual(seqs.slice(5));
    expect((await get('/api/meetings/M-1001/events?after_seq=-1')).status).toBe(400);
    const p42join = evs.find((e) => e.event === 'conf.joined' && e.time === T(1763812875));
    expect(p42join).toMatchObject({ duplicates: 2, data: sample[2] });
    expect(Date.parse(evs[0].received_at)).toBeGreaterThan(0);
  });

  it('emitted durable room events for each stored event and each status change', () => {
    const stored = roomEvents.filter((e) => e.type === 'meeting.event');
    expect(stored).toHaveLength(8);
    expect(roomEvents.filter((e) => e.type === 'meeting.status').map((e) => [e.data.meeting_id, e.data.status])).toEqual(
      expect.arrayContaining([
        ['M-1001', 'ended'],
        ['M-1002', 'failed'],
      ]),
    );
  });

  it('logs each event of a batch as the text it was received in', async () => {
    const a = '{ "event": "conf.joined", "id": "text-conf", "join_time": 1763900000.0,\n  "call_id": "t\\"1", "part_uri": "+7" }';
    const b = '{"event":"conf.mute","id":"text-conf","x":[1, {"y":"]"}]}';
    const r = await post('/hooks/conference', `[\n  ${a},\n  ${b}\n]\n`, { authorization: `Bearer ${TOKENS.ingest}` });
    expect(await r.json()).toEqual({ accepted: 2, duplicates: 0 });
    const raws = t.agent.store.db
      .prepare("SELECT raw FROM tracking_events WHERE conference = 'text-conf' ORDER BY seq")
      .pluck()
      .all();
    expect(raws).toEqual([a, b]);
  });

  it('401 without or with a wrong token, 403 for a viewer token', async () => {
    expect((await post('/hooks/conference', JSON.stringify(sample[0]))).status).toBe(401);
    expect((await ingest(sample[0], 'wrong-token-0123456789')).status).toBe(401);
    expect((await ingest(sample[0], TOKENS.viewer)).status).toBe(403);
    expect((await ingest(sample[0], TOKENS.admin)).status).toBe(200);
    expect((await fetch(`${t.url}/api/meetings`)).status).toBe(401);
  });

  it('400 for malformed JSON, empty bodies and wrong types (naming event and field), storing none of the batch', async () => {
    const bad = await post('/hooks/conference', '{"event": ', { authorization: `Bearer ${TOKENS.ingest}` });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/malformed JSON/);
    expect((await post('/hooks/conference', '', { authorization: `Bearer ${TOKENS.ingest}` })).status).toBe(400);
    const good = { event: 'conf.create.succ', id: 'batch-conf', begin_time: 1763900000, user_data: '{"meeting":"M-B"}' };
    const wrong = { event: 'conf.joined', id: 'batch-conf', join_time: 'soon', call_id: 'k', part_uri: 'u', user_data: null };
    const r = await ingest([good, wrong]);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ index: 1, field: 'join_time' });
    expect((await get('/api/meetings/M-B')).status).toBe(404);
    const r2 = await ingest([good, { ...good, id: 42 }]);
    expect(await r2.json()).toMatchObject({ index: 1, field: 'id' });
    const tooMany = await ingest(Array.from({ length: 101 }, () => good));
    expect(tooMany.status).toBe(400);
  });

  it('stores unknown event names as unknown (200), listed but without effect on the insight', async () => {
    const before = (await get('/api/meetings/M-1001')).body;
    const r = await ingest({ event: 'conf.mute', id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60', call_id: 'x', user_data: null });
    expect(await r.json()).toEqual({ accepted: 1, duplicates: 0 });
    const evs = (await get('/api/meetings/M-1001/events')).body.events as { event: string; known: boolean; late: boolean }[];
    expect(evs.find((e) => e.event === 'conf.mute')).toMatchObject({ known: false, late: true });
    const after = (await get('/api/meetings/M-1001')).body;
    expect({ ...after, as_of: '' }).toEqual({ ...before, as_of: '' });
  });

  it('413 for a body over max_body_bytes', async () => {
    const big = JSON.stringify(Array.from({ length: 2000 }, () => sample[1]));
    expect(big.length).toBeGreaterThan(65536);
    expect((await ingest(JSON.parse(big))).status).toBe(413);
  });

  it('a late quit recomputes and re-stores the final insight; the stream marks it late', async () => {
    const lateQuit = {
      event: 'conf.quit',
      id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60',
      join_time: 1763812810,
      quit_time: 1763815100,
      call_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      part_uri: '+79990001122',
      user_data: '{"person":"p-17","role":"host"}',
    };
    expect(await (await ingest(lateQuit)).json()).toEqual({ accepted: 1, duplicates: 0 });
    const i = (await get('/api/meetings/M-1001')).body as unknown as Insight;
    expect(i.participants[0].calls[0].quit_time).toBe(T(1763815100));
    expect(i.timer.segments.at(-1)).toEqual({ start: T(1763813460), end: T(1763815100) });
    expect(i.final).toBe(true);
    expect(t.agent.store.db.prepare("SELECT final_dirty FROM tracking_meetings WHERE id = 'M-1001'").pluck().get()).toBe(0);
    const evs = (await get('/api/meetings/M-1001/events')).body.events as { event: string; late: boolean; time: string }[];
    expect(evs.find((e) => e.event === 'conf.quit' && e.time === T(1763815100))?.late).toBe(true);
    // A delayed duplicate is counted and marked late too.
    await ingest(sample[1]);
    const evs2 = (await get('/api/meetings/M-1001/events')).body.events as { event: string; late: boolean; time: string }[];
    expect(evs2.find((e) => e.event === 'conf.joined' && e.time === T(1763812810))?.late).toBe(true);
  });

  it('rolls the whole batch back when a room-event listener fails (one transaction)', async () => {
    const off = t.agent.events.on(() => {
      throw new Error('outbox full');
    });
    const r = await ingest({ event: 'conf.create.succ', id: 'rollback-conf', begin_time: 1763900000, user_data: null });
    off();
    expect(r.status).toBe(500);
    expect(
      t.agent.store.db.prepare("SELECT count(*) FROM tracking_events WHERE conference = 'rollback-conf'").pluck().get(),
    ).toBe(0);
    // Nothing of it is remembered as stored either: the redelivery is accepted.
    const again = await ingest({ event: 'conf.create.succ', id: 'rollback-conf', begin_time: 1763900000, user_data: null });
    expect(await again.json()).toEqual({ accepted: 1, duplicates: 0 });
  });
});

describe('POST /hooks/zoom', () => {
  const zoom = (body: unknown, opts: { ts?: number; sig?: string } = {}) => {
    const raw = Buffer.from(JSON.stringify(body));
    const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
    return post('/hooks/zoom', raw, {
      'x-zm-request-timestamp': ts,
      'x-zm-signature': opts.sig ?? zoomSignature(ZOOM_SECRET, ts, raw),
    });
  };
  const obj = { id: 85012345678, uuid: 'zoom-uuid-1==', start_time: '2025-11-23T10:00:00Z' };
  const part = (email: string, extra: Record<string, string>) => ({ ...obj, participant: { user_name: email, email, ...extra } });

  it('answers endpoint.url_validation', async () => {
    const r = await zoom({ event: 'endpoint.url_validation', payload: { plainToken: 'plain-123' } });
    expect(r.status).toBe(200);
    const j = (await r.json()) as { plainToken: string; encryptedToken: string };
    expect(j.plainToken).toBe('plain-123');
    expect(j.encryptedToken).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a bad signature and a stale timestamp with 401', async () => {
    const body = { event: 'meeting.started', event_ts: Date.now(), payload: { object: obj } };
    expect((await zoom(body, { sig: 'v0=deadbeef' })).status).toBe(401);
    const stale = await zoom(body, { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/stale/);
  });

  it('maps meeting and participant events; a stale participant_left after a re-join closes the earlier call', async () => {
    const send = async (event: string, object: unknown) => {
      const r = await zoom({ event, event_ts: Date.now(), payload: { object } });
      expect(r.status).toBe(200);
      return r.json();
    };
    await send('meeting.started', obj);
    await send('meeting.participant_joined', part('ann@example.com', { join_time: '2025-11-23T10:01:00Z' }));
    await send('meeting.participant_joined', part('bob@example.com', { join_time: '2025-11-23T10:02:00Z' }));
    await send('meeting.participant_joined', part('ann@example.com', { join_time: '2025-11-23T10:20:00Z' }));
    // Ann's first leave arrives after her re-join.
    await send('meeting.participant_left', part('ann@example.com', { leave_time: '2025-11-23T10:10:00Z' }));
    expect(await send('meeting.participant_left', part('ann@example.com', { leave_time: '2025-11-23T10:10:00Z' }))).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    await send('meeting.ended', { ...obj, end_time: '2025-11-23T10:30:00Z' });
    const i = (await get('/api/meetings/85012345678')).body as unknown as Insight;
    expect(i.status).toBe('ended');
    const ann = i.participants.find((p) => p.key === 'ann@example.com');
    expect(ann?.matched).toBe(false);
    expect(ann?.calls.map((c) => [c.join_time, c.quit_time])).toEqual([
      ['2025-11-23T10:20:00.000Z', '2025-11-23T10:30:00.000Z'],
      ['2025-11-23T10:01:00.000Z', '2025-11-23T10:10:00.000Z'],
    ]);
    expect(i.timer.segments).toEqual([
      { start: '2025-11-23T10:02:00.000Z', end: '2025-11-23T10:10:00.000Z' },
      { start: '2025-11-23T10:20:00.000Z', end: '2025-11-23T10:30:00.000Z' },
    ]);
  });
});

describe('WS and the feature API', () => {
  it('meetings.get (with at), meetings.list, meetings.events over JSON-RPC', async () => {
    const c = await t.connect(TOKENS.viewer);
    const i = await c.call<Insight>('meetings.get', { id: 'M-1001', at: '2025-11-22T12:10:30Z' });
    expect(i).toMatchObject({ status: 'live', as_of: '2025-11-22T12:10:30.000Z' });
    const l = await c.call<{ meetings: { id: string }[] }>('meetings.list', {});
    expect(l.meetings.map((m) => m.id)).toContain('M-1001');
    const e = await c.call<{ events: unknown[] }>('meetings.events', { id: 'M-1002' });
    expect(e.events).toHaveLength(1);
    const nf = await c.request('meetings.get', { id: 'nope' });
    expect(nf.error?.code).toBe(4004);
  });

  it('ingest() for other modules (MQTT relay), roster hook, and live pushes on topic meetings', async () => {
    const c = await t.connect(TOKENS.viewer);
    await c.call('subscribe', { topics: ['meetings'] });
    const tracking = t.agent.ctx.feature<TrackingFeature>('tracking') as TrackingFeature;
    tracking.schedule({
      id: 'M-2000',
      title: 'Consultation',
      start: '2025-11-24T09:00:00Z',
      end: '2025-11-24T10:00:00Z',
      roster: [
        { person: 'alice', role: 'client', contacts: ['+1 555 0100'] },
        { person: 'dr-who', role: 'expert', contacts: ['sip:who@example.com'] },
      ],
    });
    expect(tracking.insight('M-2000').status).toBe('scheduled');
    const snap = await c.call<MeetingState>('meetings.snapshot', { id: 'M-2000' });
    expect(snap).toMatchObject({ seq: expect.any(Number), epoch: expect.any(String), insight: { status: 'scheduled' } });
    const conf = 'mqtt-conf-1';
    const evs = [
      {
        event: 'conf.create.succ',
        id: conf,
        begin_time: '2025-11-24T09:01:00Z',
        user_data: '{"meeting":"M-2000","timer_requires":["expert","client"]}',
      },
      {
        event: 'conf.joined',
        id: conf,
        join_time: '2025-11-24T09:02:00Z',
        call_id: 'm1',
        part_uri: '+15550100',
        user_data: 'free text',
      },
      {
        event: 'conf.joined',
        id: conf,
        join_time: '2025-11-24T09:03:00Z',
        call_id: 'm2',
        part_uri: 'who@example.com',
        user_data: null,
      },
      { event: 'conf.joined', id: conf, join_time: '2025-11-24T09:04:00Z', call_id: 'm3', part_uri: '+4900', user_data: null },
    ];
    expect(tracking.ingest(evs, 'mqtt')).toEqual({ accepted: 4, duplicates: 0 });
    expect(() => tracking.ingest([{ event: 'conf.joined', id: conf }], 'mqtt')).toThrow(/event 0: join_time/);
    // The topic carries deltas; applied in order to the snapshot they give the insight.
    const last = await c.waitFor(
      (n) =>
        n.topic === 'meetings' &&
        (n.data as MeetingDelta).id === 'M-2000' &&
        (n.data as MeetingDelta).summary.counts.participants === 3,
    );
    let state: MeetingState | null = snap;
    for (const n of c.events.filter((e) => e.topic === 'meetings' && (e.data as MeetingDelta).id === 'M-2000')) {
      const r = applyMeetingDelta(state, n.data as MeetingDelta);
      expect(r.kind).not.toBe('gap');
      if (r.kind === 'applied') state = r.state;
      if (n === last) break;
    }
    expect(state?.seq).toBe((last.data as MeetingDelta).seq);
    const i = state!.insight;
    expect(i).toEqual(await c.call('meetings.get', { id: 'M-2000', at: i.as_of }));
    expect(i.status).toBe('live');
    expect(i.participants.map((p) => [p.key, p.role, p.matched])).toEqual([
      ['alice', 'client', true],
      ['dr-who', 'expert', true],
      ['+4900', null, false],
    ]);
    expect(i.timer).toMatchObject({
      running: true,
      requires: ['client', 'expert'],
      segments: [{ start: '2025-11-24T09:03:00.000Z', end: null }],
    });
    const events = tracking.service.events('M-2000');
    expect(events.every((e) => e.source === 'mqtt')).toBe(true);
  });
});
