// The decision log: every shot and why, persisted (last N) so an integrator
// can ask "why did the camera go there?" after the fact.
import type { RoomEvents } from '../state/bus.js';
import type { Store } from '../store/db.js';
import type { Decision, StoredDecision } from './types.js';

export const DIRECTOR_MIGRATIONS = [
  {
    version: 1,
    name: 'decision log',
    up(db: Store['db']) {
      db.exec(`CREATE TABLE director_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        rule TEXT NOT NULL,
        shot TEXT,
        mic TEXT,
        reason TEXT NOT NULL
      )`);
    },
  },
];

interface Row {
  id: number;
  at: string;
  rule: string;
  shot: string | null;
  mic: string | null;
  reason: string;
}

export class DecisionLog {
  private readonly insert;
  private readonly prune;
  private readonly list;
  constructor(
    private readonly store: Store,
    private readonly events: RoomEvents,
    private readonly keep: number,
  ) {
    store.migrate('director', DIRECTOR_MIGRATIONS);
    this.insert = store.db.prepare('INSERT INTO director_decisions (at, rule, shot, mic, reason) VALUES (?, ?, ?, ?, ?)');
    this.prune = store.db.prepare('DELETE FROM director_decisions WHERE id <= ?');
    this.list = store.db.prepare('SELECT * FROM director_decisions WHERE id < ? ORDER BY id DESC LIMIT ?');
  }

  /** Stores the decision and emits the room event in the same transaction. */
  record(d: Decision): StoredDecision {
    return this.store.db.transaction(() => {
      const r = this.insert.run(d.at, d.rule, d.shot ? JSON.stringify(d.shot) : null, d.mic, d.reason);
      const id = Number(r.lastInsertRowid);
      if (id > this.keep) this.prune.run(id - this.keep);
      const stored = { id, ...d };
      this.events.emit({ type: 'director.decision', at: d.at, data: { ...stored } });
      return stored;
    })();
  }

  /** Newest first; `before` pages back by id. */
  recent(limit: number, before = Number.MAX_SAFE_INTEGER): StoredDecision[] {
    return (this.list.all(before, limit) as Row[]).map((r) => ({
      id: r.id,
      at: r.at,
      rule: r.rule as StoredDecision['rule'],
      shot: r.shot ? JSON.parse(r.shot) : null,
      mic: r.mic,
      reason: r.reason,
    }));
  }
}
