// The config history in SQLite: every config text the agent ran or tried to
// run, with who, when, why, from where and how it went. Rows are appended in
// the order things happened; a text applied twice is two rows with the same
// version. The row is committed durably (synchronous = FULL for that commit)
// before the file on disk is replaced, so after a crash or power cut the file
// always holds a version the history knows.
import { createHash } from 'node:crypto';
import type { Db, Migration, Store } from '../../store/db.js';
import { configVersion } from '../load.js';

/** Where a config came from: the file (start, file watch), SIGHUP, an API client, the health gate. */
export const CONFIG_SOURCES = ['file', 'sighup', 'ws', 'mqtt', 'health'] as const;
export type ConfigSource = (typeof CONFIG_SOURCES)[number];

/** What a row records: the file read at start, an apply, a rollback asked for, a rollback the health gate made. */
export const CONFIG_ACTIONS = ['start', 'apply', 'rollback', 'auto_rollback'] as const;
export type ConfigAction = (typeof CONFIG_ACTIONS)[number];

/**
 * - `applying`: stored, being written and loaded (a row left in this state was cut off by a crash → `interrupted`)
 * - `checking`: running, inside its health window
 * - `running`: the config the agent runs now (exactly one row)
 * - `replaced`: ran and passed its check, later replaced by another version
 * - `rolled_back`: failed its health check; the agent went back to the version before
 * - `failed`: could not be loaded at all (the reload refused it); the version before stayed
 * - `interrupted`: the agent stopped before the apply finished; the file still holds the version before
 *   (stopped inside the health window with the new file in place: `checking` again after the restart)
 */
export const CONFIG_OUTCOMES = ['applying', 'checking', 'running', 'replaced', 'rolled_back', 'failed', 'interrupted'] as const;
export type ConfigOutcome = (typeof CONFIG_OUTCOMES)[number];

export interface VersionRow {
  id: number;
  /** `sha256:` and 16 hex digits (the `config_version` of status, system.info and /metrics). */
  version: string;
  /** Full SHA-256 of the text, hex. */
  sha256: string;
  text: string;
  who: string;
  at: string;
  why: string;
  from: ConfigSource;
  action: ConfigAction;
  /** The version the change was based on (config.apply's base_version), or the one it replaced. */
  base_version: string | null;
  outcome: ConfigOutcome;
  /** What failed, for rolled_back / failed / interrupted. */
  detail: string | null;
  outcome_at: string;
  /** Devices online before this version was applied, which its health gate requires again (null: no gate). */
  must_online: string[] | null;
}

export const configVersionMigrations: Migration[] = [
  {
    version: 1,
    name: 'config versions',
    up(db: Db) {
      db.exec(`CREATE TABLE config_versions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        text TEXT NOT NULL,
        who TEXT NOT NULL,
        at TEXT NOT NULL,
        why TEXT NOT NULL,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        base_version TEXT,
        outcome TEXT NOT NULL,
        detail TEXT,
        outcome_at TEXT NOT NULL
      );
      CREATE INDEX config_versions_version ON config_versions(version);`);
    },
  },
  {
    version: 2,
    name: 'the devices a version must bring back online (its health gate survives a restart)',
    up(db: Db) {
      db.exec('ALTER TABLE config_versions ADD COLUMN must_online TEXT');
    },
  },
];

export type NewVersion = Pick<VersionRow, 'text' | 'who' | 'why' | 'from' | 'action' | 'base_version' | 'outcome'> & {
  must_online?: string[];
};

export class ConfigVersionStore {
  constructor(
    private readonly store: Store,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {
    store.migrate('config_versions', configVersionMigrations);
  }

  private get db(): Db {
    return this.store.db;
  }

  /** Appends a row and returns it; the commit is on disk when this returns. */
  insert(v: NewVersion): VersionRow {
    const at = this.now();
    const sha256 = createHash('sha256').update(v.text).digest('hex');
    const version = configVersion(v.text);
    const id = this.durably(
      () =>
        this.db
          .prepare(
            `INSERT INTO config_versions (version, sha256, text, who, at, why, source, action, base_version, outcome, outcome_at, must_online)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            version,
            sha256,
            v.text,
            v.who,
            at,
            v.why,
            v.from,
            v.action,
            v.base_version,
            v.outcome,
            at,
            v.must_online ? JSON.stringify(v.must_online) : null,
          ).lastInsertRowid,
    );
    return this.get(Number(id)) as VersionRow;
  }

  setOutcome(id: number, outcome: ConfigOutcome, detail: string | null = null): void {
    this.durably(() =>
      this.db
        .prepare('UPDATE config_versions SET outcome = ?, detail = COALESCE(?, detail), outcome_at = ? WHERE id = ?')
        .run(outcome, detail, this.now(), id),
    );
  }

  /** Rows still `applying` / `checking` from a run that ended: the agent starts afresh. */
  closeOpenRows(detail: string): void {
    this.durably(() =>
      this.db
        .prepare(
          `UPDATE config_versions SET outcome = 'interrupted', detail = ?, outcome_at = ? WHERE outcome IN ('applying', 'checking')`,
        )
        .run(detail, this.now()),
    );
  }

  get(id: number): VersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM config_versions WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r && toRow(r);
  }

  /** The newest row of that version, if any. */
  byVersion(version: string): VersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM config_versions WHERE version = ? ORDER BY id DESC LIMIT 1').get(version) as
      | Record<string, unknown>
      | undefined;
    return r && toRow(r);
  }

  latest(): VersionRow | undefined {
    const r = this.db.prepare('SELECT * FROM config_versions ORDER BY id DESC LIMIT 1').get() as
      | Record<string, unknown>
      | undefined;
    return r && toRow(r);
  }

  /** Newest first. */
  list(q: { limit?: number; before_id?: number } = {}): VersionRow[] {
    const rows = this.db
      .prepare('SELECT * FROM config_versions WHERE (@before IS NULL OR id < @before) ORDER BY id DESC LIMIT @limit')
      .all({ before: q.before_id ?? null, limit: Math.min(q.limit ?? 50, 1000) }) as Record<string, unknown>[];
    return rows.map(toRow);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM config_versions').get() as { n: number }).n;
  }

  /** Keeps the newest `keep` rows and every row of the versions in `protect` (running, previous). */
  prune(keep: number, protect: readonly string[]): number {
    const cut = this.db.prepare('SELECT id FROM config_versions ORDER BY id DESC LIMIT 1 OFFSET ?').get(keep - 1) as
      | { id: number }
      | undefined;
    if (!cut) return 0;
    const marks = protect.map(() => '?').join(', ') || "''";
    return this.db.prepare(`DELETE FROM config_versions WHERE id < ? AND version NOT IN (${marks})`).run(cut.id, ...protect)
      .changes;
  }

  /** Runs one write with synchronous = FULL: in WAL mode that fsyncs the log at its commit. */
  private durably<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }
}

function toRow(r: Record<string, unknown>): VersionRow {
  return {
    id: r.id as number,
    version: r.version as string,
    sha256: r.sha256 as string,
    text: r.text as string,
    who: r.who as string,
    at: r.at as string,
    why: r.why as string,
    from: r.source as ConfigSource,
    action: r.action as ConfigAction,
    base_version: (r.base_version as string | null) ?? null,
    outcome: r.outcome as ConfigOutcome,
    detail: (r.detail as string | null) ?? null,
    outcome_at: r.outcome_at as string,
    must_online: typeof r.must_online === 'string' ? (JSON.parse(r.must_online) as string[]) : null,
  };
}
