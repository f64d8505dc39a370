// The HTTP fault matrix (test/support/fault-matrix-http.ts) for an iCalendar
// URL (an Outlook published calendar): the peer forwards to the ICS server
// (drivers/ics/simulator.ts, ETag / Last-Modified as Exchange sends them).
import type { CalendarSnapshot } from '../src/calendar/model.js';
import { icsDriver } from '../drivers/ics/index.js';
import { IcsServer } from '../drivers/ics/simulator.js';
import { describeHttpFaultMatrix } from './support/fault-matrix-http.js';

/** A published calendar's URL carries its secret in the path. */
const FEED_SECRET = 'f3c9a1e07b2d4c6e8a9b0c1d2e3f4a5b';

function event(uid: string, title: string, hour: number): string {
  const at = (h: number) => `20260101T${String(h).padStart(2, '0')}0000Z`;
  return `BEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20251220T000000Z\r\nDTSTART:${at(hour)}\r\nDTEND:${at(hour + 1)}\r\nSUMMARY:${title}\r\nEND:VEVENT\r\n`;
}
const calendar = (...events: string[]) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nX-WR-CALNAME:Room 101\r\n${events.join('')}END:VCALENDAR\r\n`;

const titles = (state: Record<string, unknown>) =>
  ((state.calendar as CalendarSnapshot | undefined)?.events ?? []).map((e) => e.title);

describeHttpFaultMatrix('ics (URL)', {
  driver: icsDriver,
  async device() {
    const server = new IcsServer(calendar(event('m1', 'Morning sync', 10)));
    const url = new URL(await server.start());
    return Object.assign(server, { host: '127.0.0.1', port: Number(url.port) });
  },
  config: (port) => ({
    url: `http://127.0.0.1:${port}/owa/calendar/${FEED_SECRET}/calendar.ics`,
    poll_interval_s: 5,
    request_timeout_ms: 1000,
    time_zone: 'UTC',
  }),
  pollIntervalMs: 5000,
  requestTimeoutMs: 1000,
  requestsPerAttempt: 1,
  requestsPerPoll: 1,
  action: { name: 'list_events', params: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } },
  garbage: { contentType: 'text/html; charset=utf-8', body: '<html><body>Sign in to Outlook\u0000\u00ff</body></html>' },
  reasons: {
    error: /answered HTTP 503/,
    garbage: /not a valid iCalendar/,
    truncated: /not a valid iCalendar/,
  },
  secrets: () => [FEED_SECRET],
  ready: (state) => titles(state).includes('Morning sync'),
  change: {
    make: (server) => server.setBody(calendar(event('m1', 'Morning sync', 10), event('m2', 'Added while away', 14))),
    seen: (state) => titles(state).includes('Added while away'),
  },
});
