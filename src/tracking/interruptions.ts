// Interruptions of a meeting: a participant's call lost (a conf.quit with an
// error), a dial-out that could not be placed (Twilio busy / failed /
// no-answer / canceled), a conference instance that failed or ended with an
// error. Each lasts until the participant (for a failed instance: the
// meeting) is back. Pure: facts in, a time-ordered list out.
import type { DialFacts } from './fold.js';
import type { InstanceView } from './instances.js';
import { normContact, type Roster } from './roster.js';

export type InterruptionKind = 'dropped' | 'dial_failed' | 'instance_failed';

/** The Twilio CallStatus values that mean the call was never connected. */
export const DIAL_FAILURES: ReadonlySet<string> = new Set(['busy', 'failed', 'no-answer', 'canceled']);

export interface InterruptionFact {
  at: number;
  kind: InterruptionKind;
  /** The participant's key (null for a failed instance). */
  participant: string | null;
  reason: string | null;
  /** When the participant (the meeting) was back; +Infinity = not back. */
  back: number;
}

/** A call as the interruptions need it. */
export interface LostCall {
  join: number;
  /** Effective quit; null = open. */
  quit: number | null;
  /** The call was lost (its conf.quit carried this error) ... */
  error: string | null;
  /** ... at its own quit time. */
  lostAt: number | null;
}

const span = (c: LostCall) => ({ join: c.join, quit: c.quit ?? Number.POSITIVE_INFINITY });

/** The earliest moment ≥ at when one of `spans` is open; +Infinity when none is. */
function backAt(spans: Iterable<{ join: number; quit: number }>, at: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (const s of spans) {
    if (s.quit <= at) continue;
    best = Math.min(best, Math.max(s.join, at));
  }
  return best;
}

/** The failed dial statuses, one per call (its earliest failure), ordered by time. */
export function failedDials(dials: Iterable<DialFacts>): DialFacts[] {
  const bySid = new Map<string, DialFacts>();
  for (const d of dials) {
    if (!DIAL_FAILURES.has(d.status)) continue;
    const cur = bySid.get(d.call_sid);
    if (!cur || d.at < cur.at || (d.at === cur.at && d.status < cur.status)) bySid.set(d.call_sid, d);
  }
  return [...bySid.values()].sort((a, b) => a.at - b.at || (a.call_sid < b.call_sid ? -1 : 1));
}

/** The person a dial-out was for: the one it names, else the roster's owner of the number. */
export const dialPerson = (d: DialFacts, roster: Roster): string | null =>
  d.person ?? (d.number !== null ? (roster.entry(null, d.number)?.person ?? null) : null);

/**
 * The interruptions under one identity resolution: `ids[i]` is call i's
 * participant, `joiner(i)` the device it came from.
 */
export function interruptionsOf(
  calls: readonly LostCall[],
  ids: readonly { key: string; person: string | null }[],
  joiner: (i: number) => string,
  instances: readonly InstanceView[],
  failed: readonly DialFacts[],
  roster: Roster,
): InterruptionFact[] {
  const out: InterruptionFact[] = [];
  calls.forEach((c, i) => {
    if (c.error === null || c.lostAt === null) return;
    const key = ids[i].key;
    const others = calls.filter((_, k) => k !== i && ids[k].key === key).map(span);
    out.push({ at: c.lostAt, kind: 'dropped', participant: key, reason: c.error, back: backAt(others, c.lostAt) });
  });
  for (const i of instances) {
    if (i.error === null) continue;
    const at = i.failed ? i.visibleFrom : (i.end ?? i.visibleFrom);
    const open = instances
      .filter((o) => o !== i && !o.failed && o.begin !== null)
      .map((o) => ({ join: o.begin as number, quit: o.end ?? Number.POSITIVE_INFINITY }));
    out.push({ at, kind: 'instance_failed', participant: null, reason: i.error, back: backAt(open, at) });
  }
  for (const d of failed) {
    const person = dialPerson(d, roster);
    const number = d.number !== null ? normContact(d.number) : null;
    const mine = calls
      .filter((_, i) => (person !== null && ids[i].person === person) || (number !== null && joiner(i) === number))
      .map(span);
    out.push({
      at: d.at,
      kind: 'dial_failed',
      // The person dialled (the key of a matched participant), else the number.
      participant: person ?? d.number ?? d.call_sid,
      reason: d.reason !== null ? `${d.status}: ${d.reason}` : d.status,
      back: backAt(mine, d.at),
    });
  }
  return out.sort(
    (a, b) =>
      a.at - b.at ||
      cmp(a.kind, b.kind) ||
      cmp(a.participant ?? '', b.participant ?? '') ||
      cmp(a.reason ?? '', b.reason ?? '') ||
      (a.back === b.back ? 0 : a.back < b.back ? -1 : 1),
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
