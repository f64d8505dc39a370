// biome-ignore-all lint/style/noRestrictedGlobals: this file is the one place the agent may use Intl, the fallback for zones the OS lacks.
// Time zones through Intl (Node's own copy of the tz database in ICU): the
// fallback of src/calendar/zone.ts for machines without tzdata or for zones
// newer than the OS's. Loading ICU's formatter costs ~6 MB of resident
// memory, so nothing here runs unless the OS cannot answer.
import type { WallClock } from './zone.js';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when Intl accepts `zone` as a time zone name. */
export function isIntlZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The runtime's guess of the machine's zone. */
export function intlSystemZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Wall clock in `zone` at instant `ms`, straight from Intl. */
function intlWallClock(ms: number, zone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

// Intl is slow (tens of µs per call) and calendars convert thousands of
// times per poll. Zone offsets only change on quarter-hour boundaries, so
// one lookup per zone and quarter hour is exact.
const QUARTER_MS = 900_000;
const offsetCache = new Map<string, number>();

/** Offset of `zone` at instant `ms` in minutes (east positive), from Intl. */
export function intlOffsetMinutes(ms: number, zone: string): number {
  const q = Math.floor(ms / QUARTER_MS);
  const key = `${zone}|${q}`;
  let off = offsetCache.get(key);
  if (off === undefined) {
    const at = q * QUARTER_MS;
    const w = intlWallClock(at, zone);
    off = Math.round((Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - at) / 60_000);
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(key, off);
  }
  return off;
}
