// Wall-clock ↔ UTC conversion for IANA zones using the operating system's
// time zone database (/usr/share/zoneinfo, or $TZDIR), so DST rules are the
// OS's, not a hand-written table. Zones the OS lacks (no tzdata package)
// fall back to the runtime's copy through Intl, loaded only then — ICU's
// formatter costs ~6 MB of resident memory (docs/architecture.md "Memory: what the agent leaves out").
import fs from 'node:fs';
import path from 'node:path';
import { findIana } from 'windows-iana';
import { intlOffsetMinutes, intlSystemZone, isIntlZone } from './intl-zone.js';
import { parseTzif, type TzifZone, tzifOffsetAt } from './tzif.js';

export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function zoneDir(): string {
  return process.env.TZDIR || '/usr/share/zoneinfo';
}

// One entry per zone name asked for: the parsed file, or null when the OS has
// no usable file for it. Names come from config and calendars, so bounded.
const tzifCache = new Map<string, TzifZone | null>();
const ZONE_NAME = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;

function osZone(zone: string): TzifZone | null {
  const dir = zoneDir();
  const key = `${dir}\0${zone}`;
  let z = tzifCache.get(key);
  if (z !== undefined) return z;
  z = null;
  if (ZONE_NAME.test(zone) && zone.length < 64) {
    try {
      z = parseTzif(fs.readFileSync(path.join(dir, zone)));
    } catch {
      // missing, unreadable or not TZif (e.g. a directory name): not an OS zone
    }
  }
  if (tzifCache.size > 1000) tzifCache.clear();
  tzifCache.set(key, z);
  return z;
}

/** True when the OS or the runtime knows this IANA zone name. */
export function isIanaZone(zone: string): boolean {
  if (zone === 'UTC' || osZone(zone)) return true;
  // Only what could be a zone name goes on to Intl (a zone newer than the
  // OS's tzdata, a name in other case): anything else would load ICU to say no.
  if (!ZONE_NAME.test(zone)) return false;
  return isIntlZone(zone);
}

/**
 * The machine's zone, used when the config names none: $TZ when it names a
 * zone, else the /etc/localtime link (what the C library follows), else
 * /etc/timezone (Debian's record, for a copied /etc/localtime), else the
 * runtime's guess. `etc` is for tests.
 */
export function systemZone(etc = '/etc'): string {
  const tz = process.env.TZ?.replace(/^:/, '');
  if (tz !== undefined) {
    if (tz === '' || tz === 'UTC') return 'UTC';
    if (osZone(tz)) return tz;
  }
  try {
    const link = fs.readlinkSync(path.join(etc, 'localtime'));
    const at = link.indexOf('zoneinfo/');
    const name = at >= 0 ? link.slice(at + 'zoneinfo/'.length) : '';
    if (osZone(name)) return name;
  } catch (e) {
    // No /etc/localtime at all means UTC to the C library, and so to us.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'UTC';
    // EINVAL: a copied file, not a link; its name may be recorded below.
  }
  try {
    const name = fs.readFileSync(path.join(etc, 'timezone'), 'utf8').trim();
    if (osZone(name)) return name;
  } catch {
    // not a Debian-style system
  }
  return intlSystemZone();
}

/** Offset of `zone` from UTC at instant `ms`, in minutes (east positive). */
export function offsetMinutes(ms: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const z = osZone(zone);
  if (z) return Math.round(tzifOffsetAt(z, Math.floor(ms / 1000)) / 60);
  return intlOffsetMinutes(ms, zone);
}

/** Wall clock in `zone` at instant `ms`. */
export function toWallClock(ms: number, zone: string): WallClock {
  const d = new Date(ms + offsetMinutes(ms, zone) * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/**
 * The instant a wall-clock time in `zone` denotes. A time skipped by a spring
 * DST gap is moved forward by the gap (02:30 → 03:30), and an ambiguous autumn
 * time takes its first (daylight) occurrence — what calendar clients do.
 */
export function fromWallClock(w: WallClock, zone: string): number {
  const naive = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const before = offsetMinutes(naive - 86_400_000 / 2, zone);
  const after = offsetMinutes(naive + 86_400_000 / 2, zone);
  // Try both offsets seen around this day; keep the ones that round-trip.
  const candidates = [naive - before * 60_000, naive - after * 60_000].filter((ms) => {
    const back = toWallClock(ms, zone);
    return Date.UTC(back.year, back.month - 1, back.day, back.hour, back.minute, back.second) === naive;
  });
  if (candidates.length) return Math.min(...candidates);
  // In a gap: use the offset from before the change, which lands after the gap.
  return naive - before * 60_000;
}

/** Midnight starting the local day that contains `ms`. */
export function startOfDay(ms: number, zone: string): number {
  const w = toWallClock(ms, zone);
  return fromWallClock({ ...w, hour: 0, minute: 0, second: 0 }, zone);
}

/** Midnight `days` local days after the local day of `ms` (DST-safe). */
export function addDays(ms: number, days: number, zone: string): number {
  const w = toWallClock(ms, zone);
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return fromWallClock(
    { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0, second: 0 },
    zone,
  );
}

/**
 * Resolves a TZID as calendar programs write it: an IANA name, a Windows name
 * ("W. Europe Standard Time", as Outlook and Exchange write) mapped through
 * CLDR's windowsZones data (package windows-iana), or a quoted/prefixed
 * variant ("/Europe/Berlin"). Returns null when nothing matches.
 */
export function resolveZone(tzid: string | null | undefined): string | null {
  if (!tzid) return null;
  const name = tzid.trim().replace(/^"|"$/g, '').replace(/^\/+/, '');
  if (name === 'UTC' || name === 'Z' || name === 'GMT') return 'UTC';
  if (name.includes('/') && isIanaZone(name)) return name;
  const iana = findIana(name);
  const first = iana.find((z) => isIanaZone(z));
  if (first) return first;
  // Some exporters append a suffix such as " 1" or use "(UTC+01:00) …" display names.
  const stripped = name.replace(/\s+\d+$/, '').replace(/^\(UTC[^)]*\)\s*/, '');
  if (stripped !== name) return resolveZone(stripped);
  return isIanaZone(name) ? name : null;
}
