// Conformance table for a published iCalendar over HTTP (Outlook / Exchange
// "publish calendar" URLs and any .ics URL), written from the HTTP and
// iCalendar RFCs only (never from our driver or simulator). Rows are HTTP
// answers: "<status>\n<header>: <value>…\n\n<body>".
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const RFC9110 = 'RFC 9110 HTTP Semantics';
const RFC5545 = 'RFC 5545 iCalendar';

/** A one-event calendar for today (UTC), as Exchange publishes it (CRLF lines). */
export function sampleCalendar(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:Microsoft Exchange Server 2010',
    'X-WR-CALNAME:Room 101',
    'BEGIN:VEVENT',
    'UID:040000008200E00074C5B7101A82E008-conformance',
    'SUMMARY:Weekly sync',
    `DTSTART:${day}T090000Z`,
    `DTEND:${day}T100000Z`,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

const answer = (status: number, headers: Record<string, string>, body = '') =>
  `${status}\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n\n${body}`;

export const icsTable = {
  'calendar-200': {
    id: 'calendar-200',
    kind: 'reply',
    cite: `${RFC5545} §3.4 (a calendar object is BEGIN:VCALENDAR … END:VCALENDAR, CRLF lines) and §8.1 (media type text/calendar); ${RFC9110} §8.8.3 ETag, §8.8.2 Last-Modified`,
    send: 'GET /owa/calendar/room101/calendar.ics',
    reply: answer(
      200,
      { 'content-type': 'text/calendar; charset=utf-8', etag: '"a1b2c3"', 'last-modified': 'Sun, 06 Dec 2026 08:00:00 GMT' },
      sampleCalendar(),
    ),
  },
  'not-modified-304': {
    id: 'not-modified-304',
    kind: 'reply',
    cite: `${RFC9110} §13.1.2 If-None-Match and §15.4.5 304 Not Modified (no body; the stored copy is still good)`,
    send: 'GET /owa/calendar/room101/calendar.ics (If-None-Match: "a1b2c3")',
    reply: answer(304, { etag: '"a1b2c3"' }),
  },
  'unauthorized-401': {
    id: 'unauthorized-401',
    kind: 'error',
    cite: `${RFC9110} §15.5.2 401 Unauthorized (the publish URL was revoked or needs credentials)`,
    send: 'GET /owa/calendar/room101/calendar.ics',
    reply: answer(401, { 'content-type': 'text/plain' }, 'Unauthorized'),
  },
  'not-found-404': {
    id: 'not-found-404',
    kind: 'error',
    cite: `${RFC9110} §15.5.5 404 Not Found (a wrong or unpublished URL)`,
    send: 'GET /owa/calendar/room101/calendar.ics',
    reply: answer(404, { 'content-type': 'text/plain' }, 'Not Found'),
  },
  'unavailable-503': {
    id: 'unavailable-503',
    kind: 'error',
    cite: `${RFC9110} §15.6.4 503 Service Unavailable (temporary)`,
    send: 'GET /owa/calendar/room101/calendar.ics',
    reply: answer(503, { 'content-type': 'text/plain', 'retry-after': '120' }, 'Service Unavailable'),
  },
  'login-page-200': {
    id: 'login-page-200',
    kind: 'error',
    cite: `${RFC5545} §3.4: a body that is not a VCALENDAR object is not a calendar (a proxy's or portal's login page answered 200 text/html)`,
    send: 'GET /owa/calendar/room101/calendar.ics',
    reply: answer(200, { 'content-type': 'text/html; charset=utf-8' }, '<html><body><form>Sign in</form></body></html>'),
  },
} satisfies ConformanceTable;

/** Driver cases failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
