// WAL checkpoints on a worker thread (src/store/checkpointer.ts): the agent's
// connection rarely runs one inside a commit, the WAL still gets copied into
// the database file, and it stays bounded under steady writes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpointer } from '../src/store/checkpointer.js';
import { Store } from '../src/store/db.js';
import { until } from './support/wait.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-')), 'room-agent.db');

/** Commits ~4 MB in 400 small transactions (over SQLite's default 1,000-page mark, under the agent's 4,000). */
function write(store: Store): void {
  store.db.exec('CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, body TEXT)');
  const ins = store.db.prepare('INSERT INTO blobs (body) VALUES (?)');
  const body = 'x'.repeat(10_000);
  for (let i = 0; i < 400; i++) ins.run(body);
}

describe('background WAL checkpoints', () => {
  it('moves the automatic checkpoint to 4,000 pages and copies the WAL into the database from the worker', async () => {
    const file = tmp();
    const store = new Store(file, { backgroundCheckpoint: true });
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(4000);
    expect(store.backgroundCheckpointing).toBe(false); // an idle store has no worker
    write(store);
    // ~1,000 pages: this connection does not checkpoint yet, so the database file grows only if the worker copied the WAL.
    await until(() => fs.statSync(file).size > 3_000_000, 'the worker to checkpoint the WAL', 10_000);
    expect(store.backgroundCheckpointing).toBe(true);
    const rows = store.db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number };
    expect(rows.n).toBe(400);
    await store.closeAsync();
    const again = new Store(file);
    expect((again.db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n).toBe(400);
    again.close();
  });

  it("keeps the WAL bounded under steady writes (the agent's own checkpoint past 4,000 pages rewinds it)", async () => {
    const file = tmp();
    const store = new Store(file, { backgroundCheckpoint: true });
    for (let round = 0; round < 12; round++) {
      write(store); // 12 x ~4 MB, with the worker checkpointing alongside
      await new Promise((r) => setTimeout(r, 20));
    }
    // Without a checkpoint that finishes between two commits the WAL would hold all ~48 MB.
    expect(fs.statSync(`${file}-wal`).size).toBeLessThan(40_000_000);
    await store.closeAsync();
  }, 30_000);

  it('without it (tools, tests) SQLite checkpoints on commit as usual', () => {
    const store = new Store(tmp());
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    store.close();
  });

  it('reports a worker that cannot run, so the store can checkpoint on commit again', async () => {
    let why = '';
    new Checkpointer({ file: path.join(os.tmpdir(), 'no-such-dir-ckpt', 'missing.db'), onGone: (w) => (why = w) });
    await until(() => why !== '', 'the checkpointer to report the failure', 10_000);
    expect(why).toMatch(/checkpoint worker (failed|exited)/);
  });

  it('a synchronous close ends the worker and leaves a readable database', async () => {
    const file = tmp();
    const store = new Store(file, { backgroundCheckpoint: true });
    write(store);
    store.close();
    const again = new Store(file);
    expect((again.db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n).toBe(400);
    again.close();
  });
});
