// The decision log: every shot and why, persisted (last N) so an integrator
// can ask "why did the camera go there?" after the fact. Written after the
// camera command is out: decisions of one event-loop turn share one transaction.
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
  private pending: Decision[] = [];
  private flushScheduled = false;
  constructor(
    private readonly store: Store,
    private readonly events: RoomEvents,
    private readonly keep: number,
    private readonly hooks: {
      /** Each decision once it is stored (with its id), after the commit. */
      stored?: (d: StoredDecision) => void;
      /** A deferred write failed (the decisions of that turn are lost, the director goes on). */
      failed?: (e: Error) => void;
    } = {},
  ) {
    store.migrate('director', DIRECTOR_MIGRATIONS);
    this.insert = store.db.prepare('INSERT INTO director_decisions (at, rule, shot, mic, reason) VALUES (?, ?, ?, ?, ?)');
    this.prune = store.db.prepare('DELETE FROM director_decisions WHERE id <= ?');
    this.list = store.db.prepare('SELECT * FROM director_decisions WHERE id < ? ORDER BY id DESC LIMIT ?');
  }

  /**
   * Queues the decision; it is stored, with its room event in the same
   * transaction, once the current event-loop turn is done — so the SQLite
   * commit never sits between a microphone event and the camera command.
   */
  record(d: Decision): void {
    this.pending.push(d);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      try {
        this.flush();
      } catch (e) {
        this.hooks.failed?.(e as Error);
      }
    });
  }

  /** Writes the queued decisions now (also before a read, and at stop). */
  flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const stored = this.store.db.transaction(() => {
      const out: StoredDecision[] = [];
      for (const d of batch) {
        const r = this.insert.run(d.at, d.rule, d.shot ? JSON.stringify(d.shot) : null, d.mic, d.reason);
        const sd = { id: Number(r.lastInsertRowid), ...d };
        this.events.emit({ type: 'director.decision', at: d.at, data: { ...sd } });
        out.push(sd);
      }
      const last = out[out.length - 1].id;
      if (last > this.keep) this.prune.run(last - this.keep);
      return out;
    })();
    for (const sd of stored) this.hooks.stored?.(sd);
  }

  /** Newest first; `before` pages back by id. */
  recent(limit: number, before = Number.MAX_SAFE_INTEGER): StoredDecision[] {
    this.flush();
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
