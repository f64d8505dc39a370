// ICS-over-HTTP conformance (issue 17): the rows of conformance.ts (a) against
// our simulator (IcsServer) over real HTTP, (b) against the driver inside a
// real agent, with a scripted HTTP server answering the rows.
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTable, type DriverCase, describeDriverConformance, online } from '../../test/support/conformance.js';
import { HttpPeer, type HttpRule, parseAnswer } from '../../test/support/conformance-http.js';
import { icsTable as T, knownDriverGaps, sampleCalendar } from './conformance.js';
import { IcsServer } from './simulator.js';

it('every row cites its source', () => checkTable(T));

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('ics: simulator against the RFCs', () => {
  const server = new IcsServer(sampleCalendar());
  afterAll(() => server.stop());

  it('200 text/calendar with ETag and Last-Modified; 304 on If-None-Match and If-Modified-Since; a failure status', async () => {
    const url = await server.start();
    const first = await get(url);
    const want = parseAnswer(T['calendar-200'].reply);
    expect(first.status).toBe(want.status);
    expect(first.headers['content-type']).toMatch(/^text\/calendar/);
    expect(first.headers.etag).toMatch(/^"[^"]+"$/);
    expect(first.headers['last-modified']).toMatch(/GMT$/);
    expect(first.body).toMatch(/^BEGIN:VCALENDAR\r\n[\s\S]*END:VCALENDAR\r\n$/);
    const again = await get(url, { 'if-none-match': first.headers.etag as string });
    expect(again.status).toBe(parseAnswer(T['not-modified-304'].reply).status);
    expect(again.body).toBe('');
    const since = await get(url, { 'if-modified-since': first.headers['last-modified'] as string });
    expect(since.status).toBe(304);
    server.failures.push(503);
    expect((await get(url)).status).toBe(parseAnswer(T['unavailable-503'].reply).status);
  });
});

const PATH = '/owa/calendar/room101/calendar.ics';
const rowRule = (row: keyof typeof T, o: Partial<HttpRule> = {}): HttpRule => {
  const a = parseAnswer(T[row].reply);
  return { when: (r) => r === `GET ${PATH}`, answer: { status: a.status, headers: a.headers, body: a.body }, ...o };
};
const peer = (rules: HttpRule[]) => () => new HttpPeer(rules).start();
const config = (p: { port: number }) => ({
  url: `http://127.0.0.1:${p.port}${PATH}`,
  time_zone: 'UTC',
  request_timeout_ms: 2000,
});
const events = (d: { state: Record<string, { value: unknown }> }) =>
  ((d.state.calendar?.value as { events?: unknown[] } | undefined)?.events ?? []).length;

const cases: DriverCase[] = [
  {
    id: 'calendar-read',
    rows: ['calendar-200'],
    peer: peer([rowRule('calendar-200')]),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(events(d)).toBe(1);
      expect(d.state.calendar_name?.value).toBe('Room 101');
    },
  },
  {
    id: 'revalidated-with-304',
    rows: ['calendar-200', 'not-modified-304'],
    peer: peer([
      { ...rowRule('not-modified-304'), when: (r, h) => r === `GET ${PATH}` && h['if-none-match'] === '"a1b2c3"' },
      rowRule('calendar-200'),
    ]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('refresh')).toMatchObject({ ok: true });
      const peerHeaders = (dev.peer as unknown as HttpPeer).headers;
      expect(peerHeaders.at(-1)?.['if-none-match']).toBe('"a1b2c3"');
      const d = await online(dev);
      expect(events(d)).toBe(1);
    },
  },
  {
    id: 'revoked-url-is-auth-failure',
    rows: ['unauthorized-401'],
    peer: peer([rowRule('unauthorized-401')]),
    config,
    run: async (dev) => {
      await dev.until((d) => d.status.status === 'auth_failure', 'auth_failure');
    },
  },
  {
    id: 'wrong-url-is-bad-config',
    rows: ['not-found-404'],
    peer: peer([rowRule('not-found-404')]),
    config,
    run: async (dev) => {
      await dev.until((d) => d.status.status === 'bad_config', 'bad_config');
    },
  },
  {
    // The server answered: reachable, not serving — `error`, not `offline` (that is silence), retried on the backoff.
    id: 'unavailable-first-read-is-error',
    rows: ['unavailable-503'],
    peer: peer([rowRule('unavailable-503')]),
    config,
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'error', 'error');
      expect(d.status.message).toContain('answered HTTP 503');
    },
  },
  {
    id: 'login-page-after-a-good-read-is-error-keeping-the-calendar',
    rows: ['calendar-200', 'login-page-200'],
    peer: peer([rowRule('calendar-200', { once: true }), rowRule('login-page-200')]),
    config,
    run: async (dev) => {
      await online(dev);
      await dev.action('refresh');
      const d = await dev.until((r) => r.status.status === 'error', 'error after the login page');
      expect(events(d)).toBe(1);
    },
  },
];

describeDriverConformance('ics', T, cases, knownDriverGaps);
