// The durable outbox: every room event becomes a row in the caller's SQLite
// transaction and leaves only when the broker acknowledged it (PUBACK).
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db, Migration, Store } from '../store/db.js';
import type { EventMessage } from './topics.js';

export const MIGRATIONS: Migration[] = [
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
        CREATE INDEX sync_outbox_at ON sync_outbox (at_ms);
        CREATE TABLE sync_outbox_meta (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          dropped INTEGER NOT NULL
        );
        INSERT INTO sync_outbox_meta (id, dropped) VALUES (1, 0);
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
  /** The complete `events` message (EventMessage JSON). */
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
  /**
   * Row count kept in memory (a COUNT per append would cost more than the
   * append). A caller's rolled-back transaction leaves it one too high until
   * the next resync — erring towards trimming early, never late.
   */
  private rows: number;
  private dropped: number;
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
      count: this.db.prepare('SELECT COUNT(*) AS n FROM sync_outbox'),
      dropped: this.db.prepare('SELECT dropped FROM sync_outbox_meta WHERE id = 1'),
      after: this.db.prepare('SELECT seq, payload FROM sync_outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      delRange: this.db.prepare('DELETE FROM sync_outbox WHERE seq BETWEEN ? AND ?'),
      dropOldest: this.db.prepare('DELETE FROM sync_outbox WHERE seq IN (SELECT seq FROM sync_outbox ORDER BY seq LIMIT ?)'),
      dropOlder: this.db.prepare('DELETE FROM sync_outbox WHERE at_ms < ?'),
      addDropped: this.db.prepare('UPDATE sync_outbox_meta SET dropped = dropped + ? WHERE id = 1'),
    };
    this.rows = this.count();
    this.dropped = (this.stmts.dropped.get() as { dropped: number }).dropped;
  }

  /**
   * Writes one event. Inside the caller's transaction when there is one, so
   * the event exists exactly when the record it describes does.
   */
  append(type: string, at: string, data: Record<string, unknown>, nowMs: number): EventMessage {
    const parsed = Date.parse(at);
    const atMs = Number.isFinite(parsed) ? parsed : nowMs;
    const id = randomUUID();
    // Stored without its seq (known only after the insert); read() splices it in.
    const body = JSON.stringify({ id, room: this.room, at, type, data });
    const write = () => {
      const seq = Number(this.stmts.insert.run(atMs, body).lastInsertRowid);
      this.rows++;
      const excess = this.rows - this.limits.maxRows;
      if (excess > 0) this.drop(this.stmts.dropOldest.run(excess).changes, 'rows');
      return seq;
    };
    const seq = this.db.inTransaction ? write() : this.db.transaction(write)();
    this.onAppend?.();
    return { id, seq, room: this.room, at, type, data };
  }

  /** Complete messages in seq order after `afterSeq`, at most `limit`. */
  read(afterSeq: number, limit: number): OutboxRow[] {
    const rows = this.stmts.after.all(afterSeq, limit) as OutboxRow[];
    for (const r of rows) r.payload = `{"seq":${r.seq},${r.payload.slice(1)}`;
    return rows;
  }

  /** Deletes acknowledged rows in one transaction (contiguous runs as ranges). */
  ack(seqs: readonly number[]): void {
    if (!seqs.length) return;
    const sorted = [...seqs].sort((a, b) => a - b);
    this.db.transaction(() => {
      let from = sorted[0];
      let to = from;
      for (let i = 1; i <= sorted.length; i++) {
        const s = sorted[i];
        if (s === to + 1) {
          to = s;
          continue;
        }
        this.rows -= this.stmts.delRange.run(from, to).changes;
        from = to = s;
      }
    })();
  }

  /** Drops rows older than the age bound and resyncs the row count; returns how many were dropped. */
  expire(nowMs: number): number {
    return this.db.transaction(() => {
      const changes = this.stmts.dropOlder.run(nowMs - this.limits.maxAgeMs).changes;
      this.drop(changes, 'age');
      this.resync();
      return changes;
    })();
  }

  /** Exact row count from SQLite (after rolled-back appends the cached one is high). */
  resync(): void {
    this.rows = this.count();
  }

  meta(): { rows: number; dropped: number } {
    return { rows: this.rows, dropped: this.dropped };
  }

  count(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }

  private drop(n: number, reason: 'rows' | 'age'): void {
    if (n <= 0) return;
    this.rows -= n;
    this.stmts.addDropped.run(n);
    this.dropped += n;
    const total = this.dropped;
    // Told after the current transaction's listeners finish: the alert it
    // raises is itself an event and must not re-enter this append.
    queueMicrotask(() => this.onDrop?.(n, total, reason));
  }
}

/** Retained meeting summaries kept across restarts, so they can be republished and pruned. */
export class MeetingCache {
  private readonly db: Db;
  private readonly upsert: Statement;
  private readonly beyond: Statement;
  private readonly remove: Statement;
  private readonly listAll: Statement;
  private readonly putTx: (id: string, payload: string, nowMs: number, keep: number) => string[];

  constructor(store: Store) {
    this.db = store.db;
    // Prepared once: put() runs on every meeting delta.
    this.upsert = this.db.prepare(
      'INSERT INTO sync_meetings (id, updated_ms, payload) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET updated_ms = excluded.updated_ms, payload = excluded.payload',
    );
    this.beyond = this.db.prepare('SELECT id FROM sync_meetings ORDER BY updated_ms DESC, id LIMIT -1 OFFSET ?');
    this.remove = this.db.prepare('DELETE FROM sync_meetings WHERE id = ?');
    this.listAll = this.db.prepare('SELECT id, payload FROM sync_meetings ORDER BY updated_ms');
    this.putTx = this.db.transaction((id: string, payload: string, nowMs: number, keep: number) => {
      this.upsert.run(id, nowMs, payload);
      const old = this.beyond.all(keep) as { id: string }[];
      for (const o of old) this.remove.run(o.id);
      return old.map((o) => o.id);
    });
  }

  /** Stores the meeting's retained payload; returns the ids pruned beyond the `keep` most recent. */
  put(id: string, payload: string, nowMs: number, keep: number): string[] {
    return this.putTx(id, payload, nowMs, keep);
  }

  all(): { id: string; payload: string }[] {
    return this.listAll.all() as { id: string; payload: string }[];
  }
}
