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

/** Every device action, who asked for it and how it went. */
export class AuditLog {
  private readonly insert;
  /** Built once: better-sqlite3 compiles a wrapper (and BEGIN/COMMIT statements) per transaction() call. */
  private readonly writeBatch;
  private batch: { entry: Omit<AuditEntry, 'id'>; inTx?: () => void }[] = [];
  /** The promise every row of the open batch waits on (one transaction: all commit or none). */
  private batchDone: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly flushSoon = () => this.flush();
  constructor(private readonly store: Store) {
    store.migrate('audit', auditMigrations);
    this.insert = store.db.prepare(
      `INSERT INTO audit (at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.writeBatch = store.db.transaction((items: { entry: Omit<AuditEntry, 'id'>; inTx?: () => void }[]) => {
      for (let i = 0; i < items.length; i++) {
        const it = items[i];
        const e = it.entry;
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
        it.inTx?.();
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
  append(e: Omit<AuditEntry, 'id'>, inTx?: () => void): Promise<void> {
    this.batch.push({ entry: e, inTx });
    if (this.batchDone === null) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.batchDone = { promise, resolve, reject };
      setImmediate(this.flushSoon);
    }
    return this.batchDone.promise;
  }

  private flush(): void {
    const items = this.batch;
    const done = this.batchDone;
    this.batch = [];
    this.batchDone = null;
    try {
      this.writeBatch(items);
      done?.resolve();
    } catch (e) {
      done?.reject(e as Error);
    }
  }

  list(q: { device?: string; limit?: number; before_id?: number } = {}): AuditEntry[] {
    const rows = this.store.db
      .prepare(
        `SELECT * FROM audit WHERE (@device IS NULL OR device = @device) AND (@before IS NULL OR id < @before)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ device: q.device ?? null, before: q.before_id ?? null, limit: Math.min(q.limit ?? 100, 1000) }) as Record<
      string,
      unknown
    >[];
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
