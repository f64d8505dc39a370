// parseIcs against a reference expansion over a realistic Outlook room feed
// (drivers/ics/realistic-feed.ts). The reference takes the straightforward
// path: ical.js reads the text as it comes (the file's VTIMEZONEs), every
// occurrence of every series is walked from DTSTART and looked up with
// getOccurrenceDetails, and nothing is cached or skipped; it stops only after
// the window and after the last override's original time. parseIcs may take
// any shortcut, but must return the same occurrences for every window.
import fs from 'node:fs';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { fromWallClock, resolveZone } from '../../src/calendar/zone.js';
import { SAMPLE_ICS } from './index.js';
import { parseIcs } from './protocol.js';
import { realisticRoomFeed } from './realistic-feed.js';

type IcalTime = InstanceType<typeof ICAL.Time>;
type IcalComponent = InstanceType<typeof ICAL.Component>;

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12);
const FEED = realisticRoomFeed(NOW);
const ZONE = 'Europe/Berlin';

/** "<id> <start> <end> <title> <all day>" of every occurrence overlapping [fromMs, toMs), sorted. */
function referenceExpansion(text: string, fromMs: number, toMs: number, zone: string): string[] {
  const cal = new ICAL.Component(ICAL.parse(text) as never);
  const prop = (c: IcalComponent, name: string) => {
    const v = c.getFirstPropertyValue(name);
    return v === null || v === undefined || String(v).trim() === '' ? null : String(v);
  };
  const tzidOf = (c: IcalComponent, name: string) => {
    const v = c.getFirstProperty(name)?.getParameter('tzid');
    return typeof v === 'string' ? v : null;
  };
  const calZone = resolveZone(prop(cal, 'x-wr-timezone')) ?? zone;
  const vtimezones = new Map<string, InstanceType<typeof ICAL.Timezone>>();
  for (const vtz of cal.getAllSubcomponents('vtimezone')) vtimezones.set(String(prop(vtz, 'tzid')), new ICAL.Timezone(vtz));
  // The driver's documented zone rules (docs/drivers/ics.md, "Time zones").
  const instant = (t: IcalTime, tzid: string | null): number => {
    const wall = { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second };
    if (t.isDate) return fromWallClock({ ...wall, hour: 0, minute: 0, second: 0 }, calZone);
    if (t.zone?.tzid === 'UTC' || tzid === 'UTC') return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
    const iana = resolveZone(tzid);
    if (iana) return fromWallClock(wall, iana);
    const vtz = tzid ? vtimezones.get(tzid) : undefined;
    if (vtz) return ICAL.Time.fromData(wall, vtz).toUnixTime() * 1000;
    return fromWallClock(wall, calZone);
  };
  const cancelled = (c: IcalComponent) =>
    prop(c, 'status')?.toUpperCase() === 'CANCELLED' || /^(canceled|cancelled):/i.test(prop(c, 'summary') ?? '');
  const out: { start: number; line: string }[] = [];
  const emit = (c: IcalComponent, id: string, start: number, end: number, allDay: boolean) => {
    if (cancelled(c)) return;
    end = Math.max(start, end);
    if (start < toMs && (end > fromMs || (start === end && start >= fromMs))) {
      const iso = (ms: number) => new Date(ms).toISOString();
      out.push({ start, line: `${id} ${iso(start)} ${iso(end)} ${prop(c, 'summary') ?? '(no title)'} ${allDay}` });
    }
  };

  // Each series with its own overrides (RFC 5545 §3.8.4.4: an override names its series by UID).
  const vevents = cal.getAllSubcomponents('vevent');
  const series = new Map<string, InstanceType<typeof ICAL.Event>>();
  for (const c of vevents) {
    if (c.hasProperty('recurrence-id')) continue;
    const own = vevents.filter((x) => x.hasProperty('recurrence-id') && prop(x, 'uid') === prop(c, 'uid'));
    series.set(String(prop(c, 'uid')), new ICAL.Event(c, { exceptions: own, strictExceptions: true }));
  }
  for (const c of vevents) {
    if (c.hasProperty('recurrence-id') && !series.has(String(prop(c, 'uid')))) {
      series.set(`${prop(c, 'uid')}#${series.size}`, new ICAL.Event(c));
    }
  }
  for (const ev of series.values()) {
    const c = ev.component;
    const startTz = tzidOf(c, 'dtstart');
    if (!ev.isRecurring()) {
      const start = instant(ev.startDate, startTz);
      emit(c, ev.uid, start, instant(ev.endDate, tzidOf(c, 'dtend') ?? startTz), ev.startDate.isDate);
      continue;
    }
    if (cancelled(c)) continue;
    const lastOverride = Math.max(
      -Infinity,
      ...Object.values(ev.exceptions).map((x) =>
        instant(x.recurrenceId, (x.recurrenceId as { timezone?: string }).timezone ?? startTz),
      ),
    );
    const it = ev.iterator();
    for (let n = 0; n < 200_000; n++) {
      const next = it.next();
      if (!next) break;
      const d = ev.getOccurrenceDetails(next);
      const nominal = instant(d.recurrenceId, d.recurrenceId.timezone ?? startTz);
      if (nominal >= toMs && nominal > lastOverride) break;
      const item = d.item.component;
      const itemTz = d.startDate.timezone ?? tzidOf(item, 'dtstart') ?? startTz;
      const start = instant(d.startDate, itemTz);
      const end = instant(d.endDate, d.endDate.timezone ?? tzidOf(item, 'dtend') ?? itemTz);
      emit(item, `${ev.uid}@${new Date(nominal).toISOString()}`, start, end, d.startDate.isDate);
    }
  }
  return out.sort((a, b) => a.start - b.start || (a.line < b.line ? -1 : 1)).map((x) => x.line);
}

function parsed(text: string, fromMs: number, toMs: number, zone = ZONE): string[] {
  return parseIcs(text, fromMs, toMs, { zone })
    .events.map((e) => ({ start: Date.parse(e.start), line: `${e.id} ${e.start} ${e.end} ${e.title} ${e.all_day}` }))
    .sort((a, b) => a.start - b.start || (a.line < b.line ? -1 : 1))
    .map((x) => x.line);
}

/** The last Sunday of `month` (1-12) in `year`, 00:00 UTC. */
function lastSunday(year: number, month: number): number {
  const last = Date.UTC(year, month, 0);
  return last - new Date(last).getUTCDay() * DAY;
}

// The windows: a sync window (yesterday … today + 9) every 41 days across the feed's three years and
// beyond its bounded series' ends, the DST changes of each year, a 62-day list_events range, and windows
// before the series start (where an override moved an occurrence to).
const FIRST = NOW - 735 * DAY;
const windows: [number, number][] = [];
for (let at = FIRST - 10 * DAY; at < NOW + 420 * DAY; at += 41 * DAY) windows.push([at, at + 9 * DAY]);
for (let y = 2024; y <= 2028; y++) {
  for (const m of [3, 10]) windows.push([lastSunday(y, m) - DAY, lastSunday(y, m) + 2 * DAY]);
}
windows.push([NOW - 31 * DAY, NOW + 31 * DAY], [FIRST - 6 * DAY, FIRST + DAY], [NOW + 3 * DAY, NOW + 3 * DAY + 3600_000]);

// The reference walks every series through ical.js's own VTIMEZONE handling: seconds per window on a loaded machine.
describe('parseIcs returns what the straightforward expansion returns', { timeout: 120_000 }, () => {
  it('the realistic feed has series, overrides and singles in the window around now', () => {
    const evs = parsed(FEED, NOW - DAY, NOW + 8 * DAY);
    expect(evs.length).toBeGreaterThan(30);
    expect(evs.some((l) => l.startsWith('standup-3y@'))).toBe(true);
  });

  it.each(windows.map(([f, t]) => [new Date(f).toISOString(), new Date(t).toISOString(), f, t] as const))(
    'realistic feed, %s … %s',
    (_f, _t, fromMs, toMs) => {
      expect(parsed(FEED, fromMs, toMs)).toEqual(referenceExpansion(FEED, fromMs, toMs, ZONE));
    },
  );

  it('realistic feed with another configured zone (all-day and floating times move)', () => {
    const [fromMs, toMs] = [NOW - 2 * DAY, NOW + 12 * DAY];
    expect(parsed(FEED, fromMs, toMs, 'America/New_York')).toEqual(referenceExpansion(FEED, fromMs, toMs, 'America/New_York'));
  });

  it('the shipped demo sample, around now and across its year-end overrides', () => {
    const sample = fs.readFileSync(SAMPLE_ICS, 'utf8');
    for (const [fromMs, toMs] of [
      [NOW - DAY, NOW + 8 * DAY],
      [Date.UTC(2025, 11, 20), Date.UTC(2026, 0, 20)],
    ] as const) {
      expect(parsed(sample, fromMs, toMs)).toEqual(referenceExpansion(sample, fromMs, toMs, ZONE));
    }
  });

  it('windows in any order (each parse resumes where the last walk of the series saved the expansion)', () => {
    const order = [12, 3, 27, 5, 0, 13];
    for (const i of order) {
      const [fromMs, toMs] = windows[i % windows.length] as [number, number];
      expect(parsed(FEED, fromMs, toMs)).toEqual(referenceExpansion(FEED, fromMs, toMs, ZONE));
    }
  });

  it('an override added or removed since the last parse, of an occurrence long before the window, is seen', () => {
    const [fromMs, toMs] = [NOW - DAY, NOW + 8 * DAY];
    parsed(FEED, fromMs, toMs);
    parsed(FEED, fromMs + DAY, toMs + DAY);
    // The stand-up of the series' 100th day, moved to the day after tomorrow.
    const early = new Date(FIRST + 100 * DAY + 5 * DAY).toISOString().slice(0, 10).replace(/-/g, '');
    const target = new Date(NOW + 2 * DAY).toISOString().slice(0, 10).replace(/-/g, '');
    const moved = [
      'BEGIN:VEVENT',
      'UID:standup-3y',
      `RECURRENCE-ID;TZID=W. Europe Standard Time:${early}T093000`,
      `DTSTART;TZID=W. Europe Standard Time:${target}T173000`,
      `DTEND;TZID=W. Europe Standard Time:${target}T174500`,
      'SUMMARY:Stand-up from long ago',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const withMove = FEED.replace('END:VCALENDAR', moved);
    const got = parsed(withMove, fromMs + DAY, toMs + DAY);
    expect(got.some((l) => l.includes('Stand-up from long ago'))).toBe(true);
    expect(got).toEqual(referenceExpansion(withMove, fromMs + DAY, toMs + DAY, ZONE));
    expect(parsed(FEED, fromMs + DAY, toMs + DAY)).toEqual(referenceExpansion(FEED, fromMs + DAY, toMs + DAY, ZONE));
  });

  it('a second parse of the same text and window returns the same events', () => {
    const [fromMs, toMs] = [NOW - DAY, NOW + 8 * DAY];
    const first = parseIcs(FEED, fromMs, toMs, { zone: ZONE });
    expect(parseIcs(FEED, fromMs, toMs, { zone: ZONE })).toEqual(first);
  });
});

// Behaviours the straightforward expansion above already has and parseIcs lacked (each of these failed
// before drivers/ics/protocol.ts related overrides by UID, looked past the window for moved overrides,
// and gave ical.js the named zone of a TZID the file has no VTIMEZONE for).
const cal = (...events: string[][]) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//test//EN',
    ...events.flatMap((e) => ['BEGIN:VEVENT', ...e, 'END:VEVENT']),
    'END:VCALENDAR',
    '',
  ].join('\r\n');

describe('recurrence behaviours', () => {
  it("an override changes its own series only, not another series' occurrence at the same wall time", () => {
    const text = cal(
      [
        'UID:a',
        'SUMMARY:A',
        'DTSTART;TZID=Europe/Berlin:20260302T093000',
        'DTEND;TZID=Europe/Berlin:20260302T100000',
        'RRULE:FREQ=DAILY;COUNT=10',
      ],
      [
        'UID:a',
        'RECURRENCE-ID;TZID=Europe/Berlin:20260304T093000',
        'SUMMARY:A (late)',
        'DTSTART;TZID=Europe/Berlin:20260304T110000',
        'DTEND;TZID=Europe/Berlin:20260304T113000',
      ],
      [
        'UID:b',
        'SUMMARY:B',
        'DTSTART;TZID=Europe/London:20260302T093000',
        'DTEND;TZID=Europe/London:20260302T100000',
        'RRULE:FREQ=DAILY;COUNT=10',
      ],
    );
    expect(parsed(text, Date.UTC(2026, 2, 4), Date.UTC(2026, 2, 5))).toEqual([
      'b@2026-03-04T09:30:00.000Z 2026-03-04T09:30:00.000Z 2026-03-04T10:00:00.000Z B false',
      'a@2026-03-04T08:30:00.000Z 2026-03-04T10:00:00.000Z 2026-03-04T10:30:00.000Z A (late) false',
    ]);
  });

  it('an occurrence moved from after the window into it is returned', () => {
    const text = cal(
      ['UID:s', 'SUMMARY:Weekly', 'DTSTART:20260302T100000Z', 'DTEND:20260302T110000Z', 'RRULE:FREQ=WEEKLY;COUNT=10'],
      ['UID:s', 'RECURRENCE-ID:20260316T100000Z', 'SUMMARY:Weekly (early)', 'DTSTART:20260303T150000Z', 'DTEND:20260303T160000Z'],
    );
    expect(parsed(text, Date.UTC(2026, 2, 3), Date.UTC(2026, 2, 4))).toEqual([
      's@2026-03-16T10:00:00.000Z 2026-03-03T15:00:00.000Z 2026-03-03T16:00:00.000Z Weekly (early) false',
    ]);
  });

  it.each(['Russian Standard Time', 'Europe/Moscow'])(
    'UNTIL (UTC) that is the last occurrence is kept in a zone east of UTC the file has no VTIMEZONE for (%s)',
    (tzid) => {
      const text = cal([
        'UID:m',
        'SUMMARY:Moscow',
        `DTSTART;TZID=${tzid}:20260302T100000`,
        `DTEND;TZID=${tzid}:20260302T103000`,
        'RRULE:FREQ=WEEKLY;UNTIL=20260316T070000Z',
      ]);
      expect(parsed(text, Date.UTC(2026, 2, 1), Date.UTC(2026, 2, 30)).map((l) => l.split(' ')[1])).toEqual([
        '2026-03-02T07:00:00.000Z',
        '2026-03-09T07:00:00.000Z',
        '2026-03-16T07:00:00.000Z',
      ]);
    },
  );
});
