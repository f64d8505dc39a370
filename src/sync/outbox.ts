// The durable outbox: every room event becomes a row in the caller's SQLite
// transaction and leaves only when the broker acknowledged it (PUBACK).
import { randomUUID } from 'node:crypto';
import type { Db, Migration, Store } from '../store/db.js';
import type { EventMessage } from './topics.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'outbox',
    up(db: Db) {
      // AUTOINCREMENT: a seq is never reused, even after its row was deleted,
      // so the central service can read a gap as "dropped".
      db.exec(`
        CREATE TABLE sync_outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          at_ms INTEGER NOT NULL,
          payload TEXT NOT NULL
        );
        CREATE TABLE sync_outbox_meta (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          rows INTEGER NOT NULL,
          dropped INTEGER NOT NULL
        );
        INSERT INTO sync_outbox_meta (id, rows, dropped) VALUES (1, 0, 0);
        CREATE TRIGGER sync_outbox_ins AFTER INSERT ON sync_outbox
          BEGIN UPDATE sync_outbox_meta SET rows = rows + 1 WHERE id = 1; END;
        CREATE TRIGGER sync_outbox_del AFTER DELETE ON sync_outbox
          BEGIN UPDATE sync_outbox_meta SET rows = rows - 1 WHERE id = 1; END;
        CREATE TABLE sync_meetings (
          id TEXT PRIMARY KEY,
          updated_ms INTEGER NOT NULL,
          payload TEXT NOT NULL
        );
      `);
    },
  },
];

export interface OutboxRow {
  seq: number;
  payload: string;
}

export interface OutboxLimits {
  maxRows: number;
  maxAgeMs: number;
}

/** Drops are reported to this callback (count just dropped, total since install). */
export type DropListener = (dropped: number, total: number, reason: 'rows' | 'age') => void;

export class Outbox {
  private readonly db: Db;
  private readonly stmts;
  /** Called after rows were appended (possibly still inside the caller's transaction). */
  onAppend: (() => void) | null = null;
  onDrop: DropListener | null = null;

  constructor(
    store: Store,
    private readonly room: string,
    private readonly limits: OutboxLimits,
  ) {
    store.migrate('sync', MIGRATIONS);
    this.db = store.db;
    this.stmts = {
      insert: this.db.prepare('INSERT INTO sync_outbox (at_ms, payload) VALUES (?, ?)'),
      setPayload: this.db.prepare('UPDATE sync_outbox SET payload = ? WHERE seq = ?'),
      meta: this.db.prepare('SELECT rows, dropped FROM sync_outbox_meta WHERE id = 1'),
      after: this.db.prepare('SELECT seq, payload FROM sync_outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      del: this.db.prepare('DELETE FROM sync_outbox WHERE seq = ?'),
      dropOldest: this.db.prepare('DELETE FROM sync_outbox WHERE seq IN (SELECT seq FROM sync_outbox ORDER BY seq LIMIT ?)'),
      dropOlder: this.db.prepare('DELETE FROM sync_outbox WHERE at_ms < ?'),
      addDropped: this.db.prepare('UPDATE sync_outbox_meta SET dropped = dropped + ? WHERE id = 1'),
      oldest: this.db.prepare('SELECT MIN(seq) AS seq FROM sync_outbox'),
    };
  }

  /**
   * Writes one event. Runs inside the caller's transaction when there is one
   * (better-sqlite3 nests it as a savepoint), so the event exists exactly when
   * the record it describes does.
   */
  append(type: string, at: string, data: Record<string, unknown>, nowMs: number): EventMessage {
    const tx = this.db.transaction(() => {
      const atMs = Number.isFinite(Date.parse(at)) ? Date.parse(at) : nowMs;
      // The seq comes from SQLite, so the payload is completed after insert.
      const seq = Number(this.stmts.insert.run(atMs, '').lastInsertRowid);
      const msg: EventMessage = { id: randomUUID(), seq, room: this.room, at, type, data };
      this.stmts.setPayload.run(JSON.stringify(msg), seq);
      const excess = this.meta().rows - this.limits.maxRows;
      if (excess > 0) this.drop(this.stmts.dropOldest.run(excess).changes, 'rows');
      return msg;
    });
    const msg = tx();
    this.onAppend?.();
    return msg;
  }

  /** Rows in seq order after `afterSeq`, at most `limit`. */
  read(afterSeq: number, limit: number): OutboxRow[] {
    return this.stmts.after.all(afterSeq, limit) as OutboxRow[];
  }

  /** Deletes acknowledged rows in one transaction. */
  ack(seqs: readonly number[]): void {
    if (!seqs.length) return;
    this.db.transaction(() => {
      for (const s of seqs) this.stmts.del.run(s);
    })();
  }

  /** Drops rows older than the age bound; returns how many. */
  expire(nowMs: number): number {
    const n = this.db.transaction(() => {
      const changes = this.stmts.dropOlder.run(nowMs - this.limits.maxAgeMs).changes;
      if (changes > 0) this.drop(changes, 'age');
      return changes;
    })();
    return n;
  }

  meta(): { rows: number; dropped: number } {
    return this.stmts.meta.get() as { rows: number; dropped: number };
  }

  oldestSeq(): number | null {
    return (this.stmts.oldest.get() as { seq: number | null }).seq;
  }

  get maxRows(): number {
    return this.limits.maxRows;
  }

  private drop(n: number, reason: 'rows' | 'age'): void {
    if (n <= 0) return;
    this.stmts.addDropped.run(n);
    const total = this.meta().dropped;
    // Told after the current transaction's listeners finish: the alert it
    // raises is itself an event and must not re-enter this append.
    queueMicrotask(() => this.onDrop?.(n, total, reason));
  }
}

/** Retained meeting insight kept across restarts, so it can be republished and pruned. */
export class MeetingCache {
  private readonly db: Db;
  constructor(store: Store) {
    this.db = store.db;
  }
  put(id: string, payload: string, nowMs: number, keep: number): string[] {
    return this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO sync_meetings (id, updated_ms, payload) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated_ms = excluded.updated_ms, payload = excluded.payload',
        )
        .run(id, nowMs, payload);
      const old = this.db.prepare('SELECT id FROM sync_meetings ORDER BY updated_ms DESC, id LIMIT -1 OFFSET ?').all(keep) as {
        id: string;
      }[];
      for (const o of old) this.db.prepare('DELETE FROM sync_meetings WHERE id = ?').run(o.id);
      return old.map((o) => o.id);
    })();
  }
  all(): { id: string; payload: string }[] {
    return this.db.prepare('SELECT id, payload FROM sync_meetings ORDER BY updated_ms').all() as {
      id: string;
      payload: string;
    }[];
  }
}
