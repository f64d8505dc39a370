// The time zones ical.js walks a feed's recurrences in, one per TZID the feed
// uses, following the driver's rule (docs/drivers/ics.md, "Time zones"):
// a TZID naming an IANA or Windows zone is that zone in the OS's tz database,
// any other TZID is the file's VTIMEZONE.
//
// Why ical.js is handed these instead of reading the file's VTIMEZONEs
// itself: ical.js compares two times by their UTC instant, and it compares at
// every step of a series (against DTSTART, the step before, UNTIL, EXDATE).
// With a VTIMEZONE each comparison asks ical.js's Timezone.utcOffset, which
// searches the zone's changes expanded from the VTIMEZONE's first DTSTART
// (Outlook writes 1601: ~850 changes, expanded again for every parse) and
// copies change records as it goes — in a profile of the demo agent that was
// most of a refresh's ~160 ms and ~60 MB. A named zone now answers from the
// tz database the driver already converts with, so ical.js and the driver
// agree on every offset; a VTIMEZONE-only zone is expanded once per distinct
// VTIMEZONE text and kept. And a TZID with no VTIMEZONE in the file was
// floating to ical.js, which compared its local times as UTC against a UTC
// UNTIL (a series east of UTC lost its last occurrence); it is now its zone.
import ICAL from 'ical.js';
import { fromWallClock, resolveZone } from '../../src/calendar/zone.js';

type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;
type IcalTimezone = InstanceType<typeof ICAL.Timezone>;

/** Names calendars use are few; these bound the caches against a feed that invents thousands. */
const MAX_NAMES = 256;
const MAX_VTIMEZONES = 32;

function remember<K, V>(cache: Map<K, V>, key: K, value: V, max: number): V {
  if (cache.size >= max) cache.clear();
  cache.set(key, value);
  return value;
}

const resolvedNames = new Map<string, string | null>();

/** resolveZone for a TZID, asked once per name (windows-iana's table and the OS's zone files do not change under us). */
export function ianaZoneOf(tzid: string | null | undefined): string | null {
  if (!tzid) return null;
  const known = resolvedNames.get(tzid);
  return known !== undefined ? known : remember(resolvedNames, tzid, resolveZone(tzid), MAX_NAMES);
}

/** An ical.js zone whose offsets are the OS tz database's (src/calendar/zone.ts), the ones the driver's instants use. */
class TzdbZone extends ICAL.Timezone {
  /**
   * Offsets by wall-clock time (as a UTC ms number) for one parse: ical.js asks again for the same
   * time whenever it compares a copy of it (each step compares the new time with DTSTART and with a
   * copy of the step before). Emptied when the parse ends.
   */
  readonly offsets = new Map<number, number>();

  constructor(
    tzid: string,
    readonly iana: string,
  ) {
    super({ tzid });
  }

  /** Offset (seconds east) of a wall-clock time in this zone, resolved as fromWallClock resolves gaps and folds. */
  override utcOffset(tt: IcalTime): number {
    const naive = Date.UTC(tt.year, tt.month - 1, tt.day, tt.hour, tt.minute, tt.second);
    let offset = this.offsets.get(naive);
    if (offset === undefined) {
      const wall = { year: tt.year, month: tt.month, day: tt.day, hour: tt.hour, minute: tt.minute, second: tt.second };
      offset = (naive - fromWallClock(wall, this.iana)) / 1000;
      if (this.offsets.size >= 100_000) this.offsets.clear();
      this.offsets.set(naive, offset);
    }
    return offset;
  }
}

const tzdbZones = new Map<string, TzdbZone>();
/** ical.js zones of VTIMEZONEs by text, with the number of changes their first expansion made. */
const vtimezoneZones = new Map<string, { zone: IcalTimezone; changes: number }>();

function tzdbZone(tzid: string, iana: string): TzdbZone {
  const z = tzdbZones.get(tzid);
  return z && z.iana === iana ? z : remember(tzdbZones, tzid, new TzdbZone(tzid, iana), MAX_NAMES);
}

/**
 * ical.js's zone for a VTIMEZONE, kept per distinct text so its changes are expanded once, not at every
 * parse. ical.js expands a zone up to five years after this one and, asked about a later year, appends
 * the whole expansion again (duplicates that change its answer in a repeated autumn hour); a kept zone
 * that was extended so is replaced by a fresh one, as every parse had before.
 */
function vtimezoneZone(vtz: IcalComponent, tzid: string): IcalTimezone {
  const key = `${tzid}\n${vtz.toString()}`;
  const kept = vtimezoneZones.get(key);
  if (kept && kept.zone.changes.length === kept.changes) return kept.zone;
  const zone = new ICAL.Timezone({ component: new ICAL.Component(vtz.toJSON()), tzid });
  zone.utcOffset(ICAL.Time.fromData({ year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0 }));
  return remember(vtimezoneZones, key, { zone, changes: zone.changes.length }, MAX_VTIMEZONES).zone;
}

/** The date-time properties whose TZID parameter names a zone (RFC 5545 §3.2.19). */
const ZONED = ['dtstart', 'dtend', 'due', 'recurrence-id', 'exdate', 'rdate'];

/** Every TZID the calendar's events name, and the calendar's VTIMEZONEs by TZID. */
function feedZones(cal: IcalComponent): { named: Set<string>; vtimezones: Map<string, IcalComponent> } {
  const named = new Set<string>();
  for (const ev of cal.getAllSubcomponents()) {
    if (ev.name === 'vtimezone') continue;
    for (const name of ZONED) {
      for (const p of ev.getAllProperties(name)) {
        const tzid = p.getParameter('tzid');
        if (typeof tzid === 'string') named.add(tzid);
      }
    }
  }
  const vtimezones = new Map<string, IcalComponent>();
  for (const vtz of cal.getAllSubcomponents('vtimezone')) {
    const tzid = vtz.getFirstPropertyValue('tzid');
    if (typeof tzid === 'string' && tzid) vtimezones.set(tzid, vtz);
  }
  return { named, vtimezones };
}

/** What a TZID is to the driver: an IANA zone, a VTIMEZONE (ical.js's zone for it), or unknown (floating). */
export interface FeedZone {
  iana: string | null;
  vtimezone: IcalTimezone | null;
  /** What the zone is, as text: the IANA name or the VTIMEZONE (saved expansions are keyed by it). */
  key: string;
}

/**
 * Runs `body` with ical.js resolving each of the calendar's TZIDs to the zone above: the calendar's
 * VTIMEZONEs are taken out of its tree (ical.js prefers a VTIMEZONE in the tree to its TimezoneService)
 * and the zones are registered with ical.js's TimezoneService for the length of `body`, then
 * unregistered. `body` runs synchronously, so no other parse sees them.
 */
export function withFeedZones<T>(cal: IcalComponent, body: (zones: Map<string, FeedZone>) => T): T {
  const { named, vtimezones } = feedZones(cal);
  const zones = new Map<string, FeedZone>();
  const registered: string[] = [];
  for (const tzid of new Set([...named, ...vtimezones.keys()])) {
    const iana = ianaZoneOf(tzid);
    const vtz = vtimezones.get(tzid);
    const zone = iana ? tzdbZone(tzid, iana) : vtz ? vtimezoneZone(vtz, tzid) : null;
    zones.set(tzid, {
      iana,
      vtimezone: iana ? null : zone,
      key: iana ? `iana ${iana}` : vtz ? `vtimezone ${vtz.toString()}` : 'floating',
    });
    // UTC, Z and GMT are ical.js's own; a name ical.js already knows is left to it.
    if (!zone || ICAL.TimezoneService.has(tzid)) continue;
    ICAL.TimezoneService.register(zone, tzid);
    registered.push(tzid);
  }
  cal.removeAllSubcomponents('vtimezone');
  try {
    return body(zones);
  } finally {
    for (const tzid of registered) ICAL.TimezoneService.remove(tzid);
    for (const zone of tzdbZones.values()) zone.offsets.clear();
  }
}
