// Interruptions (dropped calls, failed dial-outs, failed instances), code
// bindings and identity conflicts in the insight, as of any moment.
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMeetingDelta, type MeetingState } from '../src/client/meeting-deltas.js';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { insightAt, type MeetingIndex } from '../src/tracking/insight.js';
import { TrackingService } from '../src/tracking/service.js';
import type { Insight, MeetingDelta, RosterEntry } from '../src/tracking/types.js';
import { FakeClock } from '../src/util/clock.js';
import { indexes } from './support/tracking-fold.js';

const B = 1_700_000_000;
const abs = (t: number) => B + t;
const ms = (t: number) => abs(t) * 1000;
const R = (t: number) => new Date(ms(t)).toISOString();
const LATE = Date.UTC(2030, 0, 1);

const create = (t: number, conf = 'c1', ud: Record<string, unknown> = { meeting: 'M' }) => ({
  event: 'conf.create.succ',
  id: conf,
  begin_time: abs(t),
  user_data: JSON.stringify(ud),
});
const end = (b: number, e: number, conf = 'c1', error: string | null = null) => ({
  event: 'conf.end',
  id: conf,
  begin_time: abs(b),
  end_time: abs(e),
  error,
  user_data: null,
});
const failedStart = (conf: string, receivedNote = 'no route to media server') => ({
  event: 'conf.end',
  id: conf,
  begin_time: null,
  end_time: null,
  error: receivedNote,
  user_data: '{"meeting":"M"}',
});
const ud = (person: string | null, role: string | null) => (person ? JSON.stringify({ person, role }) : null);
const joined = (call: string, t: number, uri: string, person: string | null = null, role: string | null = null, conf = 'c1') => ({
  event: 'conf.joined',
  id: conf,
  join_time: abs(t),
  call_id: call,
  part_uri: uri,
  user_data: ud(person, role),
});
const quit = (
  call: string,
  j: number,
  q: number,
  uri: string,
  person: string | null = null,
  role: string | null = null,
  error: string | null = null,
  conf = 'c1',
) => ({
  event: 'conf.quit',
  id: conf,
  join_time: abs(j),
  quit_time: abs(q),
  call_id: call,
  part_uri: uri,
  user_data: ud(person, role),
  error,
});
const dial = (sid: string, status: string, seq: number, t: number, person: string | null, reason: string | null = null) => ({
  meeting: 'M',
  call_sid: sid,
  status,
  sequence: seq,
  person,
  number: '+15005550006',
  reason,
  at: ms(t),
});
const bind = (participant: string, person: string, t: number) => ({ meeting: 'M', participant, person, at: ms(t), by: 'code' });

const one = (raw: unknown[], at = LATE, opts: { requires?: string[]; roster?: RosterEntry[] } = {}): Insight =>
  insightAt(indexes(raw, opts).get('M') as MeetingIndex, at);
const row = (i: Insight, key: string) => i.participants.find((p) => p.key === key);

describe('interruptions: dropped', () => {
  const evs = [
    create(0),
    joined('a', 10, '+71', 'alice', 'client'),
    joined('b', 20, '+72', 'bob', 'expert'),
    quit('b', 20, 100, '+72', 'bob', 'expert', 'media timeout'),
    joined('b2', 130, '+72', 'bob', 'expert'),
    quit('a', 10, 200, '+71', 'alice', 'client'), // left: no error, no interruption
    end(0, 300),
  ];

  it('a quit with an error is a drop that lasts until the participant is back', () => {
    expect(one(evs).interruptions).toEqual([
      { at: R(100), kind: 'dropped', participant: 'bob', reason: 'media timeout', duration_ms: 30_000 },
    ]);
  });

  it('as of a time: absent before the drop, open (null) until the rejoin', () => {
    expect(one(evs, ms(99)).interruptions).toEqual([]);
    expect(one(evs, ms(100)).interruptions[0].duration_ms).toBeNull();
    expect(one(evs, ms(129)).interruptions[0].duration_ms).toBeNull();
    expect(one(evs, ms(130)).interruptions[0].duration_ms).toBe(30_000);
  });

  it('never back: stays null', () => {
    const i = one(evs.filter((e) => (e as { call_id?: string }).call_id !== 'b2'));
    expect(i.interruptions).toEqual([
      { at: R(100), kind: 'dropped', participant: 'bob', reason: 'media timeout', duration_ms: null },
    ]);
  });

  it('a rejoin that overlapped the lost call (its quit came late) makes it 0 ms, not a conflict', () => {
    const i = one([
      create(0),
      joined('x', 10, '+73', 'carol'),
      joined('y', 50, '+73', 'carol'),
      quit('x', 10, 60, '+73', 'carol', null, 'lost'),
    ]);
    expect(i.interruptions).toEqual([{ at: R(60), kind: 'dropped', participant: 'carol', reason: 'lost', duration_ms: 0 }]);
    expect(i.participants.map((p) => [p.key, p.identity_conflict])).toEqual([['carol', false]]);
  });
});

describe('interruptions: instance_failed', () => {
  it('an instance that failed to start, until the next instance begins', () => {
    const evs = [failedStart('c0'), create(500, 'c1')];
    // A failed start has no time of its own: its receipt time stands in (RECEIVED in the fold helper).
    const i = one(evs);
    expect(i.interruptions).toHaveLength(1);
    expect(i.interruptions[0]).toMatchObject({ kind: 'instance_failed', participant: null, reason: 'no route to media server' });
  });

  it('an instance that ended with an error, until another instance is open', () => {
    const evs = [
      create(0, 'c1'),
      end(0, 100, 'c1', 'media server crashed'),
      create(160, 'c2'),
      joined('a', 165, '+71', 'alice', null, 'c2'),
    ];
    expect(one(evs).interruptions).toEqual([
      { at: R(100), kind: 'instance_failed', participant: null, reason: 'media server crashed', duration_ms: 60_000 },
    ]);
    expect(one(evs, ms(150)).interruptions[0].duration_ms).toBeNull();
  });

  it('as of a time before that end, the instance is live and shows no error yet (found by the time-travel property)', () => {
    const i = one([create(0), end(0, 100, 'c1', 'media server crashed')], ms(50));
    expect(i.instances).toEqual([{ id: 'c1', begin_time: R(0), end_time: null, status: 'live', error: null }]);
    expect(i.interruptions).toEqual([]);
  });

  it('a clean end is no interruption', () => {
    expect(one([create(0), end(0, 100)]).interruptions).toEqual([]);
  });
});

describe('interruptions: dial_failed', () => {
  const roster = [{ person: 'erin', role: 'expert', contacts: ['+15005550006'] }];

  it('busy, failed, no-answer and canceled each interrupt; completed after in-progress does not', () => {
    for (const status of ['busy', 'failed', 'no-answer', 'canceled']) {
      const i = one([create(0), dial('CA1', 'initiated', 0, 10, 'erin'), dial('CA1', status, 2, 40, 'erin', '486')], LATE, {
        roster,
      });
      expect(i.interruptions, status).toEqual([
        { at: R(40), kind: 'dial_failed', participant: 'erin', reason: `${status}: 486`, duration_ms: null },
      ]);
    }
    const ok = [
      create(0),
      dial('CA2', 'initiated', 0, 10, 'erin'),
      dial('CA2', 'ringing', 1, 12, 'erin'),
      dial('CA2', 'in-progress', 2, 20, 'erin'),
      dial('CA2', 'completed', 3, 200, 'erin'),
    ];
    expect(one(ok, LATE, { roster }).interruptions).toEqual([]);
  });

  it('lasts until the person is connected (here after a second dial), found by the number on the roster too', () => {
    const evs = [
      create(0),
      dial('CA1', 'no-answer', 3, 40, null),
      dial('CA2', 'in-progress', 2, 90, null),
      joined('e', 95, '+1 (500) 555-0006'),
    ];
    const i = one(evs, LATE, { roster });
    expect(i.interruptions).toEqual([
      { at: R(40), kind: 'dial_failed', participant: 'erin', reason: 'no-answer', duration_ms: 55_000 },
    ]);
    expect(row(i, 'erin')).toMatchObject({ matched: true, matched_by: 'roster', role: 'expert' });
  });

  it('one interruption per call even when Twilio repeats or reorders statuses', () => {
    const evs = [
      create(0),
      dial('CA1', 'busy', 2, 40, 'erin'),
      dial('CA1', 'busy', 3, 41, 'erin'),
      dial('CA1', 'failed', 4, 39, 'erin'),
    ];
    expect(one(evs, LATE, { roster }).interruptions.map((x) => [x.at, x.reason])).toEqual([[R(39), 'failed']]);
    expect(one(evs, ms(39.5), { roster }).interruptions).toHaveLength(1);
    expect(one(evs, ms(38), { roster }).interruptions).toHaveLength(0);
  });
});

describe('code bindings', () => {
  const roster = [
    { person: 'erin', role: 'expert' },
    { person: 'alice', role: 'client', contacts: ['+71'] },
  ];
  // An unknown phone joins at 100; the identity module binds it to erin at 160.
  const evs = [
    create(0),
    joined('a', 10, '+71'),
    joined('p', 100, '+7999'),
    bind('+7999', 'erin', 160),
    quit('p', 100, 400, '+7999'),
    end(0, 500),
  ];

  it('after the binding the joiner is the person: matched by code, with the roster role', () => {
    const i = one(evs, LATE, { roster });
    expect(i.participants.map((p) => [p.key, p.person, p.role, p.matched, p.matched_by])).toEqual([
      ['alice', 'alice', 'client', true, 'roster'],
      ['erin', 'erin', 'expert', true, 'code'],
    ]);
    expect(row(i, 'erin')?.part_uri).toBe('+7999');
  });

  it('in time travel only from the moment of binding', () => {
    const before = one(evs, ms(159), { roster });
    expect(row(before, '+7999')).toMatchObject({ person: null, role: null, matched: false, matched_by: null });
    expect(row(before, 'erin')).toBeUndefined();
    const at = one(evs, ms(160), { roster });
    expect(row(at, 'erin')).toMatchObject({ matched: true, matched_by: 'code', connected: true, total_ms: 60_000 });
    expect(row(at, '+7999')).toBeUndefined();
  });

  it('the role-aware timer counts the person’s role from the binding on, not from the join', () => {
    const i = one(evs, LATE, { roster, requires: ['client', 'expert'] });
    expect(i.timer.segments).toEqual([{ start: R(160), end: R(400) }]);
    expect(one(evs, ms(159), { roster, requires: ['client', 'expert'] }).timer).toMatchObject({ running: false, elapsed_ms: 0 });
    expect(one(evs, ms(170), { roster, requires: ['client', 'expert'] }).timer).toMatchObject({
      running: true,
      elapsed_ms: 10_000,
    });
  });

  it('a binding by call id binds that call only', () => {
    const two = [
      create(0),
      joined('p1', 10, '+7999'),
      quit('p1', 10, 20, '+7999'),
      joined('p2', 30, '+7999'),
      bind('p2', 'erin', 35),
    ];
    const i = one(two, LATE, { roster });
    expect(i.participants.map((p) => [p.key, p.calls.map((c) => c.call_id)])).toEqual([
      ['+7999', ['p1']],
      ['erin', ['p2']],
    ]);
  });

  it('the latest binding of a participant wins from its time on', () => {
    const re = [...evs, bind('+7999', 'alice', 300)];
    expect(row(one(re, ms(299), { roster }), 'erin')?.matched_by).toBe('code');
    const after = one(re, ms(300), { roster });
    expect(row(after, 'erin')).toBeUndefined();
    expect(row(after, 'alice')?.calls.map((c) => c.call_id)).toEqual(['p']);
    // The roster's alice (+71) was connected at the same time as the joiner proven to be alice: not alice.
    expect(row(after, '+71')).toMatchObject({ person: null, matched: false });
  });
});

describe('identity_conflict', () => {
  // A personal invite link passed on: two joiners claim erin (user_data) from different devices, connected together from 50.
  const evs = [
    create(0),
    joined('x', 10, 'sip:erin@laptop', 'erin', 'expert'),
    joined('y', 50, 'sip:guest@phone', 'erin', 'expert'),
    quit('y', 50, 120, 'sip:guest@phone', 'erin', 'expert'),
    joined('c', 5, '+71', 'alice', 'client'),
  ];

  it('both are kept and flagged, never merged', () => {
    const i = one(evs);
    expect(i.participants.map((p) => [p.key, p.person, p.matched, p.identity_conflict])).toEqual([
      ['alice', 'alice', true, false],
      // Keyed by the person and the device (its uri without the scheme, as contacts compare).
      ['erin#erin@laptop', 'erin', true, true],
      ['erin#guest@phone', 'erin', true, true],
    ]);
  });

  it('as of before they were connected together: one participant, no conflict', () => {
    const i = one(evs, ms(49));
    expect(i.participants.map((p) => [p.key, p.identity_conflict])).toEqual([
      ['alice', false],
      ['erin', false],
    ]);
  });

  it('a code binding settles it: the bound joiner is the person, the other is unmatched', () => {
    const settled = [...evs, bind('sip:erin@laptop', 'erin', 200)];
    const i = one(settled);
    expect(i.participants.map((p) => [p.key, p.person, p.matched_by, p.identity_conflict])).toEqual([
      ['alice', 'alice', 'user_data', false],
      ['erin', 'erin', 'code', false],
      ['sip:guest@phone', null, null, false],
    ]);
    // Before the binding the conflict stands.
    expect(one(settled, ms(199)).participants.filter((p) => p.identity_conflict)).toHaveLength(2);
  });

  it('binding the other joiner to someone else settles it too', () => {
    const i = one([...evs, bind('sip:guest@phone', 'gus', 200)]);
    expect(i.participants.map((p) => [p.key, p.matched_by, p.identity_conflict])).toEqual([
      ['alice', 'user_data', false],
      ['erin', 'user_data', false],
      ['gus', 'code', false],
    ]);
  });

  it('two joiners of one person one after the other are one participant', () => {
    const seq = [
      create(0),
      joined('x', 10, 'sip:a', 'erin'),
      quit('x', 10, 40, 'sip:a', 'erin'),
      joined('y', 40, 'sip:b', 'erin'),
    ];
    expect(one(seq).participants.map((p) => [p.key, p.calls.length, p.identity_conflict])).toEqual([['erin', 2, false]]);
  });

  it('the default timer counts the two joiners as two participants', () => {
    const i = one([create(0), joined('x', 10, 'sip:a', 'erin'), joined('y', 50, 'sip:b', 'erin')]);
    expect(i.timer.segments).toEqual([{ start: R(50), end: null }]);
  });
});

describe('the worked example of docs/tracking.md (offsets in seconds after 10:00:00)', () => {
  const roster = [
    { person: 'erin', role: 'expert', contacts: ['+15005550006'] },
    { person: 'alice', role: 'client', contacts: ['+71'] },
  ];
  const evs = [
    create(0),
    joined('a', 10, '+71'),
    dial('CA1', 'ringing', 1, 12, 'erin'),
    dial('CA1', 'no-answer', 2, 40, 'erin'),
    dial('CA2', 'in-progress', 2, 60, 'erin'),
    joined('p', 62, '+7999'),
    bind('+7999', 'erin', 90),
    quit('p', 62, 120, '+7999', null, null, 'media timeout'),
    joined('p2', 150, '+7999'),
  ];
  const opts = { roster, requires: ['client', 'expert'] };

  it('gives the interruptions, the binding and the timer the example states', () => {
    const i = one(evs, ms(200), opts);
    expect(i.interruptions).toEqual([
      { at: R(40), kind: 'dial_failed', participant: 'erin', reason: 'no-answer', duration_ms: 22_000 },
      { at: R(120), kind: 'dropped', participant: 'erin', reason: 'media timeout', duration_ms: 30_000 },
    ]);
    expect(row(i, 'erin')).toMatchObject({ matched_by: 'code', role: 'expert', connected: true });
    expect(i.timer.segments).toEqual([
      { start: R(90), end: R(120) },
      { start: R(150), end: null },
    ]);
  });

  it('as of 10:01:20 and 10:01:40', () => {
    const before = one(evs, ms(80), opts);
    expect(row(before, '+7999')).toMatchObject({ matched: false, role: null });
    expect(before.timer.elapsed_ms).toBe(0);
    expect(before.interruptions[0].duration_ms).toBeNull();
    const after = one(evs, ms(100), opts);
    expect(row(after, 'erin')).toMatchObject({ matched_by: 'code' });
    expect(after.timer.elapsed_ms).toBe(10_000);
  });
});

// ---- through the service: SQLite log, cached folds, pushed deltas --------------------------------

function service() {
  const clock = new FakeClock(ms(1000));
  const store = new Store(':memory:');
  stores.push(store);
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never;
  const bus = new Bus();
  const deltas: MeetingDelta[] = [];
  bus.subscribe((m) => m.topic === 'meetings' && deltas.push(m.data as MeetingDelta));
  const svc = new TrackingService({ store, bus, events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) }, cfg);
  return { svc, clock, deltas };
}
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** Sends one record the way its source does: a webhook event, a Twilio status or a binding. */
function send(svc: TrackingService, r: Record<string, unknown>): void {
  if (r.event !== undefined) svc.ingest(r, 'conference');
  else if (r.call_sid !== undefined) svc.recordDial(r as never);
  else svc.recordBinding(r as never);
}

describe('through the service', () => {
  const roster = [
    { person: 'erin', role: 'expert', contacts: ['+15005550006'] },
    { person: 'alice', role: 'client', contacts: ['+71'] },
  ];
  const records: Record<string, unknown>[] = [
    create(0),
    joined('a', 10, '+71'),
    dial('CA1', 'ringing', 1, 12, 'erin'),
    dial('CA1', 'no-answer', 2, 40, 'erin'),
    dial('CA2', 'in-progress', 2, 60, 'erin'),
    joined('p', 62, '+7999'),
    bind('+7999', 'erin', 90),
    quit('p', 62, 120, '+7999', null, null, 'media timeout'),
    joined('p2', 150, '+7999'),
    joined('g1', 20, 'sip:x', 'bob'),
    joined('g2', 30, 'sip:y', 'bob'),
    end(0, 400, 'c1', null),
  ];

  it('interruptions and bindings are the same for any delivery order and duplicates, and the deltas rebuild the insight', () => {
    const ref = service();
    ref.svc.schedule({ id: 'M', roster });
    for (const r of records) send(ref.svc, r);
    const want = ref.svc.insight('M');
    expect(want.interruptions.map((x) => [x.kind, x.participant, x.duration_ms])).toEqual([
      ['dial_failed', 'erin', 22_000],
      ['dropped', 'erin', 30_000],
    ]);
    expect(want.participants.map((p) => [p.key, p.matched_by, p.identity_conflict])).toEqual([
      ['alice', 'roster', false],
      ['bob#x', 'user_data', true],
      ['bob#y', 'user_data', true],
      ['erin', 'code', false],
    ]);
    fc.assert(
      fc.property(fc.func(fc.integer()), fc.array(fc.nat(), { maxLength: 6 }), (key, dups) => {
        const got = service();
        got.svc.schedule({ id: 'M', roster });
        const order = [...records, ...dups.map((i) => records[i % records.length])].sort((a, b) => key(a) - key(b));
        let state: MeetingState | null = null;
        for (const r of order) {
          send(got.svc, r);
          got.clock.advance(0);
          // (Events of c1 that came before its create event are filed under meeting "c1" meanwhile.)
          for (const d of got.deltas.splice(0).filter((x) => x.id === 'M')) {
            const o = applyMeetingDelta(state, d);
            if (o.kind === 'applied') state = o.state;
            else expect(o.kind).not.toBe('gap');
          }
        }
        expect({ ...got.svc.insight('M'), as_of: '' }).toEqual({ ...want, as_of: '' });
        expect(state?.insight).toEqual(got.svc.insight('M'));
      }),
      { numRuns: 40 },
    );
  });
});
