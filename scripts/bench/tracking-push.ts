// What one push of a big meeting's insight costs the agent: a 1,000-person
// webinar (1,000 joins, then 3,000 leaves and rejoins) in a TrackingService
// on an in-memory SQLite store; every 10 events the changed meeting is pushed
// (index rebuilt, insight taken, delta diffed against the last one, published
// on the bus). Baseline from the same run: the same events ingested with no
// push at all. The push's own cost is the difference per push. CPU time of
// this process (process.cpuUsage), so other load on the machine matters less
// than for wall time.
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { Bus, RoomEvents } from '../../src/state/bus.js';
import { Store } from '../../src/store/db.js';
import { TrackingSectionSchema } from '../../src/tracking/config.js';
import { TrackingService } from '../../src/tracking/service.js';
import { FakeClock } from '../../src/util/clock.js';
import type { BenchResult } from './types.js';

const PEOPLE = 1000;
const CHANGES = 3000;
const EVENTS_PER_PUSH = 10;
/** Events ingested (and pushed) before the measured part, so the meeting is already big. */
const WARM_EVENTS = 2000;

function webinarEvents(begin: number): object[] {
  const ud = (p: number) => JSON.stringify({ meeting: 'W', person: `p${p}` });
  const evs: object[] = [{ event: 'conf.create.succ', id: 'w1', begin_time: begin, user_data: '{"meeting":"W"}' }];
  const open = new Map<number, string>();
  let callNo = 0;
  let t = begin;
  const join = (p: number) => {
    const c = `c${callNo++}`;
    open.set(p, c);
    evs.push({ event: 'conf.joined', id: 'w1', call_id: c, part_uri: `+7${p}`, join_time: ++t, user_data: ud(p) });
  };
  for (let p = 0; p < PEOPLE; p++) join(p);
  for (let k = 0; k < CHANGES; k++) {
    const p = (k * 7919) % PEOPLE;
    const c = open.get(p);
    if (!c) join(p);
    else {
      evs.push({
        event: 'conf.quit',
        id: 'w1',
        call_id: c,
        part_uri: `+7${p}`,
        join_time: t - 5,
        quit_time: ++t,
        user_data: ud(p),
      });
      open.delete(p);
    }
  }
  return evs;
}

/** CPU ms spent on the events after WARM_EVENTS, and the pushes made meanwhile. */
function play(push: boolean): { cpuMs: number; pushes: number; bytes: number } {
  const store = new Store(':memory:');
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const bus = new Bus();
  let bytes = 0;
  let pushes = 0;
  bus.subscribe((m) => {
    if (m.topic !== 'meetings') return;
    pushes++;
    bytes += JSON.stringify(m.data).length;
  });
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0 }) as never;
  const svc = new TrackingService({ store, bus, events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) }, cfg);
  const evs = webinarEvents(Math.floor(clock.now() / 1000));
  let i = 0;
  // The push is the service's own timer (publish_delay_ms = 0) firing when the clock moves; with
  // the clock held still nothing is ever pushed.
  const step = () => {
    for (let j = 0; j < EVENTS_PER_PUSH && i < evs.length; j++, i++) svc.ingest(evs[i], 'bench');
    if (push) clock.advance(200);
  };
  while (i < WARM_EVENTS) step();
  pushes = 0;
  bytes = 0;
  const c0 = process.cpuUsage();
  while (i < evs.length) step();
  const c = process.cpuUsage(c0);
  store.close();
  return { cpuMs: (c.user + c.system) / 1000, pushes, bytes };
}

export async function run(): Promise<BenchResult[]> {
  play(true); // warm the code paths once
  const rounds = [0, 1, 2].map(() => ({ pushed: play(true), bare: play(false) }));
  const best = rounds.reduce((a, b) => (b.pushed.cpuMs - b.bare.cpuMs < a.pushed.cpuMs - a.bare.cpuMs ? b : a));
  const steps = Math.ceil((webinarEvents(0).length - WARM_EVENTS) / EVENTS_PER_PUSH);
  const perPush = (best.pushed.cpuMs - best.bare.cpuMs) / best.pushed.pushes;
  return [
    {
      name: `CPU per push of a ${PEOPLE.toLocaleString('en-US')}-person meeting (${EVENTS_PER_PUSH} events per push; best of 3)`,
      value: perPush,
      unit: 'ms',
      baseline: { name: `CPU per ${EVENTS_PER_PUSH} events ingested, no push`, value: best.bare.cpuMs / steps },
    },
    { name: 'bytes published per push (delta JSON)', value: best.pushed.bytes / best.pushed.pushes, unit: 'B' },
  ];
}
