// The service path (SQLite log, instance rows, re-filing conferences under
// their meeting, the in-memory fold cache updated event by event) must give
// the same insight as one fold of all events, whatever the delivery order,
// chunking and duplicates.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { parseConfEvent } from '../src/tracking/parse.js';
import { dedupText } from './support/dedup-text.js';
import { mapZoom } from '../src/tracking/zoom.js';
import { TrackingService } from '../src/tracking/service.js';
import { TRACKING_MIGRATIONS } from '../src/tracking/store.js';
import type { MeetingDelta } from '../src/tracking/types.js';
import { FakeClock } from '../src/util/clock.js';
import { Value } from '@sinclair/typebox/value';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function service(clock = new FakeClock(Date.UTC(2030, 0, 1))) {
  const store = new Store(':memory:');
  stores.push(store);
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never;
  const bus = new Bus();
  const pushed: MeetingDelta[] = [];
  bus.subscribe((m) => m.topic === 'meetings' && pushed.push(m.data as MeetingDelta));
  const svc = new TrackingService({ store, bus, events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) }, cfg);
  return { svc, clock, pushed, store };
}

const B = 1_700_000_000;
const meetingEvents = fc
  .array(
    fc.record({
      who: fc.integer({ min: 0, max: 3 }),
      off: fc.integer({ min: 0, max: 400 }),
      len: fc.integer({ min: 0, max: 300 }),
      quit: fc.boolean(),
      conf: fc.integer({ min: 0, max: 1 }),
    }),
    { maxLength: 12 },
  )
  .map((calls) => {
    const evs: Record<string, unknown>[] = [];
    for (const conf of [0, 1]) {
      const b = B + conf * 1000;
      evs.push({ event: 'conf.create.succ', id: `c${conf}`, begin_time: b, user_data: '{"meeting":"M"}' });
      evs.push({ event: 'conf.end', id: `c${conf}`, begin_time: b, end_time: b + 600, error: null, user_data: null });
    }
    calls.forEach((c, k) => {
      const j = B + c.conf * 1000 + c.off;
      const common = { id: `c${c.conf}`, call_id: `call${k}`, part_uri: `+7${c.who}`, user_data: `{"person":"p${c.who}"}` };
      evs.push({ event: 'conf.joined', join_time: j, ...common });
      if (c.quit) evs.push({ event: 'conf.quit', join_time: j, quit_time: j + c.len, ...common });
    });
    evs.push({ event: 'conf.mute', id: 'c0', n: 1 });
    return evs;
  });

describe('TrackingService', () => {
  it('gives the fold of all events for any order, chunking and duplicates (with the cache warm in between)', () => {
    fc.assert(
      fc.property(
        meetingEvents,
        fc.func(fc.integer()),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 1, max: 5 }),
        (evs, key, dups, chunk) => {
          const ref = service();
          ref.svc.ingest(evs, 'test');
          const want = ref.svc.insight('M');

          const got = service();
          const order = [...evs, ...dups.map((i) => evs[i % evs.length])].sort((a, b) => key(a) - key(b));
          for (let i = 0; i < order.length; i += chunk) {
            got.svc.ingest(order.slice(i, i + chunk), 'test');
            // Read in between, so later events go through the cached fold.
            try {
              got.svc.insight('M', B * 1000 + 300_000);
            } catch {
              // "M" may not exist yet (no create/end event seen so far)
            }
          }
          expect({ ...got.svc.insight('M'), as_of: '' }).toEqual({ ...want, as_of: '' });
          expect(got.svc.events('M', 10_000).length).toBe(evs.length);
          // Events filed under a conference id before its create event arrived are not left behind.
          expect(got.svc.list().map((m) => m.id)).toEqual(['M']);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('pushes coalesced insight on the bus after the publish delay (fake clock)', () => {
    const { svc, clock, pushed } = service();
    svc.ingest({ event: 'conf.create.succ', id: 'x', begin_time: B, user_data: '{"meeting":"P"}' }, 'test');
    svc.ingest({ event: 'conf.joined', id: 'x', join_time: B + 1, call_id: 'a', part_uri: 'u' }, 'test');
    expect(pushed).toHaveLength(0);
    clock.advance(0);
    expect(pushed.map((d) => [d.id, d.seq, d.summary.status, d.summary.counts.participants])).toEqual([['P', 1, 'live', 1]]);
  });

  it('a push of more new meetings than the fold cache holds folds them from memory, not from the log', () => {
    const { svc, clock, pushed } = service();
    const evs = Array.from({ length: 100 }, (_, k) => ({
      event: 'conf.joined',
      id: `many-${k}`,
      join_time: B + k,
      call_id: `c${k}`,
      part_uri: 'u',
    }));
    svc.ingest(evs, 'test');
    const reads = vi.spyOn(svc.store, 'knownEventsOf');
    clock.advance(0);
    expect(pushed).toHaveLength(100);
    expect(reads).not.toHaveBeenCalled();
  });

  it('stores the final insight once ended and serves it without folding; a late event makes it dirty', () => {
    const { svc, store } = service();
    svc.ingest(
      [
        { event: 'conf.create.succ', id: 'y', begin_time: B, user_data: '{"meeting":"F"}' },
        { event: 'conf.end', id: 'y', begin_time: B, end_time: B + 60, error: null },
      ],
      'test',
    );
    const first = svc.insight('F');
    expect(first.final).toBe(true);
    expect(svc.finalJson('F')).toBe(JSON.stringify(first));
    svc.ingest({ event: 'conf.quit', id: 'y', join_time: B + 1, quit_time: B + 2, call_id: 'q', part_uri: 'u' }, 'test');
    expect(svc.finalJson('F')).toBeUndefined();
    expect(store.db.prepare("SELECT final_dirty FROM tracking_meetings WHERE id = 'F'").pluck().get()).toBe(1);
    expect(svc.insight('F').participants).toHaveLength(1);
    expect(svc.finalJson('F')).toBeDefined();
  });
});

describe('fold snapshots', () => {
  const many = (conf: string, n: number, from = 0) =>
    Array.from({ length: n }, (_, k) => ({
      event: 'conf.joined',
      id: conf,
      join_time: B + 10 + from + k,
      call_id: `${conf}-${from + k}`,
      part_uri: `+7${(from + k) % 9}`,
      user_data: null,
    }));

  it('a cold read loads the snapshot and folds only later events, with the same answer', () => {
    const { svc, store } = service();
    svc.ingest(many('s1', 1500), 'test');
    svc.ingest(many('s1', 1500, 1500), 'test');
    svc.ingest({ event: 'conf.create.succ', id: 's1', begin_time: B, user_data: '{"meeting":"S"}' }, 'test');
    const warm = svc.insight('S', (B + 2000) * 1000);
    const snap = store.db.prepare("SELECT upto_seq, events FROM tracking_snapshots WHERE meeting = 'S'").get() as {
      events: number;
    };
    expect(snap.events).toBe(3001);
    svc.ingest(many('s1', 10, 3000), 'test');
    svc.forget('S');
    const cold = svc.insight('S', (B + 2000) * 1000);
    expect(cold).toEqual(warm);
    expect(svc.insight('S', (B + 4000) * 1000).participants.reduce((n, p) => n + p.calls.length, 0)).toBe(3010);
  });

  it('moving a conference into another meeting drops the snapshots involved', () => {
    const { svc, store } = service();
    svc.ingest(many('s2', 2100), 'test');
    svc.insight('s2');
    expect(store.db.prepare("SELECT count(*) FROM tracking_snapshots WHERE meeting = 's2'").pluck().get()).toBe(1);
    svc.ingest({ event: 'conf.create.succ', id: 's2', begin_time: B, user_data: '{"meeting":"T"}' }, 'test');
    expect(store.db.prepare('SELECT count(*) FROM tracking_snapshots').pluck().get()).toBe(0);
    expect(svc.insight('T', (B + 5000) * 1000).participants.reduce((n, p) => n + p.calls.length, 0)).toBe(2100);
  });
});

describe('schema upgrade', () => {
  it('v2 → v5 keeps every event and its seq, and a redelivery is still a duplicate', () => {
    const store = new Store(':memory:');
    stores.push(store);
    store.migrate('tracking', TRACKING_MIGRATIONS.slice(0, 2));
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    // Written the way a v2 agent did: key unique on its own.
    const ev = { event: 'conf.joined', id: 'u1', join_time: B, call_id: 'k1', part_uri: '+71', user_data: null };
    const parsed = parseConfEvent(ev, 0, clock.now());
    store.db
      .prepare(
        `INSERT INTO tracking_events (seq, dedup_key, conference, event, known, at, received_at, source, raw)
         VALUES (7, ?, 'u1', 'conf.joined', 1, ?, ?, 'test', ?)`,
      )
      .run(sha1Key(parsed, ev), parsed.at, clock.now(), JSON.stringify(ev));
    const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never;
    const svc = new TrackingService(
      { store, bus: new Bus(), events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) },
      cfg,
    );
    expect(store.version('tracking')).toBe(TRACKING_MIGRATIONS.length);
    expect(svc.ingest(ev, 'test')).toEqual({ accepted: 0, duplicates: 1 });
    expect(svc.ingest({ ...ev, call_id: 'k2' }, 'test')).toEqual({ accepted: 1, duplicates: 0 });
    const rows = store.db.prepare('SELECT seq, duplicates FROM tracking_events ORDER BY seq').all();
    expect(rows).toEqual([
      { seq: 7, duplicates: 1 },
      { seq: 8, duplicates: 0 },
    ]);
  });

  it('v3 → v5 re-keys stored events: callback, Zoom and unknown events redelivered are duplicates', () => {
    const store = new Store(':memory:');
    stores.push(store);
    store.migrate('tracking', TRACKING_MIGRATIONS.slice(0, 3));
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const now = clock.now();
    const joined = { event: 'conf.joined', id: 'v3', join_time: B, call_id: 'k1', part_uri: '+71', user_data: '{"person":"p"}' };
    const unknown = { event: 'conf.mute', id: 'v3', who: '+71', at: B };
    const zoom = {
      event: 'meeting.participant_joined',
      event_ts: B * 1000,
      payload: {
        object: { uuid: 'z3', id: '42', participant: { email: 'A@x.org', join_time: new Date(B * 1000).toISOString() } },
      },
    };
    const zoomEvents = mapZoom(zoom, now);
    if (zoomEvents.kind !== 'events') throw new Error('expected a mapped Zoom event');
    const zev = zoomEvents.events[0];
    // Written the way a v3 agent did: SHA-1 of the key text, unique per conference.
    const insert = store.db.prepare(
      `INSERT INTO tracking_events (dedup_key, conference, event, known, at, received_at, source, raw, norm)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const raw of [joined, unknown]) {
      const ev = parseConfEvent(raw, 0, now);
      insert.run(
        sha1Key(ev, raw),
        ev.conference,
        ev.event,
        ev.known ? 1 : 0,
        ev.at,
        now,
        'conference',
        JSON.stringify(raw),
        null,
      );
    }
    insert.run(sha1Key(zev, zoom), zev.conference, zev.event, 1, zev.at, now, 'zoom', JSON.stringify(zoom), JSON.stringify(zev));
    // A row this version would refuse keeps its old key (and does not stop the upgrade).
    insert.run(
      Buffer.from('old'),
      'v3',
      'conf.joined',
      1,
      B * 1000,
      now,
      'conference',
      '{"event":"conf.joined","id":"v3"}',
      null,
    );
    const svc = new TrackingService(
      { store, bus: new Bus(), events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) },
      Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never,
    );
    expect(store.version('tracking')).toBe(TRACKING_MIGRATIONS.length);
    expect(svc.ingest([joined, { ...unknown }], 'conference')).toEqual({ accepted: 0, duplicates: 2 });
    expect(svc.ingestParsed([{ ev: zev, raw: zoom }], 'zoom')).toEqual({ accepted: 0, duplicates: 1 });
    expect(
      svc.ingest(
        [
          { ...joined, call_id: 'k2' },
          { ...unknown, at: B + 1 },
        ],
        'conference',
      ),
    ).toEqual({
      accepted: 2,
      duplicates: 0,
    });
    const counts = store.db.prepare('SELECT duplicates FROM tracking_events ORDER BY seq').pluck().all();
    expect(counts).toEqual([1, 1, 1, 0, 0, 0]);
  });
});

/** The dedup key tracking schema versions 1–3 stored. */
function sha1Key(ev: ReturnType<typeof parseConfEvent>, raw: unknown): Buffer {
  return createHash('sha1').update(dedupText(ev, raw)).digest();
}
