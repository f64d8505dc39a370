import type { Db, Migration, Store } from '../store/db.js';
import type { RunRecord } from './engine.js';

export const scenarioMigrations: Migration[] = [
  {
    version: 1,
    name: 'scenario runs, fired edges, settings',
    up(db: Db) {
      db.exec(`CREATE TABLE scenario_runs (
        id TEXT PRIMARY KEY,
        scenario TEXT NOT NULL,
        trigger_kind TEXT NOT NULL,
        trigger_detail TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        outcome TEXT NOT NULL,
        error TEXT,
        steps TEXT NOT NULL
      );
      CREATE INDEX scenario_runs_started ON scenario_runs(started_at);
      CREATE TABLE scenario_edges (key TEXT PRIMARY KEY, fired_at TEXT NOT NULL);
      CREATE TABLE scenario_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    },
  },
];

/** Every run with its trigger, steps and outcome; kept up to `keep` rows. */
export class RunStore {
  private readonly upsert;
  private readonly prune;
  constructor(
    private readonly store: Store,
    keep: number,
  ) {
    store.migrate('scenarios', scenarioMigrations);
    this.upsert = store.db.prepare(
      `INSERT INTO scenario_runs (id, scenario, trigger_kind, trigger_detail, started_at, ended_at, outcome, error, steps)
       VALUES (@id, @scenario, @kind, @detail, @started_at, @ended_at, @outcome, @error, @steps)
       ON CONFLICT(id) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome,
         error = excluded.error, steps = excluded.steps, started_at = excluded.started_at`,
    );
    this.prune = store.db.prepare(
      'DELETE FROM scenario_runs WHERE id IN (SELECT id FROM scenario_runs ORDER BY started_at DESC LIMIT -1 OFFSET ?)',
    );
    this.keep = keep;
  }
  private readonly keep: number;
  private writes = 0;

  save(r: RunRecord): void {
    this.upsert.run({
      id: r.id,
      scenario: r.scenario,
      kind: r.trigger.kind,
      detail: r.trigger.detail ?? null,
      started_at: r.started_at,
      ended_at: r.ended_at,
      outcome: r.outcome,
      error: r.error,
      steps: JSON.stringify(r.steps),
    });
    if (r.ended_at && ++this.writes % 50 === 0) this.prune.run(this.keep);
  }

  list(q: { scenario?: string; limit?: number }): RunRecord[] {
    const rows = this.store.db
      .prepare('SELECT * FROM scenario_runs WHERE (@s IS NULL OR scenario = @s) ORDER BY started_at DESC LIMIT @n')
      .all({ s: q.scenario ?? null, n: q.limit ?? 50 }) as Record<string, string | null>[];
    return rows.map((r) => ({
      id: r.id as string,
      scenario: r.scenario as string,
      trigger: { kind: r.trigger_kind as string, ...(r.trigger_detail ? { detail: r.trigger_detail } : {}) },
      started_at: r.started_at as string,
      ended_at: r.ended_at,
      outcome: r.outcome as RunRecord['outcome'],
      error: r.error,
      steps: JSON.parse(r.steps as string),
    }));
  }

  /** Runs left "running" by a crash are closed as interrupted at start-up. */
  closeInterrupted(at: string): number {
    return this.store.db
      .prepare(
        "UPDATE scenario_runs SET outcome = 'failed', ended_at = ?, error = 'interrupted: the agent stopped during the run' WHERE ended_at IS NULL",
      )
      .run(at).changes;
  }

  setting(key: string): string | undefined {
    const r = this.store.db.prepare('SELECT value FROM scenario_settings WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return r?.value;
  }
  setSetting(key: string, value: string): void {
    this.store.db
      .prepare('INSERT INTO scenario_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }
}
