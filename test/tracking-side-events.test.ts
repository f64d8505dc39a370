// The agent's own tracking sources: dial-out statuses (recordDial, source
// `twilio`) and code bindings (recordBinding, source `identity`), stored in the
// event log like every other source, validated and deduplicated.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { EventInputError, parseConfEvent } from '../src/tracking/parse.js';
import { TrackingService } from '../src/tracking/service.js';
import type { DialRecord } from '../src/tracking/types.js';
import { mapZoom } from '../src/tracking/zoom.js';
import { FakeClock } from '../src/util/clock.js';

const B = 1_700_000_000;
const stores: Store[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function service(file = ':memory:') {
  const store = new Store(file);
  stores.push(store);
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never;
  const events = new RoomEvents();
  const emitted: { type: string; data: Record<string, unknown> }[] = [];
  events.on((e) => emitted.push(e as never));
  const svc = new TrackingService(
    { store, bus: new Bus(), events, clock: new FakeClock(Date.UTC(2030, 0, 1)), logger: pino({ level: 'silent' }) },
    cfg,
  );
  return { svc, store, emitted };
}

const dial = (over: Partial<DialRecord> = {}): DialRecord => ({
  meeting: 'M',
  call_sid: 'CA0001',
  status: 'ringing',
  sequence: 1,
  person: 'expert-1',
  number: '+15005550006',
  reason: null,
  at: (B + 10) * 1000,
  ...over,
});
const conf = [
  { event: 'conf.create.succ', id: 'c1', begin_time: B, user_data: '{"meeting":"M"}' },
  { event: 'conf.joined', id: 'c1', join_time: B + 1, call_id: 'a', part_uri: '+7999', user_data: null },
];

describe('recordDial', () => {
  it('stores a status with source twilio, listed with the meeting’s events, and announces it as a room event', () => {
    const { svc, emitted } = service();
    svc.ingest(conf, 'conference');
    expect(svc.recordDial(dial())).toEqual({ accepted: 1, duplicates: 0 });
    const ev = svc.events('M').find((e) => e.event === 'dial.status');
    expect(ev).toMatchObject({
      source: 'twilio',
      known: true,
      instance_id: 'twilio:M',
      time: new Date((B + 10) * 1000).toISOString(),
      data: { meeting: 'M', call_sid: 'CA0001', status: 'ringing', sequence: 1, person: 'expert-1', number: '+15005550006' },
    });
    expect(emitted.filter((e) => e.type === 'meeting.event').at(-1)?.data).toMatchObject({ meeting_id: 'M', source: 'twilio' });
    // Not an instance of the meeting.
    expect(svc.insight('M').instances.map((i) => i.id)).toEqual(['c1']);
    expect(svc.list().map((m) => [m.id, m.instances])).toEqual([['M', 1]]);
  });

  it('is deduplicated by call_sid + status + sequence (a string SequenceNumber is the same number)', () => {
    const { svc } = service();
    svc.recordDial(dial());
    expect(svc.recordDial(dial({ sequence: '1', at: (B + 11) * 1000, reason: 'repeat' }))).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    expect(svc.recordDial(dial({ sequence: 2 }))).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordDial(dial({ status: 'in-progress', sequence: 2 }))).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordDial(dial({ call_sid: 'CA0002' }))).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordDial(dial({ sequence: null }))).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordDial(dial({ sequence: undefined }))).toEqual({ accepted: 0, duplicates: 1 });
    const stored = svc.events('M').filter((e) => e.event === 'dial.status');
    expect(stored).toHaveLength(5);
    expect(stored.find((e) => (e.data as DialRecord).sequence === 1)?.duplicates).toBe(1);
  });

  it('refuses a bad record with the field named and stores nothing', () => {
    const { svc, store } = service();
    const bad: [Record<string, unknown>, string][] = [
      [{ status: 'answered' }, 'status'],
      [{ call_sid: '' }, 'call_sid'],
      [{ meeting: undefined }, 'meeting'],
      [{ sequence: -1 }, 'sequence'],
      [{ sequence: '1a' }, 'sequence'],
      [{ at: '2025-01-01 10:00' }, 'at'],
      [{ number: 42 }, 'number'],
    ];
    for (const [over, field] of bad) {
      let err: unknown;
      try {
        svc.recordDial({ ...dial(), ...over } as DialRecord);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(EventInputError);
      expect((err as EventInputError).field).toBe(field);
      expect((err as EventInputError).code).toBe('INVALID_PARAMS');
    }
    expect(store.db.prepare('SELECT count(*) FROM tracking_events').pluck().get()).toBe(0);
  });

  it('a dial before any conference event: the meeting is listed as scheduled, and its statuses fold in when the conference comes', () => {
    const { svc } = service();
    svc.recordDial(dial({ status: 'initiated', sequence: 0 }));
    expect(svc.list().map((m) => [m.id, m.status, m.instances])).toEqual([['M', 'scheduled', 0]]);
    expect(svc.insight('M')).toMatchObject({ status: 'scheduled', instances: [] });
    svc.ingest(conf, 'conference');
    expect(svc.insight('M').status).toBe('live');
    expect(svc.events('M').map((e) => e.event)).toEqual(['conf.create.succ', 'conf.joined', 'dial.status']);
  });

  it('after a restart on the same file a redelivery is still a duplicate and the stored statuses are read back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'side-'));
    dirs.push(dir);
    const file = path.join(dir, 'agent.db');
    const first = service(file);
    first.svc.ingest(conf, 'conference');
    first.svc.recordDial(dial());
    first.svc.recordBinding({ meeting: 'M', participant: '+7999', person: 'alice', at: (B + 20) * 1000, by: 'code' });
    first.store.close();
    stores.splice(stores.indexOf(first.store), 1);
    const again = service(file);
    expect(again.svc.recordDial(dial())).toEqual({ accepted: 0, duplicates: 1 });
    expect(
      again.svc.recordBinding({ meeting: 'M', participant: '+7999', person: 'alice', at: (B + 20) * 1000, by: 'code' }),
    ).toEqual({ accepted: 0, duplicates: 1 });
    expect(again.svc.events('M').map((e) => [e.event, e.source, e.duplicates])).toEqual([
      ['conf.create.succ', 'conference', 0],
      ['conf.joined', 'conference', 0],
      ['dial.status', 'twilio', 1],
      ['identity.bound', 'identity', 1],
    ]);
  });
});

describe('recordBinding', () => {
  it('stores a binding with source identity, deduplicated by participant, person, time and by', () => {
    const { svc } = service();
    svc.ingest(conf, 'conference');
    const b = { meeting: 'M', participant: '+7999', person: 'alice', at: (B + 5) * 1000, by: 'code' as const };
    expect(svc.recordBinding(b)).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordBinding({ ...b, at: new Date((B + 5) * 1000).toISOString() })).toEqual({ accepted: 0, duplicates: 1 });
    expect(svc.recordBinding({ ...b, at: (B + 6) * 1000 })).toEqual({ accepted: 1, duplicates: 0 });
    expect(svc.recordBinding({ ...b, person: 'bob' })).toEqual({ accepted: 1, duplicates: 0 });
    const ev = svc.events('M').find((e) => e.event === 'identity.bound');
    expect(ev).toMatchObject({
      source: 'identity',
      instance_id: 'identity:M',
      data: { meeting: 'M', participant: '+7999', person: 'alice', by: 'code' },
    });
  });

  it('refuses a record without participant or person, or proven other than by code', () => {
    const { svc, store } = service();
    const ok = { meeting: 'M', participant: 'p', person: 'x', by: 'code' };
    for (const [over, field] of [
      [{ participant: ' ' }, 'participant'],
      [{ person: null }, 'person'],
      [{ by: 'guess' }, 'by'],
      [{ at: 'yesterday' }, 'at'],
    ] as const) {
      expect(() => svc.recordBinding({ ...ok, ...over } as never), field).toThrow(field);
    }
    expect(store.db.prepare('SELECT count(*) FROM tracking_events').pluck().get()).toBe(0);
  });
});

describe('webhooks cannot forge the agent’s own events', () => {
  it('a callback named dial.status is an unknown event; a conference id with a reserved prefix is refused', () => {
    expect(parseConfEvent({ event: 'dial.status', id: 'c9', call_sid: 'x', status: 'busy' }, 0, B * 1000).known).toBe(false);
    expect(() => parseConfEvent({ event: 'conf.create.succ', id: 'twilio:M', begin_time: B }, 0, B * 1000)).toThrow(/reserved/);
    expect(() => parseConfEvent({ event: 'conf.mute', id: 'identity:M' }, 0, B * 1000)).toThrow(/reserved/);
    expect(() =>
      mapZoom({ event: 'meeting.started', payload: { object: { uuid: 'twilio:M', id: 1, start_time: B } } }, B * 1000),
    ).toThrow(/reserved/);
  });

  it('a conf.quit may carry an error (the call was lost); it is part of the duplicate key', () => {
    const q = { event: 'conf.quit', id: 'c1', join_time: B, quit_time: B + 5, call_id: 'a', part_uri: 'u' };
    expect(parseConfEvent({ ...q, error: 'media timeout' }, 0, B * 1000).error).toBe('media timeout');
    expect(parseConfEvent(q, 0, B * 1000).error).toBeNull();
    expect(() => parseConfEvent({ ...q, error: 5 }, 0, B * 1000)).toThrow(/error/);
    const { svc } = service();
    svc.ingest(conf, 'conference');
    expect(svc.ingest([q, { ...q, error: 'media timeout' }, { ...q, error: 'media timeout' }], 'conference')).toEqual({
      accepted: 2,
      duplicates: 1,
    });
  });
});

describe('schema 6', () => {
  it('a final insight stored before interruptions existed is recomputed on the next read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'side-v6-'));
    dirs.push(dir);
    const file = path.join(dir, 'agent.db');
    const first = service(file);
    first.svc.ingest(
      [...conf, { event: 'conf.end', id: 'c1', begin_time: B, end_time: B + 60, error: 'media server crashed' }],
      'conference',
    );
    const fresh = first.svc.insight('M');
    expect(fresh.final).toBe(true);
    // As a v5 agent stored it: no interruptions, no identity fields.
    const old = {
      ...fresh,
      interruptions: undefined,
      participants: fresh.participants.map(({ key, person }) => ({ key, person })),
    };
    first.store.db
      .prepare("UPDATE tracking_meetings SET final_insight = ?, final_dirty = 0 WHERE id = 'M'")
      .run(JSON.stringify(old));
    first.store.db.prepare("UPDATE schema_version SET version = 5 WHERE module = 'tracking'").run();
    first.store.close();
    stores.splice(stores.indexOf(first.store), 1);
    const again = service(file);
    expect(again.store.version('tracking')).toBe(6);
    expect(again.svc.insight('M').interruptions).toEqual([
      {
        at: new Date((B + 60) * 1000).toISOString(),
        kind: 'instance_failed',
        participant: null,
        reason: 'media server crashed',
        duration_ms: null,
      },
    ]);
  });
});
