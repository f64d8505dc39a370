import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { Checkpointer } from './checkpointer.js';

export type Db = Database.Database;

/** WAL size at which the agent starts its checkpoint worker (512 pages). */
const CHECKPOINTER_START_BYTES = 2 * 1024 * 1024;

export interface Migration {
  /** Strictly increasing per module, starting at 1. */
  version: number;
  name: string;
  up(db: Db): void;
}

/**
 * The agent's SQLite file. WAL with synchronous=NORMAL: a committed
 * transaction survives a process kill (SIGKILL); a power loss may lose the
 * last transactions (documented in docs/architecture.md). Each module owns
 * its tables and its forward-only migrations, tracked per module.
 */
export interface StoreOptions {
  /**
   * Copy the WAL into the database on a worker thread instead of inside
   * whichever commit crosses SQLite's 1,000-page mark (the agent turns this on;
   * short-lived stores in tools and tests need not).
   */
  backgroundCheckpoint?: boolean;
  logger?: Logger;
}

export class Store {
  readonly db: Db;
  readonly file: string;
  private checkpointer: Checkpointer | null = null;
  private armTimer: ReturnType<typeof setInterval> | null = null;
  constructor(file: string, o: StoreOptions = {}) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.file = file;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // 2 MiB page cache (about SQLite's own default; better-sqlite3 sets 16 MB): the tables grow by
    // append, the OS caches the file anyway, and the 16 MB filled up as RSS growth over minutes.
    this.db.pragma('cache_size = -2048');
    if (o.backgroundCheckpoint && file !== ':memory:') this.armCheckpointer(o.logger);
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
      module TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      applied_at TEXT NOT NULL
    )`);
  }

  /** Applies the module's pending migrations in one transaction each; refuses a
   * database written by a newer agent (downgrades are not supported). */
  migrate(module: string, migrations: readonly Migration[]): number {
    const sorted = [...migrations].sort((a, b) => a.version - b.version);
    sorted.forEach((m, i) => {
      if (m.version !== i + 1) throw new Error(`${module}: migrations must be numbered 1..n, found ${m.version} at ${i + 1}`);
    });
    const row = this.db.prepare('SELECT version FROM schema_version WHERE module = ?').get(module) as
      | { version: number }
      | undefined;
    const current = row?.version ?? 0;
    const latest = sorted.length;
    if (current > latest) {
      throw new Error(
        `database ${this.file}: module "${module}" is at schema version ${current}, this agent knows only ${latest}; ` +
          'it was written by a newer room-agent — upgrade the agent or restore a backup',
      );
    }
    for (const m of sorted.slice(current)) {
      this.db.transaction(() => {
        m.up(this.db);
        this.db
          .prepare(
            `INSERT INTO schema_version (module, version, applied_at) VALUES (?, ?, ?)
             ON CONFLICT(module) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`,
          )
          .run(module, m.version, new Date().toISOString());
      })();
    }
    return latest - current;
  }

  version(module: string): number {
    const row = this.db.prepare('SELECT version FROM schema_version WHERE module = ?').get(module) as
      | { version: number }
      | undefined;
    return row?.version ?? 0;
  }

  private armCheckpointer(logger?: Logger): void {
    // The worker copies the WAL as it grows; the agent's own checkpoint only
    // runs past 4,000 pages (16 MB), and then finds little left to copy. It
    // must stay on: under steady writes a background checkpoint never sees the
    // whole WAL copied before the next commit, and SQLite only rewinds the WAL
    // then, so without it the file grows without bound. The size limit trims
    // the file after a burst.
    this.db.pragma('journal_size_limit = 16777216');
    this.db.pragma('wal_autocheckpoint = 4000');
    // The worker is a second V8 isolate (~10 MB): start it only once the WAL
    // shows writes worth checkpointing, so an idle room does not pay for it.
    const wal = `${this.file}-wal`;
    this.armTimer = setInterval(() => {
      let size = 0;
      try {
        size = fs.statSync(wal).size;
      } catch {
        return; // no WAL yet
      }
      if (size < CHECKPOINTER_START_BYTES || !this.db.open) return;
      this.disarm();
      this.checkpointer = new Checkpointer({
        file: this.file,
        logger,
        onGone: (why) => {
          this.checkpointer = null;
          if (!this.db.open) return;
          logger?.warn({ why }, 'background WAL checkpoints stopped; SQLite checkpoints on commit again');
          this.db.pragma('wal_autocheckpoint = 1000');
        },
      });
    }, 1000);
    this.armTimer.unref();
  }

  private disarm(): void {
    if (this.armTimer) clearInterval(this.armTimer);
    this.armTimer = null;
  }

  /** Whether WAL checkpoints currently run on the worker thread. */
  get backgroundCheckpointing(): boolean {
    return this.checkpointer !== null;
  }

  /** Stops the background checkpointer (after a last checkpoint), then closes. */
  async closeAsync(): Promise<void> {
    this.disarm();
    const c = this.checkpointer;
    this.checkpointer = null;
    await c?.stop();
    this.close();
  }

  close(): void {
    // Synchronous close (tools, tests): end the worker without its last checkpoint;
    // SQLite checkpoints when the last connection closes or at the next open.
    this.disarm();
    this.checkpointer?.kill();
    this.checkpointer = null;
    if (this.db.open) this.db.close();
  }
}
