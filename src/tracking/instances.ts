// A meeting's conference instances as time-ordered views, and the meeting's
// status as of any moment: shared by the insight (src/tracking/insight.ts)
// and the commit path that keeps the meeting list's summaries.
import type { ConferenceFacts } from './fold.js';
import type { MeetingStatus } from './types.js';

export interface InstanceView {
  id: string;
  begin: number | null;
  end: number | null;
  failed: boolean;
  error: string | null;
  /** From this time on the instance is known (its begin, or the failure's receipt). */
  visibleFrom: number;
  timerRequires: string[] | null;
}

/** A conference that only ever reported a failure (conf.end with error and no times) failed to start. */
export function instanceOf(c: ConferenceFacts): InstanceView {
  const failed = c.failedAt !== null && c.createBegin === null && c.endEnd === null;
  const begin = failed ? null : (c.createBegin ?? c.endBegin ?? c.firstAt);
  const end = failed || c.endEnd === null || begin === null ? null : Math.max(c.endEnd, begin);
  return {
    id: c.id,
    begin,
    end,
    failed,
    error: c.error,
    visibleFrom: failed ? (c.failedAt as number) : (begin as number),
    timerRequires: c.timerRequires,
  };
}

export interface StatusAt {
  status: MeetingStatus;
  start: number | null;
  end: number | null;
  error: string | null;
}

/** Meeting status from its instances as of `at` (shared by the insight and the meeting list). */
export function statusAt(instances: readonly InstanceView[], at: number): StatusAt {
  let seen = 0;
  let failed = 0;
  let live = 0;
  let start: number | null = null;
  let end: number | null = null;
  let lastFailed: InstanceView | null = null;
  for (const i of instances) {
    if (i.visibleFrom > at) continue;
    seen++;
    if (i.failed) {
      failed++;
      if (!lastFailed || i.visibleFrom >= lastFailed.visibleFrom) lastFailed = i;
      continue;
    }
    if (i.begin !== null) start = start === null ? i.begin : Math.min(start, i.begin);
    if (i.end === null || i.end > at) live++;
    else end = end === null ? i.end : Math.max(end, i.end);
  }
  if (seen === 0) return { status: 'scheduled', start: null, end: null, error: null };
  if (failed === seen) return { status: 'failed', start: null, end: null, error: lastFailed?.error ?? null };
  if (live > 0) return { status: 'live', start, end: null, error: null };
  return { status: 'ended', start, end, error: null };
}
