import type { Logger } from 'pino';
import type { Cause } from '../host/contract.js';
import type { Db, Migration, Store } from './db.js';

export const auditMigrations: Migration[] = [
  {
    version: 1,
    name: 'audit log',
    up(db: Db) {
      db.exec(`CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        cause_kind TEXT NOT NULL,
        cause_name TEXT,
        cause_detail TEXT,
        device TEXT NOT NULL,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        ok INTEGER NOT NULL,
        result TEXT,
        error TEXT,
        duration_ms REAL NOT NULL
      );
      CREATE INDEX audit_device_at ON audit(device, at);`);
    },
  },
  {
    // Every commit wrote three pages: the table leaf, the (device, at) index leaf and
    // sqlite_sequence (AUTOINCREMENT). Without AUTOINCREMENT a new row takes max(id) + 1, which
    // keeps ids increasing as long as the newest row is never deleted (retention keeps it:
    // audit-retention.ts). The index serves what is asked: audit.list by device, newest id first
    // (an index on (device) holds (device, rowid)); nothing looks rows up by time of day.
    // Rows and ids are copied as they are; the copy's pages left behind are reused by new rows.
    version: 2,
    name: 'audit log without AUTOINCREMENT, indexed by device',
    up(db: Db) {
      db.exec(`CREATE TABLE audit_v2 (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        cause_kind TEXT NOT NULL,
        cause_name TEXT,
        cause_detail TEXT,
        device TEXT NOT NULL,
        action TEXT NOT NULL,
        params TEXT NOT NULL,
        ok INTEGER NOT NULL,
        result TEXT,
        error TEXT,
        duration_ms REAL NOT NULL
      );
      INSERT INTO audit_v2 (id, at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms)
        SELECT id, at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms FROM audit;
      DROP TABLE audit;
      ALTER TABLE audit_v2 RENAME TO audit;
      CREATE INDEX audit_device ON audit(device);`);
    },
  },
];

export interface AuditEntry {
  id: number;
  at: string;
  cause: Cause;
  device: string;
  action: string;
  params: unknown;
  ok: boolean;
  result: unknown;
  error: string | null;
  duration_ms: number;
}

/**
 * What goes with an audit row appended by AuditLog.appendRow: a callback inside its transaction,
 * and one when it committed or did not. Called as methods of this object (e.g. a device action's
 * run: no closures or promise per row). They must not throw (one that does is logged, if the log
 * has a logger, and the other rows still hear back).
 */
export interface AuditRowHooks {
  /** Inside the row's transaction (e.g. the room event whose outbox row must land with it). */
  inTransaction(): void;
  committed(): void;
  notCommitted(e: Error): void;
}

type RowEntry = Omit<AuditEntry, 'id'>;
/** What goes with a row: append's `inTx`, appendRow's hooks, or nothing. */
type RowExtra = (() => void) | AuditRowHooks | undefined;

/** Every device action, who asked for it and how it went. */
export class AuditLog {
  private readonly insert;
  /** Built once: better-sqlite3 compiles a wrapper (and BEGIN/COMMIT statements) per transaction() call. */
  private readonly writeBatch;
  /**
   * The rows of the open batch and what goes with each, `batchLength` of them; the arrays are
   * kept and reused (cleared after each commit), so a batch of one row — every sequential action —
   * grows no new array. Two pairs: rows appended while one batch is written go to the other.
   */
  private entries: (RowEntry | undefined)[] = [];
  private extras: RowExtra[] = [];
  private batchLength = 0;
  private spareEntries: (RowEntry | undefined)[] = [];
  private spareExtras: RowExtra[] = [];
  private flushScheduled = false;
  /**
   * The promise the open batch's append() rows wait on (one transaction: all commit or none), and
   * its settlers; made only when append() asks for it (appendRow's rows hear through their hooks).
   */
  private batchDone: Promise<void> | null = null;
  private commitBatch: () => void = noop;
  private failBatch: (e: Error) => void = noop;
  private readonly flushSoon = () => this.flush();
  /** audit.list with and without a device: each one a range of one index, newest id first. */
  private readonly listAll;
  private readonly listDevice;
  /** `logger`: where a row hook that throws is reported (ignored without one). */
  constructor(
    store: Store,
    private readonly logger?: Logger,
  ) {
    store.migrate('audit', auditMigrations);
    this.listAll = store.db.prepare('SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?');
    this.listDevice = store.db.prepare('SELECT * FROM audit WHERE device = ? AND id < ? ORDER BY id DESC LIMIT ?');
    this.insert = store.db.prepare(
      `INSERT INTO audit (at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.writeBatch = store.db.transaction((entries: (RowEntry | undefined)[], extras: RowExtra[], n: number) => {
      for (let i = 0; i < n; i++) {
        const e = entries[i]!;
        // Positional binding: cheaper than building a named-parameter object per row.
        this.insert.run(
          e.at,
          e.cause.kind,
          e.cause.name ?? null,
          e.cause.detail ?? null,
          e.device,
          e.action,
          JSON.stringify(e.params ?? {}),
          e.ok ? 1 : 0,
          e.result === undefined ? null : JSON.stringify(e.result),
          e.error,
          e.duration_ms,
        );
        const extra = extras[i];
        if (typeof extra === 'function') extra();
        else if (extra !== undefined) extra.inTransaction();
      }
    });
  }

  /**
   * Group commit: rows appended in the same event-loop turn are written in one
   * transaction, and the promise resolves only after it committed — so a
   * caller that answers after awaiting it never acknowledges an unlogged
   * action. `inTx` runs inside that transaction (e.g. the room event whose
   * outbox row must land with the audit row).
   */
  append(e: RowEntry, inTx?: () => void): Promise<void> {
    this.add(e, inTx);
    if (this.batchDone === null) {
      this.batchDone = new Promise<void>((resolve, reject) => {
        this.commitBatch = resolve;
        this.failBatch = reject;
      });
    }
    return this.batchDone;
  }

  /** append() for a row whose caller hears through `hooks` (called once the batch committed or failed) instead of a promise. */
  appendRow(e: RowEntry, hooks: AuditRowHooks): void {
    this.add(e, hooks);
  }

  private add(e: RowEntry, extra: RowExtra): void {
    const i = this.batchLength++;
    this.entries[i] = e;
    this.extras[i] = extra;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  private flush(): void {
    const entries = this.entries;
    const extras = this.extras;
    const n = this.batchLength;
    const commit = this.commitBatch;
    const fail = this.failBatch;
    this.commitBatch = noop;
    this.failBatch = noop;
    this.entries = this.spareEntries;
    this.extras = this.spareExtras;
    this.batchLength = 0;
    this.batchDone = null;
    this.flushScheduled = false;
    let error: Error | null = null;
    try {
      this.writeBatch(entries, extras, n);
    } catch (e) {
      error = e as Error;
    }
    try {
      if (error === null) commit();
      else fail(error);
      for (let i = 0; i < n; i++) {
        const extra = extras[i];
        if (extra === undefined || typeof extra === 'function') continue;
        // A hook must not throw; if one does, the rows after it still hear back.
        try {
          if (error === null) extra.committed();
          else extra.notCommitted(error);
        } catch (hookError) {
          this.logger?.warn({ err: hookError }, 'an audit row hook threw; the rows after it still hear back');
        }
      }
    } finally {
      // Written (or rolled back): the rows go, the arrays stay for a later batch.
      entries.fill(undefined, 0, n);
      extras.fill(undefined, 0, n);
      this.spareEntries = entries;
      this.spareExtras = extras;
    }
  }

  list(q: { device?: string; limit?: number; before_id?: number } = {}): AuditEntry[] {
    const before = q.before_id ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(q.limit ?? 100, 1000);
    const rows = (
      q.device === undefined ? this.listAll.all(before, limit) : this.listDevice.all(q.device, before, limit)
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as string,
      cause: {
        kind: r.cause_kind as Cause['kind'],
        ...(r.cause_name ? { name: r.cause_name as string } : {}),
        ...(r.cause_detail ? { detail: r.cause_detail as string } : {}),
      },
      device: r.device as string,
      action: r.action as string,
      params: JSON.parse(r.params as string),
      ok: r.ok === 1,
      result: r.result === null ? null : JSON.parse(r.result as string),
      error: (r.error as string | null) ?? null,
      duration_ms: r.duration_ms as number,
    }));
  }
}

function noop(): void {}
