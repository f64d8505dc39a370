// Ended meetings' final insights are kept in memory only up to
// [tracking] final_cache_mb (it was a fixed 64 MB: a room running for months
// grew by that much); older ones come back from SQLite, unchanged.
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

it('keeps at most final_cache_mb of final insights in memory and reads older ones back from SQLite', () => {
  const store = new Store(':memory:');
  stores.push(store);
  const limitMb = 0.004; // ~4 KB: a few finals of this size
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0, final_cache_mb: limitMb }) as never;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const svc = new TrackingService(
    { store, bus: new Bus(), events: new RoomEvents(), clock, logger: pino({ level: 'silent' }) },
    cfg,
  );
  const B = 1_893_456_000;
  const first: string[] = [];
  for (let m = 0; m < 40; m++) {
    const id = `c${m}`;
    const ud = JSON.stringify({ meeting: `M${m}` });
    svc.ingest(
      [
        { event: 'conf.create.succ', id, begin_time: B + m * 100, user_data: ud },
        { event: 'conf.joined', id, call_id: `${id}-a`, part_uri: '+70001', join_time: B + m * 100 + 1, user_data: ud },
        {
          event: 'conf.quit',
          id,
          call_id: `${id}-a`,
          part_uri: '+70001',
          join_time: B + m * 100 + 1,
          quit_time: B + m * 100 + 50,
          user_data: ud,
        },
        { event: 'conf.end', id, begin_time: B + m * 100, end_time: B + m * 100 + 60, user_data: ud },
      ],
      'test',
    );
    const text = JSON.stringify(svc.insight(`M${m}`));
    if (m < 3) first.push(text);
    expect(svc.finalsInMemory().chars).toBeLessThanOrEqual(limitMb * 1024 * 1024);
  }
  const held = svc.finalsInMemory();
  expect(held.count).toBeGreaterThan(0);
  expect(held.count).toBeLessThan(40);
  // The oldest were dropped from memory; reading them again gives the same insight.
  for (let m = 0; m < 3; m++) expect(JSON.stringify(svc.insight(`M${m}`))).toBe(first[m]);
});
