// A push rebuilds and diffs the whole meeting, so a big meeting's changes are
// coalesced longer: publish_delay_ms per 1,000 calls it holds, up to
// publish_delay_max_ms. A small meeting keeps publish_delay_ms.
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { TrackingService } from '../src/tracking/service.js';
import { FakeClock } from '../src/util/clock.js';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function setup() {
  const store = new Store(':memory:');
  stores.push(store);
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const bus = new Bus();
  const pushes: string[] = [];
  bus.subscribe((m) => {
    if (m.topic === 'meetings') pushes.push((m.data as { id: string }).id);
  });
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 100, publish_delay_max_ms: 500 }) as never;
  const svc = new TrackingService({ store, bus, events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) }, cfg);
  return { svc, clock, pushes };
}

/** A meeting with `calls` calls (one per person), ingested in batches. */
function meeting(svc: TrackingService, id: string, calls: number, t0: number): void {
  const ud = JSON.stringify({ meeting: id });
  svc.ingest({ event: 'conf.create.succ', id: `${id}-c`, begin_time: t0, user_data: ud }, 't');
  for (let i = 0; i < calls; i += 1000) {
    const batch = [];
    for (let k = i; k < Math.min(calls, i + 1000); k++) {
      batch.push({
        event: 'conf.joined',
        id: `${id}-c`,
        call_id: `${id}-${k}`,
        part_uri: `+7${k}`,
        join_time: t0 + 1,
        user_data: ud,
      });
    }
    svc.ingest(batch, 't');
  }
}

it('a small meeting is pushed after publish_delay_ms', () => {
  const { svc, clock, pushes } = setup();
  meeting(svc, 'S', 20, 1_893_456_000);
  clock.advance(99);
  expect(pushes).toEqual([]);
  clock.advance(1);
  expect(pushes).toEqual(['S']);
});

it('a meeting of 3,000 calls waits 300 ms; one of 20,000 calls waits publish_delay_max_ms (500 ms)', () => {
  const { svc, clock, pushes } = setup();
  meeting(svc, 'M', 3000, 1_893_456_000);
  clock.advance(1000); // the pushes of the load itself
  pushes.length = 0;
  svc.ingest(
    {
      event: 'conf.quit',
      id: 'M-c',
      call_id: 'M-7',
      part_uri: '+77',
      join_time: 1_893_456_001,
      quit_time: 1_893_456_100,
      user_data: '{"meeting":"M"}',
    },
    't',
  );
  clock.advance(299);
  expect(pushes).toEqual([]);
  clock.advance(1);
  expect(pushes).toEqual(['M']);

  meeting(svc, 'L', 20_000, 1_893_457_000);
  clock.advance(1000);
  pushes.length = 0;
  svc.ingest(
    {
      event: 'conf.quit',
      id: 'L-c',
      call_id: 'L-7',
      part_uri: '+77',
      join_time: 1_893_457_001,
      quit_time: 1_893_457_100,
      user_data: '{"meeting":"L"}',
    },
    't',
  );
  clock.advance(499);
  expect(pushes).toEqual([]);
  clock.advance(1);
  expect(pushes).toEqual(['L']);
});
