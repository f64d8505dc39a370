// Builds meetings' insight indexes from a list of records as the service
// files them: callback events (webhook form), dial-out statuses (recordDial's
// record, told by `call_sid`) and code bindings (recordBinding's, told by `by`).
import { MeetingFold, meetingKeyOf } from '../../src/tracking/fold.js';
import { buildIndex, type MeetingIndex } from '../../src/tracking/insight.js';
import { isSideEvent, parseBinding, parseConfEvent, parseDial } from '../../src/tracking/parse.js';
import { Roster } from '../../src/tracking/roster.js';
import type { ConfEvent, RosterEntry } from '../../src/tracking/types.js';

export const RECEIVED = Date.UTC(2025, 10, 22, 13, 0, 0);

/** One record → its event, as recordDial / recordBinding / the webhook would parse it. */
export function eventOf(r: unknown, i: number): ConfEvent {
  const o = r as Record<string, unknown>;
  if (typeof o.call_sid === 'string' && o.event === undefined) return parseDial(o, RECEIVED);
  if (o.by !== undefined && o.event === undefined) return parseBinding(o, RECEIVED);
  return parseConfEvent(r, i, RECEIVED);
}

/** Groups events by meeting (as the service does) and builds each meeting's index. */
export function indexes(
  raw: readonly unknown[],
  opts: { requires?: string[]; roster?: RosterEntry[] } = {},
): Map<string, MeetingIndex> {
  const evs = raw.map(eventOf);
  const folds = new Map<string, MeetingFold>();
  const confFold = new MeetingFold();
  for (const e of evs) confFold.add(e);
  const keyOf = (e: ConfEvent) => {
    if (isSideEvent(e)) return e.meeting as string;
    const c = confFold.conferences.get(e.conference);
    return c ? meetingKeyOf(c) : e.conference;
  };
  for (const e of evs) {
    const k = keyOf(e);
    if (!folds.has(k)) folds.set(k, new MeetingFold());
    folds.get(k)?.add(e);
  }
  return new Map([...folds].map(([k, f]) => [k, buildIndex(k, f, new Roster(opts.roster ?? []), opts.requires ?? [])] as const));
}
