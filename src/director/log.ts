// The decision log: every shot and why, persisted (last N) so an integrator
// can ask "why did the camera go there?" after the fact. Written in batches,
// after the camera command is out.
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

/** Decisions are written at most this often: one transaction (and one prune) per batch. */
export const DECISION_FLUSH_MS = 100;

export class DecisionLog {
  private readonly insert;
  private readonly prune;
  private readonly list;
  private pending: StoredDecision[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Ids are handed out at once (AUTOINCREMENT never reuses one), so a decision can be pushed before it is stored. */
  private lastId: number;
  constructor(
    private readonly store: Store,
    private readonly events: RoomEvents,
    private readonly keep: number,
    /** A deferred write failed (that batch is lost, the director goes on). */
    private readonly failed: (e: Error) => void = () => undefined,
  ) {
    store.migrate('director', DIRECTOR_MIGRATIONS);
    this.insert = store.db.prepare('INSERT INTO director_decisions (id, at, rule, shot, mic, reason) VALUES (?, ?, ?, ?, ?, ?)');
    this.prune = store.db.prepare('DELETE FROM director_decisions WHERE id <= ?');
    this.list = store.db.prepare('SELECT * FROM director_decisions WHERE id < ? ORDER BY id DESC LIMIT ?');
    const seq = store.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'director_decisions'").get() as
      | { seq: number }
      | undefined;
    this.lastId = seq?.seq ?? 0;
  }

  /**
   * Gives the decision its id and queues it. It is stored, with its room event
   * in the same transaction, within DECISION_FLUSH_MS: the SQLite commit is
   * never between a microphone event and the camera command, and a burst of
   * decisions costs one commit instead of one each.
   */
  record(d: Decision): StoredDecision {
    const stored = { id: ++this.lastId, ...d };
    this.pending.push(stored);
    this.timer ??= setTimeout(() => {
      try {
        this.flush();
      } catch (e) {
        this.failed(e as Error);
      }
    }, DECISION_FLUSH_MS).unref();
    return stored;
  }

  /** Writes the queued decisions now (also before a read, and at stop). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.store.db.transaction(() => {
      for (const d of batch) {
        this.insert.run(d.id, d.at, d.rule, d.shot ? JSON.stringify(d.shot) : null, d.mic, d.reason);
        this.events.emit({ type: 'director.decision', at: d.at, data: { ...d } });
      }
      const last = batch[batch.length - 1].id;
      if (last > this.keep) this.prune.run(last - this.keep);
    })();
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
