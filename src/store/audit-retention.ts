// Keeps the audit table bounded: rows older than [agent] audit_max_age_days and rows beyond the
// newest [agent] audit_max_rows are deleted, oldest id first, in short transactions of their own
// from a timer — never inside an action's commit. A pass deletes at most PRUNE_BATCH_ROWS ids per
// transaction and waits PRUNE_PAUSE_MS between them, so a large backlog (a room upgrading with
// millions of rows) is worked off over minutes while actions keep their turn on the event loop.
// The newest row is never deleted: without AUTOINCREMENT a new row takes max(id) + 1, so keeping it
// keeps ids increasing (audit.list's before_id cursor).
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { iso } from '../util/iso.js';
import type { Store } from './db.js';

const DAY_MS = 86_400_000;
/** Ids deleted per transaction at most (about 1 ms of the event loop on the build machine: docs/performance.md). */
export const PRUNE_BATCH_ROWS = 1000;
/** Pause between two batches of one pass. */
export const PRUNE_PAUSE_MS = 20;
/** A pass runs this long after start() and then this often. */
export const PRUNE_FIRST_MS = 5_000;
export const PRUNE_EVERY_MS = 60_000;

export interface AuditLimits {
  /** Rows whose `at` is older than this many days are deleted. */
  maxAgeDays: number;
  /** At most this many of the newest ids are kept. */
  maxRows: number;
}

export interface PruneBatch {
  deleted: number;
  /** The batch stopped at its size: more may be due. */
  more: boolean;
}

/** What one pass deleted (the log line). */
export interface PrunePass {
  pruned: number;
  batches: number;
  /** The longest batch held the event loop this long (ms). */
  longest_batch_ms: number;
  oldest_kept_id: number | null;
  oldest_kept_at: string | null;
}

export interface AuditRetentionOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Read at every batch: a config reload applies at the next one. */
  limits: () => AuditLimits;
  batchRows?: number;
  pauseMs?: number;
  firstMs?: number;
  everyMs?: number;
}

export class AuditRetention {
  private readonly bounds;
  private readonly firstFresh;
  private readonly deleteBelow;
  private readonly oldest;
  private readonly batchRows: number;
  private timer: TimerHandle | null = null;
  private running = false;
  private pass: PrunePass | null = null;
  /** The last pass that deleted something (tests, diagnostics). */
  lastPass: PrunePass | null = null;
  /** Rows deleted since this agent started, batch by batch (room_agent_audit_pruned_rows_total). */
  prunedRows = 0;

  constructor(private readonly o: AuditRetentionOptions) {
    const db = o.store.db;
    this.batchRows = o.batchRows ?? PRUNE_BATCH_ROWS;
    // Two subqueries: SQLite answers a lone min() or max() of the rowid from the b-tree's edge.
    this.bounds = db.prepare('SELECT (SELECT min(id) FROM audit) AS lo, (SELECT max(id) FROM audit) AS hi');
    this.firstFresh = db.prepare('SELECT id FROM audit WHERE id >= ? AND id < ? AND at >= ? ORDER BY id LIMIT 1');
    this.deleteBelow = db.prepare('DELETE FROM audit WHERE id < ?');
    this.oldest = db.prepare('SELECT id, at FROM audit ORDER BY id LIMIT 1');
  }

  /**
   * Deletes one batch: the oldest ids that are past the age or beyond the row count, at most
   * `batchRows` ids and never the newest row. An old row behind a newer one (a clock that was
   * set back) stays until the rows bound reaches it.
   */
  pruneBatch(): PruneBatch {
    const { maxAgeDays, maxRows } = this.o.limits();
    const { lo, hi } = this.bounds.get() as { lo: number | null; hi: number | null };
    if (lo === null || hi === null || lo >= hi) return { deleted: 0, more: false };
    // Ids below `end` are this batch's candidates; the newest row (hi) is never one of them.
    const end = Math.min(lo + this.batchRows, hi);
    const byRows = Math.min(hi - maxRows + 1, end);
    const cutoff = iso(this.o.clock.now() - maxAgeDays * DAY_MS);
    const fresh = this.firstFresh.get(lo, end, cutoff) as { id: number } | undefined;
    const byAge = fresh ? fresh.id : end;
    const below = Math.max(byRows, byAge);
    if (below <= lo) return { deleted: 0, more: false };
    const deleted = this.deleteBelow.run(below).changes;
    return { deleted, more: below === end && end < hi };
  }

  /** Starts the timer: a first pass soon after start, then one a minute. */
  start(): void {
    if (this.timer || this.running) return;
    this.running = true;
    this.schedule(this.o.firstMs ?? PRUNE_FIRST_MS);
  }

  stop(): void {
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimeout(this.step, ms);
  }

  /** One batch of the current pass; the next batch after a pause, or the next pass after the interval. */
  private readonly step = (): void => {
    this.timer = null;
    if (!this.running || !this.o.store.db.open) return;
    const pass = (this.pass ??= {
      pruned: 0,
      batches: 0,
      longest_batch_ms: 0,
      oldest_kept_id: null,
      oldest_kept_at: null,
    });
    let batch: PruneBatch;
    try {
      const t0 = performance.now();
      batch = this.pruneBatch();
      const took = performance.now() - t0;
      if (batch.deleted > 0) {
        this.prunedRows += batch.deleted;
        pass.batches++;
        pass.pruned += batch.deleted;
        pass.longest_batch_ms = Math.max(pass.longest_batch_ms, Math.round(took * 1000) / 1000);
      }
    } catch (e) {
      // A full disk or a locked file: the rows stay, the next pass tries again.
      this.o.logger.warn({ err: (e as Error).message }, 'audit log pruning failed; retrying in a minute');
      this.pass = null;
      this.schedule(this.o.everyMs ?? PRUNE_EVERY_MS);
      return;
    }
    if (batch.more) {
      this.schedule(this.o.pauseMs ?? PRUNE_PAUSE_MS);
      return;
    }
    this.pass = null;
    if (pass.pruned > 0) {
      const oldest = this.oldest.get() as { id: number; at: string } | undefined;
      pass.oldest_kept_id = oldest?.id ?? null;
      pass.oldest_kept_at = oldest?.at ?? null;
      const { maxAgeDays, maxRows } = this.o.limits();
      this.lastPass = pass;
      this.o.logger.info({ ...pass, max_age_days: maxAgeDays, max_rows: maxRows }, 'pruned the audit log');
    }
    this.schedule(this.o.everyMs ?? PRUNE_EVERY_MS);
  };
}
