// iCalendar parsing (Outlook-style files: recurring series with EXDATE and
// RECURRENCE-ID overrides, Windows zone names, all-day events, cancelled
// occurrences) and the ics driver's polling (ETag / If-Modified-Since, files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createIcs, type IcsConfig } from '../drivers/ics/driver.js';
import { SAMPLE_ICS } from '../drivers/ics/index.js';
import { parseIcs } from '../drivers/ics/protocol.js';
import { IcsServer } from '../drivers/ics/simulator.js';
import type { CalendarSnapshot } from '../src/calendar/model.js';
import { resolveZone } from '../src/calendar/zone.js';
import type { DeviceInstance } from '../src/host/contract.js';
import { FakeClock } from '../src/util/clock.js';
import { ACTION_CTX, lastStatus, type Recorded, recordingContext, waitUntil } from './calendar-fixtures/helpers.js';

const OUTLOOK = fs.readFileSync(path.join(import.meta.dirname, 'calendar-fixtures', 'outlook-room.ics'), 'utf8');
const ZONE = 'Europe/Berlin';
const parse = (text: string, from: number, to: number, zone = ZONE) => parseIcs(text, from, to, { zone }).events;
const brief = (evs: { start: string; title: string }[]) => evs.map((e) => `${e.start} ${e.title}`);

describe('Outlook-style calendar', () => {
  it('expands the weekly series with EXDATE, a moved override and a cancelled occurrence', () => {
    const evs = parse(OUTLOOK, Date.UTC(2026, 2, 9), Date.UTC(2026, 2, 21)).filter((e) => e.source_id === 'series-1');
    expect(brief(evs)).toEqual([
      '2026-03-09T09:00:00.000Z Project sync',
      // 11 March: EXDATE
      '2026-03-13T13:00:00.000Z Project sync (moved)',
      // 16 March: cancelled override
      '2026-03-18T09:00:00.000Z Project sync',
      '2026-03-20T09:00:00.000Z Project sync',
    ]);
    const moved = evs[1];
    expect(moved).toMatchObject({
      id: 'series-1@2026-03-13T09:00:00.000Z',
      location: 'Room 102',
      end: '2026-03-13T14:00:00.000Z',
    });
    expect(evs[0]).toMatchObject({
      organizer: 'Anna Schmidt',
      join_url: 'https://tcs.example/c/project-sync',
      invitees: [
        { id: 'room101@example.com', name: 'Room 101' },
        { id: 'jonas@example.com', name: 'Jonas Weber' },
      ],
      all_day: false,
      state: null,
    });
  });

  it('keeps 10:00 Berlin wall clock across the DST change (Windows zone name)', () => {
    const evs = parse(OUTLOOK, Date.UTC(2026, 2, 27), Date.UTC(2026, 2, 31)).filter((e) => e.source_id === 'series-1');
    expect(evs.map((e) => e.start)).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T08:00:00.000Z']);
  });

  it('stops at UNTIL', () => {
    const evs = parse(OUTLOOK, Date.UTC(2026, 3, 10), Date.UTC(2026, 3, 30)).filter((e) => e.source_id === 'series-1');
    expect(evs.map((e) => e.start)).toEqual(['2026-04-10T08:00:00.000Z', '2026-04-13T08:00:00.000Z', '2026-04-15T08:00:00.000Z']);
  });

  it('Windows zone without VTIMEZONE, custom VTIMEZONE, all-day, UTC with Teams link, cancelled single', () => {
    const evs = parse(OUTLOOK, Date.UTC(2026, 2, 10), Date.UTC(2026, 2, 13));
    const by = (uid: string) => evs.find((e) => e.source_id === uid);
    expect(by('moscow-1')).toMatchObject({ start: '2026-03-10T12:00:00.000Z', end: '2026-03-10T12:30:00.000Z' });
    expect(by('custom-1')).toMatchObject({ start: '2026-03-10T07:00:00.000Z', end: '2026-03-10T08:00:00.000Z' });
    expect(by('allday-1')).toMatchObject({ all_day: true, start: '2026-03-09T23:00:00.000Z', end: '2026-03-10T23:00:00.000Z' });
    expect(by('teams-1')).toMatchObject({
      start: '2026-03-12T13:00:00.000Z',
      join_url: 'https://teams.microsoft.com/l/meetup-join/abc',
    });
    expect(by('cancel-1')).toBeUndefined();
  });

  it('all-day dates follow the configured zone', () => {
    const evs = parse(OUTLOOK, Date.UTC(2026, 2, 9), Date.UTC(2026, 2, 12), 'America/New_York');
    expect(evs.find((e) => e.source_id === 'allday-1')).toMatchObject({
      start: '2026-03-10T04:00:00.000Z',
      end: '2026-03-11T04:00:00.000Z',
    });
  });

  it('floating times use X-WR-TIMEZONE, else the configured zone', () => {
    const cal = (extra: string) =>
      `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n${extra}BEGIN:VEVENT\r\nUID:f\r\nSUMMARY:F\r\nDTSTART:20260701T100000\r\nDTEND:20260701T110000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
    const range = [Date.UTC(2026, 6, 1), Date.UTC(2026, 6, 2)] as const;
    expect(parse(cal('X-WR-TIMEZONE:Asia/Tokyo\r\n'), ...range)[0]?.start).toBe('2026-07-01T01:00:00.000Z');
    expect(parse(cal(''), ...range)[0]?.start).toBe('2026-07-01T08:00:00.000Z');
  });

  it('the shipped sample always has meetings today', () => {
    const text = fs.readFileSync(SAMPLE_ICS, 'utf8');
    const now = Date.now();
    const evs = parse(text, now - 12 * 3600_000, now + 12 * 3600_000);
    expect(evs.some((e) => e.title === 'Daily stand-up')).toBe(true);
  });

  it('rejects what is not iCalendar', () => {
    expect(() => parse('hello', 0, 1)).toThrow(/not a valid iCalendar file/);
    expect(() => parse('BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n', 0, 1)).toThrow(/not a valid iCalendar file/);
  });

  it('says why a text is not iCalendar without quoting it (a login page or junk from the server never reaches a status)', () => {
    const page =
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\n<html><a href="/owa/calendar/s3cr3t-feed/calendar.ics">Sign in</a>\u0000\u00ff</html>\r\n';
    let message = '';
    try {
      parse(page, 0, 1);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('not a valid iCalendar file: invalid line (no token ";" or ":") at line 3');
    expect(() => parse('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMM', 0, 1)).toThrow(
      /^not a valid iCalendar file: [ -~]+$/,
    );
  });
});

describe('Windows zone names', () => {
  it.each([
    ['W. Europe Standard Time', 'Europe/Berlin'],
    ['Russian Standard Time', 'Europe/Moscow'],
    ['Eastern Standard Time', 'America/New_York'],
    ['GMT Standard Time', 'Europe/London'],
    ['"Pacific Standard Time"', 'America/Los_Angeles'],
    ['Europe/Paris', 'Europe/Paris'],
    ['/Europe/Paris', 'Europe/Paris'],
    ['UTC', 'UTC'],
    ['Customized Time Zone', null],
  ])('%s → %s', (tzid, want) => expect(resolveZone(tzid)).toBe(want));
});

describe('property tests', () => {
  const range = [Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 20)] as const;
  const expected = JSON.stringify(parse(OUTLOOK, ...range));
  const lines = OUTLOOK.split('\r\n');

  it('a file re-folded at random points (RFC 5545 line folding) parses the same', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: lines.length, maxLength: lines.length }), (cuts) => {
        const folded = lines
          .map((l, i) => {
            const at = l.length > 1 ? 1 + ((cuts[i] ?? 0) % (l.length - 1)) : 0;
            return at ? `${l.slice(0, at)}\r\n ${l.slice(at)}` : l;
          })
          .join('\r\n');
        expect(JSON.stringify(parse(folded, ...range))).toBe(expected);
      }),
      { numRuns: 25 },
    );
  });

  it('random or damaged input never throws anything but an Error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.tuple(fc.nat(OUTLOOK.length), fc.nat(200)).map(([at, n]) => OUTLOOK.slice(0, at) + OUTLOOK.slice(at + n)),
        ),
        (text) => {
          try {
            parse(text, ...range);
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

// ---------------------------------------------------------------- driver

let server: IcsServer | null = null;
let inst: DeviceInstance | null = null;
let tmp: string | null = null;
afterEach(async () => {
  await inst?.stop();
  inst = null;
  await server?.stop();
  server = null;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

const NOW = Date.UTC(2026, 2, 12, 8);

async function startDriver(
  url: string,
  over: Partial<IcsConfig> = {},
): Promise<{ rec: Recorded; clock: FakeClock; inst: DeviceInstance }> {
  const clock = new FakeClock(NOW);
  const rec = recordingContext(clock, 'outlook');
  inst = createIcs(
    { url, poll_interval_s: 300, request_timeout_ms: 2000, days_ahead: 7, time_zone: ZONE, max_bytes: 1 << 20, ...over },
    rec.ctx,
  );
  await inst.start();
  return { rec, clock, inst };
}
const snap = (r: Recorded) => r.state.calendar as CalendarSnapshot | undefined;

describe('ics driver', () => {
  it('polls with ETag and If-Modified-Since; 304 keeps the copy; a change is picked up', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, clock } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(snap(rec)?.events.map((e) => e.source_id)).toContain('teams-1');
    expect(server.lastConditional).toEqual({ ifNoneMatch: null, ifModifiedSince: null });
    clock.advance(300_000);
    await waitUntil(() => server?.requests === 2 && /^unchanged: /.test(lastStatus(rec)?.message ?? ''), 'second poll');
    expect(server.lastConditional.ifNoneMatch).toMatch(/^".+"$/);
    expect(server.lastConditional.ifModifiedSince).toMatch(/GMT$/);
    expect(server.notModified).toBe(1);
    expect(lastStatus(rec)?.message).toMatch(/^unchanged: /);
    server.setBody(OUTLOOK.replace('SUMMARY:Vendor demo', 'SUMMARY:Vendor demo (new room)'), new Date(Date.now() + 5000));
    clock.advance(300_000);
    await waitUntil(() => snap(rec)?.events.some((e) => e.title === 'Vendor demo (new room)') === true, 'changed calendar');
    // The published URL's path is a secret: only the host appears.
    expect(rec.everything()).not.toContain('/owa/calendar/room101');
  });

  it('HTTP errors on the first read: error with the reason (answered, not offline), backoff, recovery', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    server.failures.push(503);
    const { rec, clock } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'error', 'error');
    // The host's lifecycle: the first read is the handshake; the retry follows its backoff.
    expect(lastStatus(rec)?.message).toMatch(/answered HTTP 503; next attempt in [\d.]+ m?s$/);
    clock.advance(2500);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'recovered');
  });

  it('HTTP 503 after it was online is an answered error: status error, the snapshot stays, online at the next good read', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, inst } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const good = snap(rec);
    server.failures.push(503);
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)).toMatchObject({ status: 'error', message: expect.stringMatching(/answered HTTP 503$/) });
    expect(rec.statuses.map((x) => x.status)).not.toContain('offline');
    expect(snap(rec)).toBe(good);
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.status).toBe('online');
  });

  it('a broken file is status error; the last good snapshot stays', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, inst } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const good = snap(rec);
    server.setBody('<html>login required</html>', new Date(Date.now() + 5000));
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.status).toBe('error');
    expect(lastStatus(rec)?.message).toMatch(/not a valid iCalendar/);
    expect(snap(rec)).toBe(good);
  });

  // Issue 19 item 10 (RFC 9111 §3.3): validators are kept only together with a body that parsed.
  it("after a malformed 200 the next poll sends the last good validators, not the rejected answer's", async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, inst } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const goodEtag = server.etag;
    const good = snap(rec);
    server.rogueAnswers.push({
      body: '<html>login required</html>',
      etag: '"login-page"',
      lastModified: 'Mon, 01 Jan 2035 00:00:00 GMT',
    });
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.status).toBe('error');
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(server.lastConditional.ifNoneMatch).toBe(goodEtag);
    expect(server.lastConditional.ifModifiedSince).not.toBe('Mon, 01 Jan 2035 00:00:00 GMT');
    expect(lastStatus(rec)).toMatchObject({ status: 'online' });
    expect(lastStatus(rec)?.message).toMatch(/^unchanged: /);
    expect(snap(rec)?.events).toEqual(good?.events);
  });

  it('a cut-off body carrying the good ETag is never revived by the next 304', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, inst } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const good = snap(rec);
    server.rogueAnswers.push({ body: OUTLOOK.slice(0, Math.floor(OUTLOOK.length / 2)) });
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.status).toBe('error');
    expect(snap(rec)).toBe(good);
    // The server still has the good calendar under that ETag: 304, and the good copy is what is parsed.
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(server.notModified).toBe(1);
    expect(lastStatus(rec)).toMatchObject({ status: 'online' });
    expect(snap(rec)?.events).toEqual(good?.events);
    // list_events on a 304 reads the good copy too.
    const r = (await inst.actions.list_events?.run(
      { from: '2026-04-13T00:00:00Z', to: '2026-04-14T00:00:00Z' },
      ACTION_CTX(),
    )) as {
      events: { start: string }[];
    };
    expect(r.events.map((e) => e.start)).toEqual(['2026-04-13T08:00:00.000Z']);
  });

  it('a cut-off first download is not kept: the next poll asks unconditionally', async () => {
    server = new IcsServer(OUTLOOK);
    server.rogueAnswers.push({ body: OUTLOOK.slice(0, 1000) });
    const url = await server.start();
    const { rec, clock } = await startDriver(url);
    // The first read is the lifecycle's handshake: an unreadable calendar fails it (error, retried with backoff).
    await waitUntil(() => lastStatus(rec)?.status === 'error', 'error');
    expect(lastStatus(rec)?.message).toMatch(/not a valid iCalendar/);
    clock.advance(2500);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online after the retry');
    expect(server.lastConditional).toEqual({ ifNoneMatch: null, ifModifiedSince: null });
    expect(lastStatus(rec)).toMatchObject({ status: 'online' });
    expect(lastStatus(rec)?.message).toMatch(/^read: /);
  });

  it('a mistyped scheme is refused without showing the secret path (issue 16 finding 5 audit)', () => {
    const clock = new FakeClock(NOW);
    const rec = recordingContext(clock, 'outlook');
    const url = 'htps://outlook.office365.com/owa/calendar/Zq81SecretPath/calendar.ics';
    expect(() =>
      createIcs(
        { url, poll_interval_s: 300, request_timeout_ms: 2000, days_ahead: 7, time_zone: ZONE, max_bytes: 1 << 20 },
        rec.ctx,
      ),
    ).toThrow(/^url: unsupported scheme "htps:"/);
    try {
      createIcs(
        { url, poll_interval_s: 300, request_timeout_ms: 2000, days_ahead: 7, time_zone: ZONE, max_bytes: 1 << 20 },
        rec.ctx,
      );
    } catch (e) {
      expect((e as Error).message).not.toContain('Secret');
    }
  });

  it('reads a local file and re-reads it only when it changes', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cal-ics-'));
    const file = path.join(tmp, 'room.ics');
    fs.writeFileSync(file, OUTLOOK);
    const { rec, inst } = await startDriver(file);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(lastStatus(rec)?.message).toMatch(/^read: /);
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.message).toMatch(/^unchanged: /);
    fs.writeFileSync(file, OUTLOOK.replace('SUMMARY:Vendor demo', 'SUMMARY:Vendor demo 2'));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(snap(rec)?.events.some((e) => e.title === 'Vendor demo 2')).toBe(true);
    fs.rmSync(file);
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)).toMatchObject({ status: 'offline' });
    expect(lastStatus(rec)?.message).toContain('ENOENT');
  });

  it('reads the calendar only once the agent is ready (the first parse does not delay ready)', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cal-ics-'));
    const file = path.join(tmp, 'room.ics');
    fs.writeFileSync(file, OUTLOOK);
    const rec = recordingContext(new FakeClock(NOW), 'outlook');
    let markReady!: () => void;
    const ready = new Promise<void>((r) => {
      markReady = r;
    });
    inst = createIcs(
      { url: file, poll_interval_s: 300, request_timeout_ms: 2000, days_ahead: 7, time_zone: ZONE, max_bytes: 1 << 20 },
      { ...rec.ctx, agentReady: ready },
    );
    await inst.start();
    // Our own read and parse of the same file after start(), then half a second: a first read the
    // driver had begun in start() would have published its snapshot by then.
    parse(await fs.promises.readFile(file, 'utf8'), NOW, NOW + 7 * 86_400_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(snap(rec)).toBeUndefined();
    expect(rec.statuses).toEqual([]);
    markReady();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online after ready', 10_000);
    expect(snap(rec)?.events.map((e) => e.source_id)).toContain('teams-1');
  });

  it('list_events reads any range on demand', async () => {
    server = new IcsServer(OUTLOOK);
    const url = await server.start();
    const { rec, inst } = await startDriver(url);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const r = (await inst.actions.list_events?.run(
      { from: '2026-04-13T00:00:00Z', to: '2026-04-14T00:00:00Z' },
      ACTION_CTX(),
    )) as {
      events: { start: string }[];
    };
    expect(r.events.map((e) => e.start)).toEqual(['2026-04-13T08:00:00.000Z']);
  });
});
