// Duplicate detection in memory (src/tracking/dedup.ts) over a real SQLite
// event log: keys read back per conference, dropped and read again under the
// budget, and the same answers after a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { Store } from '../src/store/db.js';
import { TrackingSectionSchema } from '../src/tracking/config.js';
import { DedupIndex } from '../src/tracking/dedup.js';
import { TrackingService } from '../src/tracking/service.js';
import { FakeClock } from '../src/util/clock.js';

const stores: Store[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const B = 1_700_000_000;
const calls = (conf: string, n: number) =>
  Array.from({ length: n }, (_, k) => ({
    event: 'conf.joined',
    id: conf,
    join_time: B + k,
    call_id: `${conf}-${k}`,
    part_uri: `+7${k}`,
    user_data: null,
  }));

function service(store: Store, section: Record<string, unknown> = {}) {
  const cfg = Value.Default(TrackingSectionSchema, { publish_delay_ms: 0, ...section }) as never;
  const ctx = {
    store,
    bus: new Bus(),
    events: new RoomEvents(),
    clock: new FakeClock(Date.UTC(2030, 0, 1)),
    logger: pino({ level: 'silent' }),
  };
  return new TrackingService(ctx, cfg);
}

describe('DedupIndex', () => {
  it('reads a conference’s keys from the log, drops least recently used conferences over budget, reads them again', () => {
    const store = new Store(':memory:');
    stores.push(store);
    const svc = service(store);
    for (const c of ['a', 'b', 'c']) svc.ingest(calls(c, 40), 'test');
    const loads: string[] = [];
    const ix = new DedupIndex((conf) => {
      loads.push(conf);
      return svc.store.keysOf(conf);
    }, 100);
    const seqs = (conf: string) =>
      store.db.prepare('SELECT seq FROM tracking_events WHERE conference = ? ORDER BY seq').pluck().all(conf);
    const a = ix.of('a');
    expect([...a.values()].sort((x, y) => x - y)).toEqual(seqs('a'));
    ix.of('b');
    ix.of('c'); // 120 keys > 100: `a` goes
    ix.of('b');
    expect(loads).toEqual(['a', 'b', 'c']);
    expect([...ix.of('a').entries()].sort()).toEqual([...a.entries()].sort());
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });

  // Issue 16 soak: every conference's keys stayed in memory (until 1,000,000 keys, years of a room's
  // meetings), so the heap grew ~0.75 KB with every meeting. Now at most dedup_conferences are kept.
  it('holds at most dedup_conferences conferences, and a dropped one still answers duplicates', () => {
    const store = new Store(':memory:');
    stores.push(store);
    const svc = service(store, { dedup_conferences: 8 });
    for (let n = 0; n < 30; n++) svc.ingest(calls(`cap-${n}`, 5), 'test');
    const held = svc.cacheLevels().dedup;
    expect(held.maxConferences).toBe(8);
    expect(held.conferences).toBe(8);
    expect(held.keys).toBe(8 * 5);
    expect(svc.ingest(calls('cap-0', 6), 'test')).toEqual({ accepted: 1, duplicates: 5 });
    expect(svc.cacheLevels().dedup.conferences).toBe(8);
  });

  it('a redelivery after a restart is a duplicate, counted on the stored row', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-dedup-'));
    dirs.push(dir);
    const file = path.join(dir, 'agent.db');
    let store = new Store(file);
    service(store).ingest(calls('r', 10), 'test');
    store.close();
    store = new Store(file);
    stores.push(store);
    const svc = service(store);
    expect(svc.ingest([...calls('r', 12).slice(5), calls('r', 1)[0]], 'test')).toEqual({ accepted: 2, duplicates: 6 });
    const dups = store.db.prepare("SELECT duplicates FROM tracking_events WHERE conference = 'r' ORDER BY seq").pluck().all();
    expect(dups).toEqual([1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0]);
  });

  it('a batch written several rows per statement: in-batch duplicates counted on their row, seqs in order, same insight', () => {
    const one = new Store(':memory:');
    const many = new Store(':memory:');
    stores.push(one, many);
    const evs = calls('m', 100);
    const batch = [...evs.slice(0, 50), evs[3], ...evs.slice(50), evs[70], evs[99]];
    const a = service(many);
    expect(a.ingest(batch, 'test')).toEqual({ accepted: 100, duplicates: 3 });
    expect(a.ingest(evs.slice(0, 40), 'test')).toEqual({ accepted: 0, duplicates: 40 });
    const rows = many.db.prepare("SELECT seq, duplicates FROM tracking_events WHERE conference = 'm' ORDER BY seq").all() as {
      seq: number;
      duplicates: number;
    }[];
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, k) => k + 1));
    expect(rows.filter((r) => r.duplicates === 2).map((r) => r.seq)).toEqual([4]);
    expect(rows.filter((r) => r.duplicates === 1).map((r) => r.seq)).toEqual([
      ...Array.from({ length: 40 }, (_, k) => k + 1).filter((s) => s !== 4),
      71,
      100,
    ]);
    const b = service(one);
    for (const e of evs) b.ingest(e, 'test');
    const strip = (i: { as_of: string }) => ({ ...i, as_of: '' });
    expect(strip(a.insight('m'))).toEqual(strip(b.insight('m')));
  });
});
