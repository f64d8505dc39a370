import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MeetingIndex, insightAt } from '../src/tracking/insight.js';
import type { Insight, RosterEntry } from '../src/tracking/types.js';
import { indexes } from './support/tracking-fold.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const sample = fs
  .readFileSync(path.join(HERE, 'fixtures/conference-events.sample.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Record<string, unknown>);

const T = (s: number) => new Date(s * 1000).toISOString();
const withoutAsOf = (i: Insight) => ({ ...i, as_of: '' });
const LATE = Date.UTC(2030, 0, 1);

describe('the sample fixture', () => {
  const ix = indexes(sample);
  const m1 = insightAt(ix.get('M-1001') as MeetingIndex, LATE);

  it('has one ended meeting M-1001 with its actual times', () => {
    expect(m1.status).toBe('ended');
    expect(m1.actual_start_time).toBe(T(1763812800));
    expect(m1.actual_end_time).toBe(T(1763815200));
    expect(m1.instances).toEqual([
      {
        id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60',
        begin_time: T(1763812800),
        end_time: T(1763815200),
        status: 'ended',
        error: null,
      },
    ]);
    expect(m1.final).toBe(true);
  });

  it('gives exactly one participant p-42 with two calls (latest first) and one p-17 call', () => {
    expect(m1.participants.map((p) => p.key)).toEqual(['p-17', 'p-42']);
    const p42 = m1.participants[1];
    expect(p42).toMatchObject({ person: 'p-42', role: 'expert', part_uri: '+74951234567', matched: true, connected: false });
    expect(p42.calls).toEqual([
      {
        call_id: 'c3d4e5f60718293a4b5c6d7e8f90a1b2',
        instance_id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60',
        join_time: T(1763813460),
        quit_time: T(1763815200), // never quit: closed at the instance's end
        duration_ms: (1763815200 - 1763813460) * 1000,
      },
      {
        call_id: 'b2c3d4e5f60718293a4b5c6d7e8f90a1',
        instance_id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60',
        join_time: T(1763812875),
        quit_time: T(1763813400),
        duration_ms: (1763813400 - 1763812875) * 1000,
      },
    ]);
    expect(p42.total_ms).toBe((1763815200 - 1763813460 + 1763813400 - 1763812875) * 1000);
    const p17 = m1.participants[0];
    expect(p17).toMatchObject({ person: 'p-17', role: 'host', matched: true });
    expect(p17.calls).toHaveLength(1);
  });

  it('runs the timer while two are connected and pauses while p-42 is away', () => {
    expect(m1.timer.segments).toEqual([
      { start: T(1763812875), end: T(1763813400) },
      { start: T(1763813460), end: T(1763815200) },
    ]);
    expect(m1.timer.elapsed_ms).toBe((1763813400 - 1763812875 + 1763815200 - 1763813460) * 1000);
    expect(m1.timer.running).toBe(false);
  });

  it('lists the recording', () => {
    expect(m1.recordings).toEqual([
      { instance_id: '5f0c2a9e7b1d4c3a8e6f1b2c3d4e5f60', begin_time: T(1763812830), end_time: T(1763815000) },
    ]);
  });

  it('has a failed meeting M-1002 with its error', () => {
    const m2 = insightAt(ix.get('M-1002') as MeetingIndex, LATE);
    expect(m2).toMatchObject({
      status: 'failed',
      actual_start_time: null,
      actual_end_time: null,
      error: 'no route to media server',
    });
    expect(m2.instances[0]).toMatchObject({ status: 'failed', begin_time: null, end_time: null });
  });

  it('answers as of a time while p-42 is away: paused, p-42 not connected, call open then', () => {
    const at = 1763813430 * 1000;
    const i = insightAt(ix.get('M-1001') as MeetingIndex, at);
    expect(i.status).toBe('live');
    expect(i.actual_end_time).toBeNull();
    expect(i.timer).toMatchObject({ running: false, elapsed_ms: (1763813400 - 1763812875) * 1000 });
    expect(i.participants.find((p) => p.key === 'p-42')?.connected).toBe(false);
    expect(i.participants.find((p) => p.key === 'p-17')).toMatchObject({ connected: true, total_ms: at - 1763812810 * 1000 });
    expect(i.recordings).toEqual([]);
    expect(i.final).toBe(false);
    // Before p-42's quit, the call is open.
    const j = insightAt(ix.get('M-1001') as MeetingIndex, 1763813000 * 1000);
    expect(j.participants[1].calls[0]).toMatchObject({ quit_time: null, duration_ms: 125_000 });
    expect(j.timer).toMatchObject({ running: true, segments: [{ start: T(1763812875), end: null }] });
  });

  it('is "scheduled" (nothing known yet) before the first event', () => {
    const i = insightAt(ix.get('M-1001') as MeetingIndex, 1763812000 * 1000);
    expect(i).toMatchObject({ status: 'scheduled', instances: [], participants: [], timer: { elapsed_ms: 0 } });
  });
});

const B = 1_700_000_000;
/** Small numbers in these tables are seconds after B. */
const abs = (t: number) => (t < 1e6 ? B + t : t);
const R = (s: number) => T(abs(s));
const ms = (s: number) => abs(s) * 1000;
const CONF = 'c1';
const create = (t: number, ud: unknown = { meeting: 'M' }, conf = CONF) => ({
  event: 'conf.create.succ',
  id: conf,
  begin_time: abs(t),
  user_data: JSON.stringify(ud),
});
const end = (b: number, e: number, conf = CONF) => ({
  event: 'conf.end',
  id: conf,
  begin_time: abs(b),
  end_time: abs(e),
  error: null,
  user_data: null,
});
const joined = (call: string, t: number, person: string | null, role: string | null, conf = CONF, uri = `uri-${person}`) => ({
  event: 'conf.joined',
  id: conf,
  join_time: abs(t),
  call_id: call,
  part_uri: uri,
  user_data: person ? JSON.stringify({ person, role }) : null,
});
const quit = (
  call: string,
  j: number,
  q: number,
  person: string | null,
  role: string | null,
  conf = CONF,
  uri = `uri-${person}`,
) => ({
  event: 'conf.quit',
  id: conf,
  join_time: abs(j),
  quit_time: abs(q),
  call_id: call,
  part_uri: uri,
  user_data: person ? JSON.stringify({ person, role }) : null,
});
const one = (raw: unknown[], at = LATE, opts: { requires?: string[]; roster?: RosterEntry[] } = {}) =>
  insightAt(indexes(raw, opts).get('M') as MeetingIndex, at);

describe('call rules', () => {
  it('a quit before its join is a complete call; the late join does not reopen it', () => {
    const evs = [create(1000), quit('a', 1100, 1200, 'p1', null), joined('a', 1100, 'p1', null)];
    const i = one(evs, ms(1500));
    expect(i.participants[0].calls).toEqual([
      { call_id: 'a', instance_id: CONF, join_time: R(1100), quit_time: R(1200), duration_ms: 100_000 },
    ]);
    expect(i.participants[0].connected).toBe(false);
  });

  it('keeps unmatched joins, flagged, and matches by roster contact with its role', () => {
    const roster = [{ person: 'alice', role: 'client', contacts: ['+7 (999) 000-11-22'] }];
    const i = one(
      [create(1000), joined('a', 1100, null, null, CONF, '+79990001122'), joined('b', 1100, null, null, CONF, '555')],
      ms(1500),
      {
        roster,
      },
    );
    expect(i.participants.map((p) => [p.key, p.person, p.role, p.matched])).toEqual([
      ['555', null, null, false],
      ['alice', 'alice', 'client', true],
    ]);
  });

  it('holds the timer to required roles (config, and per meeting from user_data.timer_requires)', () => {
    const evs = [
      create(1000),
      joined('a', 1000, 'e', 'expert'),
      joined('b', 1100, 'x', 'host'),
      joined('c', 1200, 'c', 'client'),
      quit('a', 1000, 1300, 'e', 'expert'),
      end(1000, 1400),
    ];
    expect(one(evs).timer.segments).toEqual([{ start: R(1100), end: R(1400) }]);
    expect(one(evs, LATE, { requires: ['expert', 'client'] }).timer.segments).toEqual([{ start: R(1200), end: R(1300) }]);
    const own = [create(1000, { meeting: 'M', timer_requires: ['host'] }), ...evs.slice(1)];
    expect(one(own, LATE, { requires: ['expert', 'client'] }).timer).toMatchObject({
      requires: ['host'],
      segments: [{ start: R(1100), end: R(1400) }],
    });
  });

  it('spans instances: a meeting held again after a drop, timer paused in between', () => {
    const evs = [
      create(1000, { meeting: 'M' }, 'i1'),
      joined('a', 1000, 'p1', null, 'i1'),
      joined('b', 1000, 'p2', null, 'i1'),
      end(1000, 1100, 'i1'),
      create(1200, { meeting: 'M' }, 'i2'),
      joined('c', 1210, 'p1', null, 'i2'),
      joined('d', 1220, 'p2', null, 'i2'),
      end(1200, 1300, 'i2'),
    ];
    const i = one(evs);
    expect(i.instances.map((x) => x.id)).toEqual(['i1', 'i2']);
    expect(i.timer.segments).toEqual([
      { start: R(1000), end: R(1100) },
      { start: R(1220), end: R(1300) },
    ]);
    expect(i.actual_start_time).toBe(R(1000));
    expect(i.actual_end_time).toBe(R(1300));
    expect(one(evs, ms(1150)).status).toBe('ended');
    expect(one(evs, ms(1150)).final).toBe(false);
  });
});

// ---- properties -------------------------------------------------------------

/**
 * A random but valid meeting: instances with calls inside them, some left open,
 * some lost (a quit with an error) or from a second device of the same person
 * (identity conflicts); dial-out statuses; code bindings of uris or calls.
 */
const DIAL_STATUSES = ['initiated', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];
const meetingArb = fc
  .record({
    instances: fc.array(
      fc.record({
        begin: fc.integer({ min: 0, max: 1000 }),
        len: fc.integer({ min: 1, max: 500 }),
        ended: fc.boolean(),
        endError: fc.boolean(),
        failed: fc.boolean(),
        calls: fc.array(
          fc.record({
            who: fc.integer({ min: 0, max: 3 }),
            off: fc.integer({ min: -5, max: 500 }),
            len: fc.integer({ min: 0, max: 300 }),
            joinSent: fc.boolean(),
            quitSent: fc.boolean(),
            lost: fc.boolean(),
            device: fc.integer({ min: 0, max: 1 }),
          }),
          { maxLength: 8 },
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    // Per call: who was dialled and when; then its statuses (a repeat of call, status and sequence is the same callback).
    calls: fc.array(fc.record({ who: fc.integer({ min: 0, max: 4 }), off: fc.integer({ min: 0, max: 1500 }) }), {
      minLength: 3,
      maxLength: 3,
    }),
    dials: fc.array(
      fc.record({
        sid: fc.integer({ min: 0, max: 2 }),
        status: fc.integer({ min: 0, max: DIAL_STATUSES.length - 1 }),
        seq: fc.integer({ min: 0, max: 3 }),
      }),
      { maxLength: 4 },
    ),
    bindings: fc.array(
      fc.record({
        target: fc.integer({ min: 0, max: 3 }),
        device: fc.integer({ min: 0, max: 2 }),
        person: fc.integer({ min: 0, max: 4 }),
        off: fc.integer({ min: 0, max: 1500 }),
      }),
      { maxLength: 3 },
    ),
    requires: fc.constantFrom<string[] | undefined>(undefined, ['r0', 'r1']),
  })
  .map(({ instances, calls, dials, bindings, requires }) => {
    const base = 1_700_000_000;
    const roles = ['r0', 'r1', 'r0', 'r2'];
    const evs: Record<string, unknown>[] = [];
    instances.forEach((inst, n) => {
      const conf = `inst${n}`;
      const b = base + inst.begin * 10;
      if (inst.failed) {
        evs.push({ event: 'conf.end', id: conf, begin_time: null, end_time: null, error: 'boom', user_data: '{"meeting":"M"}' });
        return;
      }
      evs.push(create(b, requires ? { meeting: 'M', timer_requires: requires } : { meeting: 'M' }, conf));
      inst.calls.forEach((c, k) => {
        const j = b + c.off;
        const person = `p${c.who}`;
        const uri = c.device ? `uri-${person}-2` : `uri-${person}`;
        if (c.joinSent || !c.quitSent) evs.push(joined(`${conf}-${k}`, j, person, roles[c.who], conf, uri));
        if (c.quitSent) {
          evs.push({ ...quit(`${conf}-${k}`, j, j + c.len, person, roles[c.who], conf, uri), error: c.lost ? 'lost' : null });
        }
      });
      evs.push({ event: 'conf.record_end', id: conf, begin_time: b, end_time: b + 1, user_data: null });
      if (inst.ended) {
        evs.push({ ...end(b, b + inst.len, conf), error: inst.endError ? 'crash' : null });
      }
    });
    for (const d of dials) {
      const c = calls[d.sid];
      evs.push({
        meeting: 'M',
        call_sid: `CA${d.sid}`,
        status: DIAL_STATUSES[d.status],
        sequence: d.seq,
        person: c.who < 4 ? `p${c.who}` : null,
        number: `+1555000${c.who}`,
        reason: null,
        at: (base + c.off * 10 + d.seq * 5) * 1000 + d.status,
      });
    }
    for (const g of bindings) {
      const participant = g.device === 2 ? `inst0-${g.target}` : g.device ? `uri-p${g.target}-2` : `uri-p${g.target}`;
      evs.push({ meeting: 'M', participant, person: `p${g.person}`, at: (base + g.off * 10) * 1000, by: 'code' });
    }
    return evs;
  });

/** The roster of the property runs: p4 exists only there (bindings may name it), p3 also by a dial number. */
const PROP_ROSTER: RosterEntry[] = [
  { person: 'p4', role: 'r1' },
  { person: 'p3', role: 'r2', contacts: ['+15550003'] },
];
const prop = (raw: unknown[], at = LATE) => one(raw, at, { roster: PROP_ROSTER });

describe('properties', () => {
  it('the insight is the same for any permutation and any number of duplicate deliveries', () => {
    fc.assert(
      fc.property(
        meetingArb,
        fc.func(fc.integer()),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1_700_000_000, max: 1_700_020_000 }),
        (evs, key, dupIdx, atS) => {
          const shuffled = [...evs].sort((a, b) => key(a) - key(b) || 0);
          const withDups = [...shuffled, ...dupIdx.filter(() => evs.length > 0).map((i) => evs[i % evs.length])];
          for (const at of [LATE, atS * 1000]) {
            expect(prop(withDups, at)).toEqual(prop(evs, at));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('`at` after the last event equals the final insight', () => {
    fc.assert(
      fc.property(meetingArb, (evs) => {
        const ix = indexes(evs, { roster: PROP_ROSTER }).get('M') as MeetingIndex;
        const all = insightAt(ix, LATE);
        if (!all.final) return;
        expect(withoutAsOf(insightAt(ix, ix.lastAt))).toEqual(withoutAsOf(all));
        expect(withoutAsOf(insightAt(ix, ix.lastAt + 12345))).toEqual(withoutAsOf(all));
      }),
      { numRuns: 150 },
    );
  });

  it('elapsed equals the sum of the segments and never exceeds the union of open instances', () => {
    fc.assert(
      fc.property(meetingArb, fc.integer({ min: 1_700_000_000, max: 1_700_020_000 }), (evs, atS) => {
        for (const at of [atS * 1000, LATE]) {
          const i = prop(evs, at);
          const sum = i.timer.segments.reduce((s, g) => s + (g.end ? Date.parse(g.end) : at) - Date.parse(g.start), 0);
          expect(i.timer.elapsed_ms).toBe(sum);
          const spans = i.instances
            .filter((x) => x.begin_time !== null)
            .map((x) => [Date.parse(x.begin_time as string), x.end_time ? Date.parse(x.end_time) : at] as const)
            .sort((a, b) => a[0] - b[0]);
          let union = 0;
          let cur: [number, number] | null = null;
          for (const [s, e] of spans) {
            if (cur && s <= cur[1]) cur[1] = Math.max(cur[1], e);
            else {
              if (cur) union += cur[1] - cur[0];
              cur = [s, e];
            }
          }
          if (cur) union += cur[1] - cur[0];
          expect(i.timer.elapsed_ms).toBeLessThanOrEqual(union);
          // segments are disjoint, ordered, and running only when the last one is open
          for (let k = 1; k < i.timer.segments.length; k++) {
            expect(Date.parse(i.timer.segments[k].start)).toBeGreaterThan(Date.parse(i.timer.segments[k - 1].end as string));
          }
          expect(i.timer.running).toBe(i.timer.segments.at(-1)?.end === null && i.timer.segments.length > 0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('as of `at` equals folding only the facts known at `at`', () => {
    fc.assert(
      fc.property(meetingArb, fc.integer({ min: 1_700_000_000, max: 1_700_020_000 }), (evs, atS) => {
        const at = atS * 1000;
        // Facts known at `at`: events whose own time is <= at; a quit after `at` still tells its join.
        const known = evs.flatMap((e) => {
          // Dial statuses and bindings are known from their own time.
          if (e.event === undefined) return (e.at as number) <= at ? [e] : [];
          const own = (e.quit_time ?? e.join_time ?? e.end_time ?? e.begin_time) as number | null;
          if (e.event === 'conf.end' && e.end_time === null) return [e];
          if (own !== null && own * 1000 <= at) return [e];
          if (e.event === 'conf.quit' && (e.join_time as number) * 1000 <= at) {
            return [{ ...e, event: 'conf.joined', quit_time: undefined }];
          }
          return [];
        });
        const full = prop(evs, at);
        if (known.length === 0 || !known.some((e) => e.event === 'conf.create.succ' || e.event === 'conf.end')) return;
        // A call that joined before its instance's create event is filed under the conference id until that event
        // arrives; the full fold already knows its meeting. Not comparable.
        const created = new Set(known.filter((e) => e.event === 'conf.create.succ').map((e) => e.id));
        if (known.some((e) => (e.event === 'conf.joined' || e.event === 'conf.quit') && !created.has(e.id))) return;
        const part = prop(known, at);
        // The timer rule is the meeting's (from its create event) even before that event's time.
        const norm = (i: Insight) => ({ ...withoutAsOf(i), final: false, timer: { ...i.timer, requires: null } });
        expect(norm(part)).toEqual(norm(full));
      }),
      { numRuns: 150 },
    );
  });
});
