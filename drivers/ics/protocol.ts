// iCalendar → calendar events, using ical.js for parsing and recurrence
// (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides). Pure: text in, events out.
// Time zones: a TZID that names an IANA or Windows zone (Outlook writes
// "W. Europe Standard Time") is converted with the runtime's tz database, so
// DST is right even when the file's VTIMEZONE is simplified; other TZIDs
// ("Customized Time Zone") use the file's own VTIMEZONE; floating times use
// the calendar's X-WR-TIMEZONE or the configured zone.
import ICAL from 'ical.js';
import { type CalendarEvent, type CalendarPerson, extractLinks } from '../../src/calendar/model.js';
import { fromWallClock } from '../../src/calendar/zone.js';
import { type Checkpoint, checkpointOf, recurrenceKey, saveCheckpoint } from './resume.js';
import { type FeedZone, ianaZoneOf, withFeedZones } from './zones.js';

type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalEvent = InstanceType<typeof ICAL.Event>;
type IcalExpansion = InstanceType<typeof ICAL.RecurExpansion>;

export interface ParseOptions {
  /** IANA zone for floating times and all-day dates when the file names none. */
  zone: string;
  /** Upper bound on occurrences walked per series (protects against endless rules). */
  maxOccurrences?: number;
}

export interface ParsedCalendar {
  name: string | null;
  events: CalendarEvent[];
}

/** ical.js's messages that quote the line they could not read: the reason, then the line. */
const QUOTING_LINE = [
  /^(invalid line \((?:no token ";" or ":"|no matching double quote)\)) "([\s\S]*)"$/,
  /^(Invalid parameters|Missing parameter value|Empty parameter name) in '([\s\S]*)'$/,
];

const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');

/**
 * Why ical.js could not read a text, without the text: ical.js quotes the line it failed on, and
 * that line is whatever the server sent (a login page, binary junk, a token in a link), which must
 * not reach a status, a log or an alert. The line is named by its number instead.
 */
export function parseFailureReason(message: string, text: string): string {
  for (const re of QUOTING_LINE) {
    const m = re.exec(message);
    if (!m) continue;
    const head = (m[2] ?? '').slice(0, 40);
    const n = head ? text.split(/\r\n|\n|\r/).findIndex((l) => l.startsWith(head)) : -1;
    return n >= 0 ? `${m[1]} at line ${n + 1}` : (m[1] ?? message);
  }
  return printable(message).slice(0, 200);
}

/** Parses iCalendar text and returns the occurrences overlapping [fromMs, toMs), cancelled ones removed. */
export function parseIcs(text: string, fromMs: number, toMs: number, opts: ParseOptions): ParsedCalendar {
  let jcal: unknown;
  try {
    jcal = ICAL.parse(text);
  } catch (e) {
    throw new Error(`not a valid iCalendar file: ${parseFailureReason((e as Error).message, text)}`);
  }
  const roots = (Array.isArray(jcal) && Array.isArray(jcal[0]) ? jcal : [jcal]) as unknown[];
  const events: CalendarEvent[] = [];
  let name: string | null = null;
  for (const root of roots) {
    const cal = new ICAL.Component(root as never);
    if (cal.name !== 'vcalendar')
      throw new Error(`not a valid iCalendar file: top component is ${printable(String(cal.name)).slice(0, 40)}`);
    name ??= str(cal.getFirstPropertyValue('x-wr-calname'));
    const calZone = ianaZoneOf(str(cal.getFirstPropertyValue('x-wr-timezone'))) ?? opts.zone;
    withFeedZones(cal, (zones) => {
      const ctx: ZoneContext = { calZone, zones };
      for (const ev of seriesOf(cal)) events.push(...expand(ev, fromMs, toMs, ctx, opts.maxOccurrences ?? 5000));
    });
  }
  events.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  return { name, events };
}

/**
 * The calendar's series, each with its own overrides (RECURRENCE-ID events of its UID, RFC 5545
 * §3.8.4.4), and overrides whose series the feed does not carry, standing alone. ical.js relates
 * every override in the calendar to an event made without `exceptions`, whatever its UID.
 */
function seriesOf(cal: IcalComponent): IcalEvent[] {
  const masters = new Map<string, IcalComponent>();
  const overrides: { uid: string; comp: IcalComponent }[] = [];
  const byUid = new Map<string, IcalComponent[]>();
  for (const ve of cal.getAllSubcomponents('vevent')) {
    const uid = str(ve.getFirstPropertyValue('uid'));
    if (!ve.hasProperty('recurrence-id')) {
      masters.set(uid ?? `no-uid-${masters.size}`, ve);
      continue;
    }
    overrides.push({ uid: uid ?? '', comp: ve });
    const own = byUid.get(uid ?? '');
    if (own) own.push(ve);
    else byUid.set(uid ?? '', [ve]);
  }
  const series: IcalEvent[] = [];
  for (const [uid, comp] of masters) series.push(new ICAL.Event(comp, { exceptions: byUid.get(uid) ?? [] }));
  for (const o of overrides) if (!masters.has(o.uid)) series.push(new ICAL.Event(o.comp, { exceptions: [] }));
  return series;
}

interface ZoneContext {
  calZone: string;
  zones: Map<string, FeedZone>;
}

function expand(ev: IcalEvent, fromMs: number, toMs: number, z: ZoneContext, max: number, resume = true): CalendarEvent[] {
  if (!ev.startDate) return [];
  const out: CalendarEvent[] = [];
  if (!ev.isRecurring()) {
    if (isCancelled(ev.component)) return [];
    const start = instant(ev.startDate, tzidOf(ev.component, 'dtstart'), z);
    const endTime = ev.endDate ?? ev.startDate;
    const end = instant(endTime, tzidOf(ev.component, 'dtend') ?? tzidOf(ev.component, 'dtstart'), z);
    const e = toEvent(ev.component, ev.uid, null, start, Math.max(end, start), ev.startDate.isDate);
    if (overlapsRange(e, fromMs, toMs)) out.push(e);
    return out;
  }
  if (isCancelled(ev.component)) return [];
  const masterTz = tzidOf(ev.component, 'dtstart');
  const seriesZone = ev.startDate.zone;
  // Occurrences whose wall clock (within ±14 h of their instant) is days before or a day after the
  // window are stepped over without looking them up, unless an override may have moved them. An
  // override names its occurrence in any zone (a RECURRENCE-ID in UTC for a series with a TZID), and
  // ical.js matches it by either wall clock, so both are kept. A THISANDFUTURE override can shift any
  // later occurrence, so then nothing is stepped over (nor resumed).
  // Only an override whose own times reach into the window (±1 day of wall clock) can bring its
  // occurrence in from elsewhere: the walk goes on up to the last of those.
  const overridden = new Set<number>();
  /** Overrides by wall clock in the series' zone (those of the series' own value type: DATE or DATE-TIME). */
  const ownOverrides = new Map<number, IcalTime>();
  const reachingWindow = new Set<number>();
  let lastOverridden = -Infinity;
  for (const x of Object.values(ev.exceptions)) {
    const own = x.recurrenceId.convertToZone(seriesZone);
    const movedStart = x.startDate ? naive(x.startDate) : naive(own);
    const movedEnd = x.endDate ? naive(x.endDate) : movedStart;
    const reaches = movedStart < toMs + DAY_MS && movedEnd > fromMs - DAY_MS;
    for (const t of [naive(x.recurrenceId), naive(own)]) {
      overridden.add(t);
      if (reaches) lastOverridden = Math.max(lastOverridden, t);
    }
    if (own.isDate === ev.startDate.isDate) ownOverrides.set(naive(own), own);
    if (reaches) reachingWindow.add(naive(own));
  }
  const ranged = ev.rangeExceptions.length > 0;
  const skipBefore = ranged ? -Infinity : fromMs - 2 * DAY_MS - (ev.duration?.toSeconds() ?? 0) * 1000;
  const skipAfter = ranged ? Infinity : toMs + DAY_MS;

  /** One occurrence looked up: its override applied, cancelled ones dropped; false once past the window. */
  const visit = (next: IcalTime, noOverrideLater: boolean): boolean => {
    const d = ev.getOccurrenceDetails(next);
    const item = d.item.component;
    const startTz = d.startDate.timezone ?? tzidOf(item, 'dtstart') ?? masterTz;
    const start = instant(d.startDate, startTz, z);
    const nominal = instant(d.recurrenceId, d.recurrenceId.timezone ?? masterTz, z);
    // Overrides can move an occurrence out of or into the window, so judge by both times, and go on
    // while a later occurrence's override may have moved it into the window.
    if (start >= toMs && nominal >= toMs && noOverrideLater) return false;
    if (isCancelled(item)) return true;
    const end = instant(d.endDate, d.endDate.timezone ?? tzidOf(item, 'dtend') ?? startTz, z);
    const e = toEvent(item, ev.uid, new Date(nominal).toISOString(), start, Math.max(end, start), d.startDate.isDate);
    if (overlapsRange(e, fromMs, toMs)) out.push(e);
    return true;
  };

  // Resume where the last walk of the same recurrence saved ical.js's expansion, if that lies before
  // this window and every override up to there is one it knew (drivers/ics/resume.ts). Only a series
  // of one RRULE and no RDATE is saved: ical.js's saved state forgets that a rule ended (its UNTIL or
  // COUNT reached), which the occurrence after the saved one tells apart.
  const key =
    !ranged && ev.component.getAllProperties('rrule').length === 1 && !ev.component.hasProperty('rdate')
      ? recurrenceKey(ev.component, z.zones)
      : null;
  const saved = key && resume ? checkpointOf(key) : undefined;
  const resumable =
    saved !== undefined &&
    saved.maxNaive < skipBefore &&
    [...ownOverrides.keys()].every((t) => saved.overrides.has(t) || t > saved.at + 2 * DAY_MS);
  let it: IcalExpansion;
  let steps = 0;
  let walked = 0;
  let first: IcalTime | null | undefined;
  const passedOverrides = new Map<number, boolean>();
  if (saved && resumable) {
    it = new ICAL.RecurExpansion(JSON.parse(saved.state));
    steps = saved.steps;
    first = saved.successor === null ? null : it.next();
    if (first !== null && (!first || naive(first) !== saved.successor)) return expand(ev, fromMs, toMs, z, max, false);
    for (const [t, occurrence] of [...ownOverrides].sort((a, b) => a[0] - b[0])) {
      if (saved.overrides.get(t) !== true) continue;
      passedOverrides.set(t, true);
      // An occurrence the walk passed, moved where this window cannot see it: nothing to look up.
      if (!reachingWindow.has(t)) continue;
      walked++;
      visit(occurrence, t > lastOverridden + 2 * DAY_MS);
    }
  } else it = ev.iterator();

  // This walk's checkpoint: the expansion saved at an occurrence before the window (the last one
  // within 35 days of it, or every 64th step before that), with which overrides it had passed, made
  // whole by the occurrence that follows it.
  let checkpoint: Checkpoint | null = null;
  let pending: Omit<Checkpoint, 'successor'> | null = null;
  let maxNaive = saved && resumable ? saved.maxNaive : -Infinity;
  for (; walked < max && steps < 200_000; ) {
    const next = first !== undefined ? first : it.next();
    first = undefined;
    if (pending) checkpoint = { ...pending, successor: next ? naive(next) : null };
    pending = null;
    if (!next) break;
    steps++;
    const nv = naive(next);
    maxNaive = Math.max(maxNaive, nv);
    const own = next.zone === seriesZone ? nv : naive(next.convertToZone(seriesZone));
    if (ownOverrides.has(own)) passedOverrides.set(own, true);
    // Later occurrences (ordered by instant) have wall clocks at most 26 h earlier than this one's.
    const noOverrideLater = nv > lastOverridden + 2 * DAY_MS;
    if (nv >= skipAfter && noOverrideLater) break;
    const skip = (nv < skipBefore || nv >= skipAfter) && !overridden.has(nv);
    if (!skip) {
      walked++;
      if (!visit(next, noOverrideLater)) break;
    }
    if (key && maxNaive < skipBefore && (nv >= skipBefore - 35 * DAY_MS || steps % 64 === 0)) {
      const overrides = new Map<number, boolean>();
      for (const t of ownOverrides.keys()) overrides.set(t, passedOverrides.get(t) === true);
      pending = { state: JSON.stringify(it), at: own, maxNaive, steps, overrides };
    }
  }
  if (key && checkpoint) saveCheckpoint(key, checkpoint);
  return out;
}

const DAY_MS = 86_400_000;

function naive(t: IcalTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

function overlapsRange(e: CalendarEvent, fromMs: number, toMs: number): boolean {
  const s = Date.parse(e.start);
  const en = Date.parse(e.end);
  return s < toMs && (en > fromMs || (s === en && s >= fromMs));
}

/** The instant a parsed time denotes (see the file comment for the zone rules). */
function instant(t: IcalTime, tzid: string | null | undefined, z: ZoneContext): number {
  const wall = { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second };
  if (t.isDate) return fromWallClock({ ...wall, hour: 0, minute: 0, second: 0 }, z.calZone);
  if (t.zone?.tzid === 'UTC' || tzid === 'UTC' || tzid === 'Z') {
    return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  }
  if (tzid) {
    const zone = z.zones.get(tzid);
    const iana = zone ? zone.iana : ianaZoneOf(tzid);
    if (iana) return fromWallClock(wall, iana);
    if (zone?.vtimezone) return ICAL.Time.fromData(wall, zone.vtimezone).toUnixTime() * 1000;
  }
  return fromWallClock(wall, z.calZone);
}

function tzidOf(comp: IcalComponent, prop: string): string | null {
  const p = comp.getFirstProperty(prop);
  const v = p?.getParameter('tzid');
  return typeof v === 'string' ? v : null;
}

function isCancelled(comp: IcalComponent): boolean {
  const status = str(comp.getFirstPropertyValue('status'));
  if (status?.toUpperCase() === 'CANCELLED') return true;
  // Outlook keeps a cancelled meeting in a published calendar with this prefix.
  return /^(canceled|cancelled):/i.test(str(comp.getFirstPropertyValue('summary')) ?? '');
}

/** Join-link properties Outlook/Teams and others write, best first. */
const LINK_PROPS = ['x-microsoft-skypeteamsmeetingurl', 'x-microsoft-onlinemeetingexternallink', 'x-google-conference', 'url'];

function toEvent(
  comp: IcalComponent,
  uid: string,
  recurrenceId: string | null,
  start: number,
  end: number,
  allDay: boolean,
): CalendarEvent {
  const location = str(comp.getFirstPropertyValue('location'));
  const description = str(comp.getFirstPropertyValue('description'));
  const links = [
    ...LINK_PROPS.map((p) => str(comp.getFirstPropertyValue(p))).filter((x): x is string => !!x && /^https?:/i.test(x)),
    ...extractLinks(location),
    ...extractLinks(description),
  ];
  const unique = [...new Set(links)];
  return {
    id: recurrenceId ? `${uid}@${recurrenceId}` : uid,
    source_id: uid,
    title: str(comp.getFirstPropertyValue('summary')) ?? '(no title)',
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    all_day: allDay,
    organizer: person(comp.getFirstProperty('organizer'))?.name ?? person(comp.getFirstProperty('organizer'))?.id ?? null,
    invitees: comp
      .getAllProperties('attendee')
      .map(person)
      .filter((p): p is CalendarPerson => !!p),
    join_url: unique[0] ?? null,
    location,
    state: null,
    links: unique,
  };
}

function person(p: InstanceType<typeof ICAL.Property> | null): CalendarPerson | null {
  if (!p) return null;
  const v = str(p.getFirstValue());
  const cn = p.getParameter('cn');
  const id = v ? v.replace(/^mailto:/i, '') : null;
  const name = typeof cn === 'string' ? cn : null;
  return id || name ? { id, name } : null;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (v && typeof v === 'object' && 'toString' in v) {
    const s = String(v);
    return s === '[object Object]' || s === '' ? null : s;
  }
  return null;
}
