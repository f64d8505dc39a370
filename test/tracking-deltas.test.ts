// The `meetings` topic carries numbered deltas, not the whole insight: a
// follower that applies them to its snapshot holds exactly the insight the
// agent would answer now, and a missing delta makes it fetch a fresh snapshot.
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyMeetingDelta, MeetingFollower, type MeetingState } from '../src/client/meeting-deltas.js';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { MeetingCache } from '../src/sync/outbox.js';
import { Outbox } from '../src/sync/outbox.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { TrackingService } from '../src/tracking/service.js';
import type { MeetingDelta } from '../src/tracking/types.js';
import { FakeClock } from '../src/util/clock.js';

const B = 1_700_000_000;
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function service(extra: Record<string, unknown> = {}) {
  const clock = new FakeClock(B * 1000);
  const store = new Store(':memory:');
  stores.push(store);
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0, ...extra }) as never;
  const bus = new Bus();
  const deltas: MeetingDelta[] = [];
  bus.subscribe((m) => m.topic === 'meetings' && deltas.push(m.data as MeetingDelta));
  const svc = new TrackingService({ store, bus, events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) }, cfg);
  return { svc, clock, deltas, store };
}

type Step = { who: number; dt: number; end: boolean };

/** Conference events for a random walk of joins and leaves (a leave of someone not connected is a join). */
function eventsOf(steps: Step[], people: number): { at: number; ev: Record<string, unknown> }[] {
  const open = new Map<number, { call: string; join: number }>();
  const out: { at: number; ev: Record<string, unknown> }[] = [];
  let t = B + 1;
  out.push({ at: t, ev: { event: 'conf.create.succ', id: 'conf', begin_time: t, user_data: '{"meeting":"W"}' } });
  steps.forEach((s, k) => {
    t += s.dt;
    if (s.end) {
      out.push({ at: t, ev: { event: 'conf.end', id: 'conf', begin_time: B + 1, end_time: t, error: null, user_data: null } });
      return;
    }
    const who = s.who % people;
    const common = { id: 'conf', part_uri: `+7${who}`, user_data: `{"person":"p${who}","role":"${who % 2 ? 'a' : 'b'}"}` };
    const o = open.get(who);
    if (o) {
      open.delete(who);
      out.push({ at: t, ev: { event: 'conf.quit', call_id: o.call, join_time: o.join, quit_time: t, ...common } });
    } else {
      open.set(who, { call: `call${k}`, join: t });
      out.push({ at: t, ev: { event: 'conf.joined', call_id: `call${k}`, join_time: t, ...common } });
    }
  });
  return out;
}

const walk = fc.record({
  people: fc.integer({ min: 1, max: 8 }),
  steps: fc.array(
    fc
      .record({ who: fc.nat(50), dt: fc.integer({ min: 0, max: 90 }), end: fc.constant(false) })
      .chain((s) =>
        fc.oneof({ weight: 30, arbitrary: fc.constant(s) }, { weight: 1, arbitrary: fc.constant({ ...s, end: true }) }),
      ),
    { minLength: 1, maxLength: 40 },
  ),
  /** Events ingested per flush. */
  chunk: fc.integer({ min: 1, max: 5 }),
  /** Extra time between the last event of a chunk and its flush. */
  idle: fc.integer({ min: 0, max: 120_000 }),
  /** Index of the delta a late follower starts at (its snapshot). */
  joinAt: fc.nat(60),
});

describe('meeting deltas', () => {
  it('property: applying the deltas to a snapshot gives the fresh insight after every change', () => {
    fc.assert(
      fc.property(walk, ({ people, steps, chunk, idle, joinAt }) => {
        const { svc, clock, deltas } = service();
        const evs = eventsOf(steps, people);
        let early: MeetingState | null = null; // follows from the first delta on
        let late: MeetingState | null = null; // starts from a snapshot taken mid-way
        let taken = 0;
        for (let k = 0; k < evs.length; k += chunk) {
          const part = evs.slice(k, k + chunk);
          const last = part[part.length - 1].at * 1000;
          clock.advance(Math.max(0, last - clock.now()));
          svc.ingest(
            part.map((p) => p.ev),
            'test',
          );
          clock.advance(0); // the push (publish_delay_ms = 0)
          if (!late && deltas.length >= joinAt) late = svc.followState('W');
          for (const d of deltas.slice(taken)) {
            const a = applyMeetingDelta(early, d);
            expect(a.kind).toBe('applied');
            if (a.kind === 'applied') early = a.state;
            if (late) {
              const b = applyMeetingDelta(late, d);
              if (b.kind === 'applied') late = b.state;
              else expect(b.kind).toBe('stale'); // the snapshot's own delta
            }
          }
          taken = deltas.length;
          const fresh = svc.insight('W');
          expect(early?.insight).toEqual(fresh);
          if (late) expect(late.insight).toEqual(fresh);
          // Time passes with no event: open calls keep growing; the next delta is taken against that.
          clock.advance(idle);
        }
        // Numbered 1, 2, 3… within one epoch.
        expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
        expect(new Set(deltas.map((d) => d.epoch)).size).toBe(1);
      }),
      { numRuns: 150 },
    );
  });

  it('a join in a large meeting sends that participant only, not the whole insight', () => {
    const { svc, clock, deltas } = service();
    const join = (k: number, at: number) => ({
      event: 'conf.joined',
      id: 'big',
      call_id: `c${k}`,
      join_time: at,
      part_uri: `+7${k}`,
      user_data: `{"person":"person-${k}"}`,
    });
    svc.ingest({ event: 'conf.create.succ', id: 'big', begin_time: B, user_data: '{"meeting":"BIG"}' }, 'test');
    svc.ingest(
      Array.from({ length: 300 }, (_, k) => join(k, B + 1)),
      'test',
    );
    clock.advance(0);
    const full = deltas.at(-1)!;
    clock.advance(5000);
    svc.ingest(join(300, B + 3), 'test');
    clock.advance(0);
    const d = deltas.at(-1)!;
    expect(d.seq).toBe(full.seq + 1);
    expect(d.insight).toBeUndefined();
    expect(d.participants?.map((p) => p.key)).toEqual(['person-300']);
    expect(d.summary.counts).toMatchObject({ participants: 301, connected: 301, calls: 301 });
    expect(JSON.stringify(d).length).toBeLessThan(2000);
    expect(JSON.stringify(svc.insight('BIG')).length).toBeGreaterThan(50_000);
    // A participant coming back: their row with the new call only, the older ones kept from the held row.
    svc.ingest({ ...join(0, B + 1), event: 'conf.quit', quit_time: B + 4 }, 'test');
    clock.advance(0);
    svc.ingest({ ...join(0, B + 5), call_id: 'c0-again' }, 'test');
    clock.advance(0);
    const back = deltas.at(-1)!;
    expect(back.participants).toHaveLength(1);
    expect(back.participants?.[0]).toMatchObject({ key: 'person-0', calls_kept: 1, connected: true });
    expect(back.participants?.[0].calls.map((c) => c.call_id)).toEqual(['c0-again']);
    let state: MeetingState = { epoch: full.epoch, seq: full.seq, insight: full.insight! };
    for (const x of deltas.slice(deltas.indexOf(full) + 1)) {
      const r = applyMeetingDelta(state, x);
      if (r.kind !== 'applied') throw new Error(`delta ${x.seq}: ${r.kind}`);
      state = r.state;
    }
    expect(state.insight).toEqual(svc.insight('BIG'));
    expect(state.insight.participants[0].calls.map((c) => c.call_id)).toEqual(['c0-again', 'c0']);
  });

  it('a follower that misses a delta fetches a fresh snapshot and ends equal to the insight', async () => {
    const { svc, clock, deltas } = service();
    const fetch = vi.fn(async (id: string) => svc.followState(id));
    const states: MeetingState[] = [];
    const f = new MeetingFollower('G', fetch, (s) => states.push(s));
    svc.ingest({ event: 'conf.create.succ', id: 'g', begin_time: B, user_data: '{"meeting":"G"}' }, 'test');
    clock.advance(0);
    await f.resync();
    expect(fetch).toHaveBeenCalledTimes(1);
    const step = (k: number) => {
      svc.ingest({ event: 'conf.joined', id: 'g', call_id: `c${k}`, join_time: B + k, part_uri: `+${k}` }, 'test');
      clock.advance(1000);
    };
    step(1);
    f.offer(deltas.at(-1)!);
    expect(f.state?.insight).toEqual(svc.insight('G'));
    step(2); // this delta is lost
    step(3);
    expect(fetch).toHaveBeenCalledTimes(1);
    f.offer(deltas.at(-1)!); // seq jumps by two: a gap
    expect(fetch).toHaveBeenCalledTimes(2);
    await vi.waitFor(() => expect(f.state?.seq).toBe(deltas.at(-1)!.seq));
    // The fresh snapshot is itself published as a delta; offering the deltas again changes nothing.
    for (const d of deltas) f.offer(d);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(f.state?.insight).toEqual(svc.insight('G'));
    expect(f.state?.insight.participants.map((p) => p.key)).toEqual(['+1', '+2', '+3']);
  });

  it('another epoch or a meeting whose base was dropped restarts with a full delta', () => {
    const { svc, clock, deltas } = service({ delta_base_meetings: 1 });
    svc.ingest({ event: 'conf.joined', id: 'a', call_id: 'x', join_time: B, part_uri: 'u' }, 'test');
    clock.advance(0);
    const first = deltas.at(-1)!;
    expect(first.insight?.id).toBe('a');
    svc.ingest({ event: 'conf.joined', id: 'b', call_id: 'y', join_time: B, part_uri: 'u' }, 'test');
    clock.advance(0);
    svc.ingest({ event: 'conf.joined', id: 'a', call_id: 'z', join_time: B + 1, part_uri: 'v' }, 'test');
    clock.advance(0);
    const again = deltas.at(-1)!;
    expect(again.id).toBe('a');
    expect(again.epoch).not.toBe(first.epoch);
    expect(again.insight?.participants).toHaveLength(2);
    const held: MeetingState = { epoch: first.epoch, seq: first.seq, insight: first.insight! };
    const r = applyMeetingDelta(held, again);
    expect(r.kind).toBe('applied');
    expect(applyMeetingDelta(held, { ...again, insight: undefined })).toEqual({ kind: 'gap' });
    expect(applyMeetingDelta(null, { ...again, insight: undefined })).toEqual({ kind: 'gap' });
  });
});

describe('sync MeetingCache', () => {
  it('prepares its statements once, not on every put', () => {
    const store = new Store(':memory:');
    stores.push(store);
    new Outbox(store, 'room', { maxRows: 10, maxAgeMs: 1000 });
    const cache = new MeetingCache(store);
    const prepare = vi.spyOn(store.db, 'prepare');
    for (let k = 0; k < 5; k++) cache.put(`m${k}`, '{}', k, 3);
    expect(cache.all().map((m) => m.id)).toEqual(['m2', 'm3', 'm4']);
    expect(prepare).not.toHaveBeenCalled();
  });
});
