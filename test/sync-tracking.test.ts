// inbox/events through the real tracking feature: the same ingest path as the
// webhooks (dedup holds), meeting events out on `events`, a bounded summary
// retained on `meetings/<id>`, numbered deltas on `meetings/<id>/deltas`, and
// the current meeting in `state`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { createAlerts, createSync, type SyncFeature } from '../src/sync/index.js';
import { applyMeetingDelta, type MeetingDelta, type MeetingState } from '../src/client/meeting-deltas.js';
import type { EventMessage, MeetingMessage, StateMessage } from '../src/sync/topics.js';
import { createTracking, type TrackingFeature } from '../src/tracking/index.js';
import { startTestAgent } from './support/agent.js';
import { createAedes, mqttToml, Subscriber } from './sync-support.js';

const BASE = 'rooms/test-room';
const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/conference-events.sample.jsonl');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

it('relayed conference events are ingested once, published as events, and retained as meeting insight', async () => {
  const events = fs
    .readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const broker = await createAedes();
  cleanups.push(() => broker.close());
  const sub = await Subscriber.connect(broker, [`${BASE}/#`]);
  cleanups.push(() => sub.close());
  const a = await startTestAgent(`${mqttToml(broker)}\n[tracking]\npublish_delay_ms = 0\n[alerts]\ndisk_min_free_mb = 0\n`, {
    features: [createTracking, createAlerts, createSync],
  });
  cleanups.push(() => a.stop());
  const sync = a.agent.ctx.feature<SyncFeature>('sync')!;
  await sub.waitFor(() => sync.link.isUp && sub.json(`${BASE}/status`).length > 0, 10_000, 'online');

  const send = (transaction: string) =>
    sub.client.publishAsync(`${BASE}/inbox/events`, JSON.stringify({ transaction, events }), { qos: 1 });
  await send('first');
  await sub.waitFor(() => sub.json(`${BASE}/inbox/events/reply`).length === 1, 10_000, 'first reply');
  const first = sub.last<{ transaction: string; result: { accepted: number; duplicates: number } }>(
    `${BASE}/inbox/events/reply`,
  )!;
  expect(first.transaction).toBe('first');
  expect(first.result.accepted).toBeGreaterThan(0);
  expect(first.result.accepted + first.result.duplicates).toBe(events.length); // the fixture holds one duplicate delivery
  await send('again');
  await sub.waitFor(() => sub.json(`${BASE}/inbox/events/reply`).length === 2, 10_000, 'second reply');
  expect(sub.last(`${BASE}/inbox/events/reply`)).toEqual({
    transaction: 'again',
    result: { accepted: 0, duplicates: events.length },
  });

  // Meeting events leave through the outbox; insight is retained per meeting.
  await sub.waitFor(
    () => sub.json<EventMessage>(`${BASE}/events`).filter((e) => e.type === 'meeting.event').length === first.result.accepted,
    10_000,
    'meeting events',
  );
  // Retained per meeting: the bounded summary; the changes go to meetings/<id>/deltas, numbered.
  const isSummary = (t: string) => t.startsWith(`${BASE}/meetings/`) && !t.endsWith('/deltas');
  await sub.waitFor(() => sub.messages.some((m) => isSummary(m.topic)), 10_000, 'meeting summary');
  const summaryMsg = sub.messages.filter((m) => isSummary(m.topic)).pop()!;
  const summary = summaryMsg.data as MeetingMessage;
  expect(summaryMsg.topic).toBe(`${BASE}/meetings/${summary.id}`);
  expect(summary).toMatchObject({ status: expect.any(String), seq: expect.any(Number), epoch: expect.any(String) });
  expect(summary.counts).toMatchObject({ participants: expect.any(Number), calls: expect.any(Number) });
  expect(summary).not.toHaveProperty('participants');
  const deltaTopic = `${BASE}/meetings/${summary.id}/deltas`;
  await sub.waitFor(() => sub.json<MeetingDelta>(deltaTopic).some((d) => d.seq === summary.seq), 10_000, 'deltas');
  let state: MeetingState | null = null;
  for (const d of sub.json<MeetingDelta>(deltaTopic)) {
    const r = applyMeetingDelta(state, d);
    expect(r.kind).not.toBe('gap');
    if (r.kind === 'applied') state = r.state;
  }
  const tracking = a.agent.ctx.feature<TrackingFeature>('tracking')!;
  expect(state?.insight).toEqual(tracking.insight(summary.id, state?.insight.as_of));
  // The room state names the live meeting by its summary, not its whole insight.
  const roomState = sub.last<StateMessage>(`${BASE}/state`);
  if (roomState?.meeting) expect(roomState.meeting).not.toHaveProperty('participants');

  // A bad event is refused with the tracking's own validation message; nothing stored.
  await sub.client.publishAsync(
    `${BASE}/inbox/events`,
    JSON.stringify({ transaction: 'bad', events: [{ event: 'conf.joined' }] }),
    {
      qos: 1,
    },
  );
  await sub.waitFor(() => sub.json(`${BASE}/inbox/events/reply`).length === 3, 10_000, 'bad reply');
  const bad = sub.last<{ transaction: string; error: { code: number; message: string } }>(`${BASE}/inbox/events/reply`)!;
  expect(bad.transaction).toBe('bad');
  expect(bad.error.message.length).toBeGreaterThan(0);
});

it('a failed dial-out to a roster person reaches MQTT: the alert on alerts, the interruption in the meeting deltas and counts', async () => {
  const broker = await createAedes();
  cleanups.push(() => broker.close());
  const sub = await Subscriber.connect(broker, [`${BASE}/#`]);
  cleanups.push(() => sub.close());
  const a = await startTestAgent(`${mqttToml(broker)}\n[tracking]\npublish_delay_ms = 0\n[alerts]\ndisk_min_free_mb = 0\n`, {
    features: [createTracking, createAlerts, createSync],
  });
  cleanups.push(() => a.stop());
  const sync = a.agent.ctx.feature<SyncFeature>('sync')!;
  await sub.waitFor(() => sync.link.isUp && sub.json(`${BASE}/status`).length > 0, 10_000, 'online');
  const tracking = a.agent.ctx.feature<TrackingFeature>('tracking')!;
  tracking.schedule({ id: 'M-9', roster: [{ person: 'erin', role: 'expert', contacts: ['+15005550199'] }] });
  const t = Math.floor(Date.now() / 1000) - 60;
  tracking.ingest({ event: 'conf.create.succ', id: 'c9', begin_time: t, user_data: '{"meeting":"M-9"}' }, 'test');
  tracking.recordDial({
    meeting: 'M-9',
    call_sid: 'CA9',
    status: 'no-answer',
    sequence: 3,
    person: null,
    number: '+15005550199',
    reason: null,
    at: t * 1000 + 5000,
  });
  await sub.waitFor(
    () =>
      sub.json<{ kind: string; state: string }>(`${BASE}/alerts`).some((x) => x.kind === 'dial_failed' && x.state === 'raised'),
    10_000,
    'dial_failed alert',
  );
  expect(sub.json<{ kind: string; key: string }>(`${BASE}/alerts`).find((x) => x.kind === 'dial_failed')?.key).toBe('M-9/erin');
  const deltaTopic = `${BASE}/meetings/M-9/deltas`;
  await sub.waitFor(() => sub.json<MeetingDelta>(deltaTopic).some((d) => d.summary.counts.interruptions === 1), 10_000, 'delta');
  let state: MeetingState | null = null;
  for (const d of sub.json<MeetingDelta>(deltaTopic)) {
    const r = applyMeetingDelta(state, d);
    expect(r.kind).not.toBe('gap');
    if (r.kind === 'applied') state = r.state;
  }
  expect(state?.insight.interruptions).toEqual([
    {
      at: new Date(t * 1000 + 5000).toISOString(),
      kind: 'dial_failed',
      participant: 'erin',
      reason: 'no-answer',
      duration_ms: null,
    },
  ]);
  await sub.waitFor(() => (sub.last<MeetingMessage>(`${BASE}/meetings/M-9`)?.counts.interruptions ?? 0) === 1, 10_000, 'summary');
});
