// A busy room's published calendar as Outlook / Exchange writes one, for the
// expansion tests and the ics-refresh bench: a VTIMEZONE whose rules start in
// 1601, long-running series (a 3-year daily stand-up, weekly, fortnightly,
// monthly, COUNT-bounded, an every-day weekly series with no end), EXDATEs,
// RECURRENCE-ID overrides that move an occurrence within its day, into
// another week or out of the series' span, cancelled overrides, and 50
// single meetings in Windows, IANA, VTIMEZONE-only, UTC and floating times.
// Deterministic: the same `now` gives the same text.

import { fromWallClock, type WallClock } from '../../src/calendar/zone.js';

const WEST = 'W. Europe Standard Time';
const CUSTOM = 'Customized Time Zone';

const VTIMEZONES = [
  'BEGIN:VTIMEZONE',
  `TZID:${WEST}`,
  'BEGIN:STANDARD',
  'DTSTART:16010101T030000',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:16010101T020000',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
  // Outlook's name for a zone it has no Windows name for: only its VTIMEZONE says what it is
  // (here a southern-hemisphere zone with daylight saving from October to April).
  'BEGIN:VTIMEZONE',
  `TZID:${CUSTOM}`,
  'BEGIN:STANDARD',
  'DTSTART:16010101T030000',
  'TZOFFSETFROM:+1100',
  'TZOFFSETTO:+1000',
  'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=4',
  'END:STANDARD',
  'BEGIN:DAYLIGHT',
  'DTSTART:16010101T020000',
  'TZOFFSETFROM:+1000',
  'TZOFFSETTO:+1100',
  'RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=10',
  'END:DAYLIGHT',
  'END:VTIMEZONE',
];

/** yyyymmdd of the UTC day `days` after `base`. */
function day(base: number, days: number): string {
  return new Date(base + days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
}

function wall(base: number, days: number, hour: number, minute: number): WallClock {
  const t = new Date(base + days * 86_400_000);
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate(), hour, minute, second: 0 };
}

function vevent(lines: string[]): string[] {
  return ['BEGIN:VEVENT', ...lines, 'END:VEVENT'];
}

/**
 * The feed's text. Series start about two years before `now` (on a Monday) and the bounded ones end
 * about a year after it, so any window near `now` falls inside them.
 */
export function realisticRoomFeed(now: number): string {
  const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  const back = today - 730 * 86_400_000;
  const monday = back - ((new Date(back).getUTCDay() + 6) % 7) * 86_400_000;
  const d = (n: number) => day(monday, n);
  const tz = (n: number, hhmm: string, zone = WEST) => `;TZID=${zone}:${d(n)}T${hhmm}00`;
  const stamp = `DTSTAMP:${d(0)}T080000Z`;
  const out = ['BEGIN:VCALENDAR', 'METHOD:PUBLISH', 'PRODID:Microsoft Exchange Server 2010', 'VERSION:2.0'];
  out.push('X-WR-CALNAME:Room 204', ...VTIMEZONES);
  const people = [
    'ORGANIZER;CN=Anna Schmidt:mailto:anna.schmidt@example.com',
    'ATTENDEE;CN=Room 204;CUTYPE=RESOURCE;RSVP=TRUE:mailto:room204@example.com',
    'ATTENDEE;CN=Jonas Weber;RSVP=TRUE:mailto:jonas.weber@example.com',
  ];

  // A 3-year daily stand-up (UNTIL in UTC, as RFC 5545 §3.3.10 requires with a TZID), holidays excluded.
  const holidays = [357, 358, 364, 366, 722, 723, 729, 736].map((n) => `${d(n)}T093000`).join(',');
  out.push(
    ...vevent([
      `UID:standup-3y`,
      'SUMMARY:Daily stand-up',
      `DTSTART${tz(0, '0930')}`,
      `DTEND${tz(0, '0945')}`,
      `RRULE:FREQ=DAILY;UNTIL=${d(1095)}T083000Z`,
      `EXDATE;TZID=${WEST}:${holidays}`,
      stamp,
      ...people,
      'DESCRIPTION:Join: https://teams.microsoft.com/l/meetup-join/standup',
      'LOCATION:Room 204',
    ]),
  );
  // Overrides of the stand-up: one every 10 days moved within its day, one moved a week later
  // (out of its own week, into the next), one moved to before the series, cancelled ones.
  for (let n = 5; n < 1095; n += 10) {
    out.push(
      ...vevent([
        'UID:standup-3y',
        `RECURRENCE-ID${tz(n, '0930')}`,
        `DTSTART${tz(n, '1100')}`,
        `DTEND${tz(n, '1115')}`,
        'SUMMARY:Daily stand-up (late)',
        stamp,
      ]),
    );
  }
  for (const [from, to] of [
    [731, 738],
    [733, 726],
    [740, -3],
  ] as const) {
    out.push(
      ...vevent([
        'UID:standup-3y',
        `RECURRENCE-ID${tz(from, '0930')}`,
        `DTSTART${tz(to, '1600')}`,
        `DTEND${tz(to, '1630')}`,
        'SUMMARY:Daily stand-up (moved)',
        stamp,
      ]),
    );
  }
  // Some servers write an override's RECURRENCE-ID in UTC although the series has a TZID: this one
  // moves a stand-up two days earlier.
  const utcId = new Date(fromWallClock(wall(monday, 747, 9, 30), 'Europe/Berlin')).toISOString().replace(/[-:]|\.\d+/g, '');
  out.push(
    ...vevent([
      'UID:standup-3y',
      `RECURRENCE-ID:${utcId}`,
      `DTSTART${tz(745, '1630')}`,
      `DTEND${tz(745, '1700')}`,
      'SUMMARY:Daily stand-up (moved, UTC id)',
      stamp,
    ]),
  );
  for (let n = 3; n < 1095; n += 17) {
    if (n % 10 === 5) continue; // already overridden above
    out.push(
      ...vevent([
        'UID:standup-3y',
        `RECURRENCE-ID${tz(n, '0930')}`,
        `DTSTART${tz(n, '0930')}`,
        `DTEND${tz(n, '0945')}`,
        n % 2 ? 'STATUS:CANCELLED' : 'X-MICROSOFT-CDO-BUSYSTATUS:FREE',
        n % 2 ? 'SUMMARY:Daily stand-up' : 'SUMMARY:Canceled: Daily stand-up',
        stamp,
      ]),
    );
  }

  // Another series at the stand-up's wall time, in another zone: the stand-up's overrides are not its own.
  out.push(
    ...vevent([
      'UID:london-checkin',
      'SUMMARY:London check-in',
      `DTSTART${tz(0, '0930', 'GMT Standard Time')}`,
      `DTEND${tz(0, '0940', 'GMT Standard Time')}`,
      `RRULE:FREQ=DAILY;INTERVAL=1;UNTIL=${d(1000)}T235959Z`,
      stamp,
    ]),
  );
  // The room's own booking series: every day of the week, no end (Outlook writes WEEKLY with all days).
  out.push(
    ...vevent([
      'UID:booking-open',
      'SUMMARY:Room booking: project work',
      `DTSTART${tz(0, '1400')}`,
      `DTEND${tz(0, '1500')}`,
      'RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;INTERVAL=1',
      stamp,
    ]),
  );
  // Fortnightly on Tuesday and Thursday (INTERVAL phase from DTSTART's week), with a week start of Sunday.
  out.push(
    ...vevent([
      'UID:fortnightly',
      'SUMMARY:Architecture review',
      `DTSTART${tz(8, '1300')}`,
      `DTEND${tz(8, '1430')}`,
      `RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU;UNTIL=${d(1100)}T220000Z`,
      stamp,
    ]),
  );
  // Monthly on the first Monday, and on the last working day.
  out.push(
    ...vevent([
      'UID:monthly-1mo',
      'SUMMARY:Town hall',
      `DTSTART${tz(0, '1600')}`,
      `DTEND${tz(0, '1700')}`,
      'RRULE:FREQ=MONTHLY;BYDAY=1MO',
      stamp,
    ]),
    ...vevent([
      'UID:monthly-last',
      'SUMMARY:Month close',
      `DTSTART${tz(25, '1700')}`,
      `DTEND${tz(25, '1800')}`,
      'RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1',
      stamp,
    ]),
  );
  // COUNT-bounded weekly series, one of them ending right around now.
  out.push(
    ...vevent([
      'UID:count-weekly',
      'SUMMARY:Training course',
      `DTSTART${tz(2, '1000')}`,
      `DTEND${tz(2, '1200')}`,
      'RRULE:FREQ=WEEKLY;COUNT=106',
      stamp,
    ]),
  );
  // A series in a zone with only its VTIMEZONE, and one in a Windows zone the file has no VTIMEZONE for.
  out.push(
    ...vevent([
      'UID:custom-weekly',
      'SUMMARY:Sydney office sync',
      `DTSTART${tz(1, '0800', CUSTOM)}`,
      `DTEND${tz(1, '0830', CUSTOM)}`,
      'RRULE:FREQ=WEEKLY;BYDAY=TU,TH',
      stamp,
    ]),
    ...vevent([
      'UID:moscow-weekly',
      'SUMMARY:Moscow office sync',
      `DTSTART${tz(3, '1000', 'Russian Standard Time')}`,
      `DTEND${tz(3, '1030', 'Russian Standard Time')}`,
      `RRULE:FREQ=WEEKLY;UNTIL=${d(3 + 7 * 104)}T235959Z`,
      stamp,
    ]),
  );
  // Every night at 02:30 Berlin time: on the last Sunday of March that wall time does not exist.
  out.push(
    ...vevent([
      'UID:nightly-gap',
      'SUMMARY:Display power cycle',
      `DTSTART${tz(0, '0230')}`,
      `DTEND${tz(0, '0245')}`,
      'RRULE:FREQ=DAILY',
      'TRANSP:TRANSPARENT',
      stamp,
    ]),
  );
  // A daily all-day series and a yearly one.
  out.push(
    ...vevent([
      'UID:allday-open',
      'SUMMARY:Room open for walk-in bookings',
      `DTSTART;VALUE=DATE:${d(0)}`,
      `DTEND;VALUE=DATE:${d(1)}`,
      'RRULE:FREQ=DAILY',
      'X-MICROSOFT-CDO-ALLDAYEVENT:TRUE',
      'TRANSP:TRANSPARENT',
      stamp,
    ]),
    ...vevent([
      'UID:yearly',
      'SUMMARY:Fire drill',
      `DTSTART${tz(45, '1100')}`,
      `DTEND${tz(45, '1130')}`,
      'RRULE:FREQ=YEARLY',
      stamp,
    ]),
  );

  // 50 single meetings around now, in every kind of time the file format allows.
  const zones = [WEST, 'Europe/London', 'Eastern Standard Time', CUSTOM, 'UTC', 'floating'];
  for (let k = 0; k < 50; k++) {
    const n = 700 + k * 2;
    const zone = zones[k % zones.length] as string;
    const hh = String(8 + (k % 9)).padStart(2, '0');
    const when =
      zone === 'UTC'
        ? [`DTSTART:${d(n)}T${hh}0000Z`, `DTEND:${d(n)}T${hh}4500Z`]
        : zone === 'floating'
          ? [`DTSTART:${d(n)}T${hh}0000`, `DTEND:${d(n)}T${hh}4500`]
          : [`DTSTART${tz(n, `${hh}00`, zone)}`, `DTEND${tz(n, `${hh}45`, zone)}`];
    const allDay = k % 10 === 9 ? [`DTSTART;VALUE=DATE:${d(n)}`, `DTEND;VALUE=DATE:${d(n + 2)}`] : when;
    out.push(
      ...vevent([
        `UID:single-${k}`,
        k % 7 === 6 ? `SUMMARY:Canceled: Customer meeting ${k}` : `SUMMARY:Customer meeting ${k}`,
        ...allDay,
        stamp,
        people[0] as string,
        k % 3 === 0 ? 'X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/single' : 'LOCATION:Room 204',
      ]),
    );
  }
  out.push('END:VCALENDAR', '');
  return out.join('\r\n');
}
