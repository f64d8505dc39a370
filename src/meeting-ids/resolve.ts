// One meeting id for every meeting-level method. An operator may hold either
// the CALENDAR form of a meeting (the merged meeting id, `<source>:<event id>`
// of one of its sources, a TrueConf conference id / iCalendar UID, or a
// TrueConf virtual room id) or its TRACKING id (the id meetings.list /
// meetings.get give: user_data.meeting of its conference, the conference id,
// or the id the calendar hook scheduled it under). This module links the two
// through facts the agent already holds. Pure: no I/O, the facts are passed in.
//
// A tracking meeting T and a calendar meeting C are the same meeting when
//  - T's id is one of C's forms (user_data.meeting was set to a calendar id), or
//  - one of T's conferences (instances) has an id that is one of C's
//    source ids (the conference tracking saw IS the TrueConf conference).
// An id that is itself a meeting on one side is that meeting there (exact);
// only the other side is found through these links.
import type { CalendarPerson } from '../calendar/model.js';

/** A calendar meeting or virtual room as calendar.list gives it. */
export interface CalendarEntry {
  /** Merged meeting id (`<source>:<event id>` of its first source), or the room id. */
  id: string;
  /** Its copies in the calendar sources (a room: one, with the room id as both ids). */
  sources: readonly { source: string; id: string; source_id: string }[];
  room: boolean;
  /** The merged meeting's invitees (a room has none). */
  invitees: readonly CalendarPerson[];
}

/** What meeting tracking knows, as lookups (the store answers them by key). */
export interface TrackingFacts {
  /** True when tracking has a meeting (or calendar-hook schedule) with this id. */
  isMeeting(id: string): boolean;
  /** The tracking meeting a conference (instance) with this id is filed under. */
  meetingOfConference(conferenceId: string): string | undefined;
  /** The ids of the conferences (instances) filed under a tracking meeting. */
  conferencesOf(meeting: string): readonly string[];
}

export interface ResolvedMeeting {
  /** The id as given. */
  given: string;
  /** The calendar meeting or room it is, or null when none is linked. */
  calendar: CalendarEntry | null;
  /** The tracking meeting id it is, or null when none is linked. */
  tracking: string | null;
  /** What was looked at, for error messages. */
  tried: string[];
}

export type Resolution =
  | ({ ok: true } & ResolvedMeeting)
  | { ok: false; reason: 'ambiguous'; message: string; calendar: string[]; tracking: string[] };

/** Every id under which the calendar knows the entry. */
export function calendarForms(c: CalendarEntry): string[] {
  const out = new Set<string>([c.id]);
  for (const s of c.sources) {
    out.add(`${s.source}:${s.id}`);
    out.add(s.source_id);
  }
  return [...out];
}

/** Tracking meetings linked to a calendar entry: by id, or by a conference whose id is a source id of the entry. */
export function trackingOfCalendar(c: CalendarEntry, t: TrackingFacts): string[] {
  const out = new Set<string>();
  for (const f of calendarForms(c)) if (t.isMeeting(f)) out.add(f);
  for (const s of c.sources) {
    const m = t.meetingOfConference(s.source_id);
    if (m !== undefined) out.add(m);
  }
  return [...out];
}

/** Calendar entries linked to a tracking meeting: its id is one of theirs, or one of its conferences is one of their source ids. */
export function calendarOfTracking(meeting: string, entries: readonly CalendarEntry[], t: TrackingFacts): CalendarEntry[] {
  const confs = new Set(t.conferencesOf(meeting));
  return entries.filter((c) => calendarForms(c).includes(meeting) || c.sources.some((s) => confs.has(s.source_id)));
}

/**
 * Resolves `given` to its calendar meeting and its tracking meeting. Either
 * may be null (a meeting only one side knows); both null is for the caller to
 * refuse as NOT_FOUND with `tried`. Two distinct meetings on either side are
 * `ambiguous`: never a guess.
 */
export function resolveMeeting(given: string, entries: readonly CalendarEntry[], t: TrackingFacts): Resolution {
  const calDirect = entries.filter((c) => calendarForms(c).includes(given));
  const trkDirect = new Set<string>();
  if (t.isMeeting(given)) trkDirect.add(given);
  const viaConference = t.meetingOfConference(given);
  if (viaConference !== undefined) trkDirect.add(viaConference);

  // A direct hit on a side is exact and wins; the other side is what the hits link to.
  const calendar = new Map<string, CalendarEntry>();
  for (const c of calDirect) calendar.set(c.id, c);
  if (calendar.size === 0) {
    for (const m of trkDirect) for (const c of calendarOfTracking(m, entries, t)) calendar.set(c.id, c);
  }
  const tracking = new Set(trkDirect);
  if (tracking.size === 0) {
    for (const c of calDirect) for (const m of trackingOfCalendar(c, t)) tracking.add(m);
  }

  if (calendar.size > 1 || tracking.size > 1) {
    const cals = [...calendar.keys()].sort();
    const trks = [...tracking].sort();
    const parts: string[] = [];
    if (cals.length > 1) parts.push(`calendar meetings ${cals.map((x) => `"${x}"`).join(', ')}`);
    if (trks.length > 1) parts.push(`tracking meetings ${trks.map((x) => `"${x}"`).join(', ')}`);
    return {
      ok: false,
      reason: 'ambiguous',
      calendar: cals,
      tracking: trks,
      message: `meeting "${given}" is ambiguous: it leads to ${parts.join(' and ')}; give the id of one of them`,
    };
  }
  const tried = [
    `the calendar between yesterday and tomorrow (${entries.length} meetings and rooms: meeting ids, <source>:<event id>, conference ids / UIDs, room ids)`,
    'meeting tracking (meeting ids and conference ids)',
  ];
  return {
    ok: true,
    given,
    calendar: [...calendar.values()][0] ?? null,
    tracking: [...tracking][0] ?? null,
    tried,
  };
}
