// The service path (SQLite log, instance rows, re-filing conferences under
// their meeting, the in-memory fold cache updated event by event) must give
// the same insight as one fold of all events, whatever the delivery order,
// chunking and duplicates.
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { TrackingService } from '../src/tracking/service.js';
import type { Insight } from '../src/tracking/types.js';
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
  const pushed: Insight[] = [];
  bus.subscribe((m) => m.topic === 'meetings' && pushed.push(m.data as Insight));
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
    expect(pushed.map((i) => [i.id, i.status, i.participants.length])).toEqual([['P', 'live', 1]]);
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
