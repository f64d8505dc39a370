// iCalendar → calendar events, using ical.js for parsing and recurrence
// (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides). Pure: text in, events out.
// Time zones: a TZID that names an IANA or Windows zone (Outlook writes
// "W. Europe Standard Time") is converted with the runtime's tz database, so
// DST is right even when the file's VTIMEZONE is simplified; other TZIDs
// ("Customized Time Zone") use the file's own VTIMEZONE; floating times use
// the calendar's X-WR-TIMEZONE or the configured zone.
import ICAL from 'ical.js';
import { type CalendarEvent, type CalendarPerson, extractLinks } from '../../src/calendar/model.js';
import { fromWallClock, resolveZone } from '../../src/calendar/zone.js';

type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalEvent = InstanceType<typeof ICAL.Event>;
type IcalTimezone = InstanceType<typeof ICAL.Timezone>;

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
    const calZone = resolveZone(str(cal.getFirstPropertyValue('x-wr-timezone'))) ?? opts.zone;
    const ctx: ZoneContext = { calZone, vtimezones: new Map() };
    for (const vtz of cal.getAllSubcomponents('vtimezone')) {
      const tzid = str(vtz.getFirstPropertyValue('tzid'));
      if (tzid) ctx.vtimezones.set(tzid, new ICAL.Timezone(vtz));
    }
    const masters = new Map<string, IcalComponent>();
    const exceptions: IcalComponent[] = [];
    for (const ve of cal.getAllSubcomponents('vevent')) {
      if (ve.hasProperty('recurrence-id')) exceptions.push(ve);
      else masters.set(str(ve.getFirstPropertyValue('uid')) ?? `no-uid-${masters.size}`, ve);
    }
    const series = new Map<string, IcalEvent>();
    for (const [uid, comp] of masters) series.set(uid, new ICAL.Event(comp));
    for (const ex of exceptions) {
      const uid = str(ex.getFirstPropertyValue('uid')) ?? '';
      const master = series.get(uid);
      if (master) master.relateException(new ICAL.Event(ex));
      // An override without its series (feeds that publish only a window) stands alone.
      else series.set(`${uid}#${series.size}`, new ICAL.Event(ex));
    }
    for (const ev of series.values()) events.push(...expand(ev, fromMs, toMs, ctx, opts.maxOccurrences ?? 5000));
  }
  events.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  return { name, events };
}

interface ZoneContext {
  calZone: string;
  vtimezones: Map<string, IcalTimezone>;
}

function expand(ev: IcalEvent, fromMs: number, toMs: number, z: ZoneContext, max: number): CalendarEvent[] {
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
  const it = ev.iterator();
  const masterTz = tzidOf(ev.component, 'dtstart');
  // Zone conversion is the costly part; occurrences days before the window
  // (by naive wall clock, which is within ±14 h of the instant) are skipped
  // unless an override may have moved them.
  const overridden = new Set(Object.values(ev.exceptions).map((x) => naive(x.recurrenceId)));
  const skipBefore = fromMs - 2 * 86_400_000 - (ev.duration?.toSeconds() ?? 0) * 1000;
  let walked = 0;
  for (let n = 0; walked < max && n < 200_000; n++) {
    const next = it.next();
    if (!next) break;
    const nv = naive(next);
    if (nv < skipBefore && !overridden.has(nv)) continue;
    walked++;
    const d = ev.getOccurrenceDetails(next);
    const item = d.item.component;
    const startTz = d.startDate.timezone ?? tzidOf(item, 'dtstart') ?? masterTz;
    const start = instant(d.startDate, startTz, z);
    const nominal = instant(d.recurrenceId, d.recurrenceId.timezone ?? masterTz, z);
    // Overrides can move an occurrence out of or into the window, so judge by both times.
    if (start >= toMs && nominal >= toMs) break;
    if (isCancelled(item)) continue;
    const end = instant(d.endDate, d.endDate.timezone ?? tzidOf(item, 'dtend') ?? startTz, z);
    const e = toEvent(item, ev.uid, new Date(nominal).toISOString(), start, Math.max(end, start), d.startDate.isDate);
    if (overlapsRange(e, fromMs, toMs)) out.push(e);
  }
  return out;
}

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
    const iana = resolveZone(tzid);
    if (iana) return fromWallClock(wall, iana);
    const vtz = z.vtimezones.get(tzid);
    if (vtz) return ICAL.Time.fromData(wall, vtz).toUnixTime() * 1000;
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
