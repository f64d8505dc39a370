// In-memory state of meeting tracking: per-meeting folds with their insight
// index (LRU, backed by snapshots in SQLite), and the final insights' JSON.
import type { TrackingConfig } from './config.js';
import { MeetingFold } from './fold.js';
import { buildIndex, type MeetingIndex } from './insight.js';
import { Roster } from './roster.js';
import { parseConfEvent } from './parse.js';
import type { TrackingStore } from './store.js';
import type { ConfEvent } from './types.js';

const FOLD_CACHE = 32;
/** A meeting's fold is snapshotted to SQLite after this many new events, so a cold read folds only the rest. */
const SNAPSHOT_EVERY = 2000;

interface CachedFold {
  fold: MeetingFold;
  index: MeetingIndex | null;
  /** Highest event seq folded in. */
  seq: number;
  /** fold.events when the last snapshot was written (or read). */
  snapshotEvents: number;
}

export class MeetingCache {
  private readonly folds = new Map<string, CachedFold>();
  private readonly finals = new Map<string, string>();
  private finalsBytes = 0;

  constructor(
    private readonly store: TrackingStore,
    private readonly cfg: TrackingConfig,
    /** Meetings with a push pending: their folds are kept over the limit, or the push would read them back from SQLite. */
    private readonly pinned: ReadonlySet<string>,
  ) {}

  /** The meeting's insight index, building (and snapshotting) its fold when needed. */
  index(id: string): MeetingIndex {
    let c = this.folds.get(id);
    if (c) {
      // Re-insert: the map's order is the LRU order.
      this.folds.delete(id);
    } else {
      c = this.load(id);
    }
    this.folds.set(id, c);
    this.trim();
    this.maybeSnapshot(id);
    c.index ??= buildIndex(id, c.fold, new Roster(this.store.roster(id)), this.cfg.timer_requires);
    return c.index;
  }

  /** A committed event for a cached meeting: folded in, index rebuilt on the next read. */
  appended(meeting: string, ev: ConfEvent, seq: number): void {
    const c = this.folds.get(meeting);
    if (!c) return;
    c.fold.add(ev);
    c.seq = Math.max(c.seq, seq);
    c.index = null;
  }

  /** Starts an empty cached fold for a meeting with no stored events yet (events then arrive via `appended`). */
  seed(meeting: string): void {
    if (this.folds.has(meeting)) return;
    this.folds.set(meeting, { fold: new MeetingFold(), index: null, seq: 0, snapshotEvents: 0 });
    this.trim();
  }

  /** Evicts least recently used folds down to the limit, except pinned ones. */
  trim(): void {
    let over = this.folds.size - FOLD_CACHE;
    if (over <= 0) return;
    for (const id of this.folds.keys()) {
      if (this.pinned.has(id)) continue;
      this.folds.delete(id);
      if (--over === 0) return;
    }
  }

  /** The roster changed: same fold, new index. */
  invalidateIndex(id: string): void {
    const c = this.folds.get(id);
    if (c) c.index = null;
  }

  /** Drops the fold (the next read loads the snapshot and later events). */
  dropFold(id: string): void {
    this.folds.delete(id);
  }

  /** The meeting's fold: its snapshot (if any) plus the events stored after it. */
  private load(id: string): CachedFold {
    const snap = this.store.snapshot(id);
    const fold = snap ? MeetingFold.fromJSON(snap.fold) : new MeetingFold();
    let seq = snap?.upto_seq ?? 0;
    for (const r of this.store.knownEventsOf(id, seq)) {
      fold.add(r.norm ? (JSON.parse(r.norm) as ConfEvent) : parseConfEvent(JSON.parse(r.raw), 0, r.received_at));
      seq = Math.max(seq, r.seq);
    }
    return { fold, index: null, seq, snapshotEvents: snap ? snap.events : 0 };
  }

  /** Writes a snapshot when enough events were folded since the last one. */
  maybeSnapshot(id: string): void {
    const c = this.folds.get(id);
    if (!c || c.fold.events - c.snapshotEvents < SNAPSHOT_EVERY) return;
    this.store.putSnapshot(id, c.seq, c.fold.events, c.fold.toJSON());
    c.snapshotEvents = c.fold.events;
  }

  /** The stored final insight as JSON text, when the meeting has ended and nothing changed since. */
  finalJson(id: string): string | undefined {
    const hit = this.finals.get(id);
    if (hit !== undefined) return hit;
    const stored = this.store.finalOf(id);
    if (stored) this.rememberFinal(id, stored);
    return stored ?? undefined;
  }

  forgetFinal(id: string): void {
    const old = this.finals.get(id);
    if (old === undefined) return;
    this.finals.delete(id);
    this.finalsBytes -= old.length;
  }

  /** Calls the meeting's fold holds (0 when it is not in memory). */
  callCount(id: string): number {
    return this.folds.get(id)?.fold.calls.size ?? 0;
  }

  /** Meeting folds held in memory now (LRU, FOLD_CACHE; pinned ones may exceed it briefly). */
  foldsInMemory(): { count: number; cap: number } {
    return { count: this.folds.size, cap: FOLD_CACHE };
  }

  /** Final insights held in memory now (bounded by [tracking] final_cache_mb). */
  finalsInMemory(): { count: number; chars: number } {
    return { count: this.finals.size, chars: this.finalsBytes };
  }

  rememberFinal(id: string, json: string): void {
    this.forgetFinal(id);
    this.finals.set(id, json);
    this.finalsBytes += json.length;
    while (this.finalsBytes > this.cfg.final_cache_mb * 1024 * 1024 && this.finals.size > 0) {
      const [k, v] = this.finals.entries().next().value as [string, string];
      this.finals.delete(k);
      this.finalsBytes -= v.length;
    }
  }
}
