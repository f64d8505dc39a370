// The decision log on a real SQLite file: writes are deferred past the
// current turn and grouped, and nothing queued is lost to a read or a stop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RoomEvent, RoomEvents } from '../state/bus.js';
import { Store } from '../store/db.js';
import { DecisionLog } from './log.js';
import type { Decision, StoredDecision } from './types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup(keep = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'director-log-'));
  dirs.push(dir);
  const store = new Store(path.join(dir, 'agent.db'));
  const events = new RoomEvents();
  const emitted: RoomEvent[] = [];
  events.on((e) => emitted.push(e));
  const stored: StoredDecision[] = [];
  const log = new DecisionLog(store, events, keep, { stored: (d) => stored.push(d) });
  return { store, log, emitted, stored };
}

const decision = (n: number): Decision => ({
  at: new Date(1_700_000_000_000 + n).toISOString(),
  rule: 'speaker',
  shot: { kind: 'speaker', camera: 'cam-1', preset: n },
  mic: `mxa/${n}`,
  reason: `seat ${n}`,
});

describe('DecisionLog', () => {
  it('stores nothing in the turn of the decision, then the whole turn in one go, with room events and ids', async () => {
    const { store, log, emitted, stored } = setup(10);
    log.record(decision(1));
    log.record(decision(2));
    expect(emitted).toEqual([]);
    expect(stored).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(stored.map((d) => [d.id, d.reason])).toEqual([
      [1, 'seat 1'],
      [2, 'seat 2'],
    ]);
    expect(emitted.map((e) => [e.type, e.data.id])).toEqual([
      ['director.decision', 1],
      ['director.decision', 2],
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

  it('flush() writes what is queued (the feature calls it at stop, before the store closes)', () => {
    const { store, log, stored } = setup();
    log.record(decision(1));
    log.flush();
    expect(stored.map((d) => d.id)).toEqual([1]);
    store.close();
  });
});
