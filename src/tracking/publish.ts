// What the `meetings` topic carries: per meeting, numbered deltas against the
// insight last published (src/client/meeting-deltas.ts), never the whole
// insight again. The last published insight of the most recently changed
// meetings is kept as the base of the next delta and as the snapshot a
// follower starts from; a meeting whose base was dropped starts a new stream
// (new epoch) with a full delta.
import { randomBytes } from 'node:crypto';
import { diffInsight, type MeetingDelta, type MeetingState } from '../client/meeting-deltas.js';
import type { Insight } from './types.js';

export class InsightPublisher {
  /** Identifies this run of the agent: deltas of another run never apply to our states. */
  private readonly run = randomBytes(6).toString('hex');
  private streams = 0;
  /** Last published state per meeting, least recently changed first. */
  private readonly bases = new Map<string, MeetingState>();

  /** `keep`: how many meetings' last insight are kept as delta bases ([tracking] delta_base_meetings). */
  constructor(private readonly keep: number) {}

  /** The delta from the last published insight of the meeting to `next`; `next` becomes the base. */
  next(next: Insight): MeetingDelta {
    const base = this.bases.get(next.id);
    const d = base ? diffInsight(base.insight, next, base.epoch, base.seq + 1) : diffInsight(null, next, this.newEpoch(), 1);
    this.remember({ epoch: d.epoch, seq: d.seq, insight: next });
    return d;
  }

  /** The last published state of the meeting, if kept. */
  last(id: string): MeetingState | undefined {
    return this.bases.get(id);
  }

  /** Delta bases held now, and the cap ([tracking] delta_base_meetings). */
  size(): { count: number; cap: number } {
    return { count: this.bases.size, cap: this.keep };
  }

  /** Drops the meeting's base (its next delta is a full one of a new stream). */
  forget(id: string): void {
    this.bases.delete(id);
  }

  private newEpoch(): string {
    return `${this.run}.${++this.streams}`;
  }

  private remember(s: MeetingState): void {
    this.bases.delete(s.insight.id);
    this.bases.set(s.insight.id, s);
    for (const id of this.bases.keys()) {
      if (this.bases.size <= this.keep) break;
      this.bases.delete(id);
    }
  }
}
