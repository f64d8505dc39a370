// Where a series' walk can resume at the next parse. ical.js walks a series
// from its DTSTART at every expansion (~20 µs a step: a 3-year daily series is
// ~1,100 steps before today's window). Its RecurExpansion is made to be saved
// and resumed (toJSON, then `new ICAL.RecurExpansion(saved)`), valid while the
// component's recurrence information is the same: so each walk saves the
// expansion at an occurrence a little before its window, keyed by that
// information (DTSTART, RRULE, RDATE, EXDATE and the zones they name), and the
// next parse of the same series resumes there when its window starts later.
//
// Overrides are not part of the key (ical.js applies them per occurrence): an
// override of an occurrence before the resume point may move it into the
// window, so a checkpoint also records, for the overrides the feed had when it
// was saved, whether each names an occurrence the walk passed. An override it
// does not know (added since) sends the parse back to DTSTART.
import type ICAL from 'ical.js';
import type { FeedZone } from './zones.js';

type IcalComponent = InstanceType<typeof ICAL.Component>;

export interface Checkpoint {
  /** ical.js's RecurExpansion.toJSON(), as JSON, positioned after the occurrence at `at`. */
  state: string;
  /** Wall clock (as UTC ms) in the series' zone of the last occurrence the saved expansion returned. */
  at: number;
  /** The latest wall clock (as UTC ms) of any occurrence up to there: usable for windows that skip past it. */
  maxNaive: number;
  /** Steps the walk had taken (its step limit counts from DTSTART). */
  steps: number;
  /** Wall clock (as UTC ms) of the occurrence the walk got next, or null when the series had ended. */
  successor: number | null;
  /** Overrides' wall clocks (in the series' zone) up to `at`, and whether each was an occurrence. */
  overrides: Map<number, boolean>;
}

/** Series are few per feed; bounded against a feed of thousands. */
const MAX_SERIES = 512;
const checkpoints = new Map<string, Checkpoint>();

/** The series' recurrence information, as ical.js's saved expansion depends on it. */
export function recurrenceKey(master: IcalComponent, zones: Map<string, FeedZone>): string {
  const parts: string[] = [];
  const named = new Set<string>();
  for (const name of ['dtstart', 'rrule', 'rdate', 'exdate']) {
    for (const p of master.getAllProperties(name)) {
      parts.push(p.toICALString());
      const tzid = p.getParameter('tzid');
      if (typeof tzid === 'string') named.add(tzid);
    }
  }
  for (const tzid of named) parts.push(`zone ${tzid}=${zones.get(tzid)?.key ?? 'floating'}`);
  return parts.join('\n');
}

export function checkpointOf(key: string): Checkpoint | undefined {
  return checkpoints.get(key);
}

/** The latest walk's checkpoint replaces the series' previous one. */
export function saveCheckpoint(key: string, cp: Checkpoint): void {
  if (!checkpoints.has(key) && checkpoints.size >= MAX_SERIES) checkpoints.clear();
  checkpoints.set(key, cp);
}
