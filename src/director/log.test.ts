// The decision log on a real SQLite file: a decision gets its id at once,
// is written later in a batch with its room event, and nothing queued is
// lost to a read, a stop or a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/wait.js';
import { type RoomEvent, RoomEvents } from '../state/bus.js';
import { Store } from '../store/db.js';
import { DecisionLog } from './log.js';
import type { Decision } from './types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(keep = 3, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'director-log-'))) {
  dirs.push(dir);
  const store = new Store(path.join(dir, 'agent.db'));
  const events = new RoomEvents();
  const emitted: RoomEvent[] = [];
  events.on((e) => emitted.push(e));
  const log = new DecisionLog(store, events, keep);
  return { dir, store, log, emitted };
}

const decision = (n: number): Decision => ({
  at: new Date(1_700_000_000_000 + n).toISOString(),
  rule: 'speaker',
  shot: { kind: 'speaker', camera: 'cam-1', preset: n },
  mic: `mxa/${n}`,
  reason: `seat ${n}`,
});

describe('DecisionLog', () => {
  it('hands out ids at once and stores a burst later in one batch, with its room events', async () => {
    const { store, log, emitted } = setup(10);
    expect([log.record(decision(1)).id, log.record(decision(2)).id]).toEqual([1, 2]);
    expect(emitted).toEqual([]);
    await until(() => emitted.length === 2, 'the batch to be written');
    expect(emitted.map((e) => [e.type, e.data.id, e.data.reason])).toEqual([
      ['director.decision', 1, 'seat 1'],
      ['director.decision', 2, 'seat 2'],
    ]);
    store.close();
  });

  it('a read sees decisions still queued; only the last `keep` rows stay', () => {
    const { store, log } = setup(3);
    for (let n = 1; n <= 5; n++) log.record(decision(n));
    const recent = log.recent(10);
    expect(recent.map((d) => d.id)).toEqual([5, 4, 3]);
    expect(recent[0]).toMatchObject({ rule: 'speaker', shot: { kind: 'speaker', camera: 'cam-1', preset: 5 }, mic: 'mxa/5' });
    store.close();
  });

  it('flush() at stop writes what is queued; after a restart ids go on where they stopped', () => {
    const first = setup(3);
    first.log.record(decision(1));
    first.log.record(decision(2));
    first.log.flush();
    first.store.close();
    const again = setup(3, first.dir);
    expect(again.log.record(decision(3)).id).toBe(3);
    expect(again.log.recent(10).map((d) => d.id)).toEqual([3, 2, 1]);
    again.store.close();
  });
});
