// The calendar service in a real agent: TrueConf emulator + an iCalendar file
// as sources, merging, the WS and HTTP API, meeting events on a fake clock,
// the stored copy after a restart with every source unreachable, and no
// secret in any log line or answer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EmulatorConference, TcsEmulator } from '../drivers/tcs/simulator.js';
import { Agent } from '../src/app.js';
import type { CalendarList, CalendarService, MeetingEvent } from '../src/calendar/index.js';
import type { RoomEvent } from '../src/state/bus.js';
import { FakeClock } from '../src/util/clock.js';
import { RpcTestClient, TOKENS, TOKENS_TOML } from './support/agent.js';
import { captureLogger, waitUntil } from './calendar-fixtures/helpers.js';

const PASSWORD = 'tcs-Secret-Passw0rd';
const T = (hhmm: string) => Date.parse(`2026-03-18T${hhmm}:00Z`); // Wednesday
const NOW = T('07:00');

const ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:Microsoft Exchange Server 2010',
  'BEGIN:VEVENT',
  'UID:ics-ps',
  'SUMMARY:Project sync',
  'DTSTART;TZID=W. Europe Standard Time:20260318T100000',
  'DTEND;TZID=W. Europe Standard Time:20260318T110000',
  'DESCRIPTION:Join: https://tcs.example/c/project-sync',
  'LOCATION:Room 101',
  'ATTENDEE;CN=Jonas Weber:mailto:jonas@example.com',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:ics-budget',
  'SUMMARY:Budget Review',
  'DTSTART;TZID=W. Europe Standard Time:20260318T130000',
  'DTEND;TZID=W. Europe Standard Time:20260318T140000',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:ics-walkin',
  'SUMMARY:Walk-in booking',
  'DTSTART;TZID=W. Europe Standard Time:20260318T150000',
  'DTEND;TZID=W. Europe Standard Time:20260318T160000',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:ics-retro',
  'SUMMARY:Weekly retro',
  'DTSTART;TZID=W. Europe Standard Time:20260304T170000',
  'DTEND;TZID=W. Europe Standard Time:20260304T173000',
  'RRULE:FREQ=WEEKLY;BYDAY=WE',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:ics-allday',
  'SUMMARY:Open house',
  'DTSTART;VALUE=DATE:20260318',
  'DTEND;VALUE=DATE:20260319',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const CONFS: EmulatorConference[] = [
  {
    id: 'ps',
    topic: 'Project sync (online)',
    owner: 'room101@tcs.example',
    schedule: { type: 1, start_time: T('09:00') / 1000, duration: 3600 },
    url: 'https://TCS.example/c/project-sync/',
    state: 'stopped',
    invitations: [{ id: 'ivanov@tcs.example', display_name: 'Ivanov' }],
  },
  {
    id: 'budget',
    topic: 'budget  review',
    owner: 'room101@tcs.example',
    schedule: { type: 1, start_time: T('12:00') / 1000, duration: 3600 },
    url: 'https://tcs.example/c/budget',
    state: 'stopped',
  },
  {
    id: 'online-only',
    topic: 'Online only',
    owner: 'room101',
    schedule: { type: 1, start_time: T('16:30') / 1000, duration: 1800 },
    url: 'https://tcs.example/c/online-only',
    state: 'stopped',
  },
  { id: 'vroom', topic: 'Always-on room', owner: 'room101', schedule: { type: -1 }, state: 'running' },
];

interface Running {
  agent: Agent;
  url: string;
  logs: string[];
  events: RoomEvent[];
  clients: RpcTestClient[];
  connect(token?: string): Promise<RpcTestClient>;
  svc(): CalendarService;
}

let dir = '';
let emu: TcsEmulator | null = null;
let icsFile = '';
const running: Running[] = [];
const answers: string[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cal-svc-'));
  icsFile = path.join(dir, 'room.ics');
  fs.writeFileSync(icsFile, ICS);
  emu = new TcsEmulator({ users: { room101: PASSWORD } });
  await emu.start();
  emu.conferences = structuredClone(CONFS);
  answers.length = 0;
});

afterEach(async () => {
  for (const r of running.splice(0)) {
    for (const c of r.clients) c.close();
    await r.agent.stop();
  }
  await emu?.stop();
  emu = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startAgent(clock: FakeClock, emuUrl: string, extra = ''): Promise<Running> {
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "cal-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\ntimezone = "Europe/Berlin"\n\n${TOKENS_TOML}\n` +
      `[devices.tcs]\ndriver = "tcs"\nconnectionString = "server=${emuUrl}; user=room101; password=\${TCS_PASSWORD}"\n` +
      `time_zone = "Europe/Berlin"\nrequest_timeout_ms = 1000\n\n` +
      `[devices.outlook]\ndriver = "ics"\nurl = "${icsFile}"\ntime_zone = "Europe/Berlin"\n\n` +
      `[calendar]\nsources = ["tcs", "outlook"]\nupcoming_minutes = 10\n${extra}`,
  );
  const logs: string[] = [];
  const agent = new Agent({ configFile: file, logger: captureLogger(logs), clock, env: { TCS_PASSWORD: PASSWORD } });
  const events: RoomEvent[] = [];
  agent.events.on((e) => events.push(e));
  const url = await agent.start();
  const r: Running = {
    agent,
    url,
    logs,
    events,
    clients: [],
    async connect(token = TOKENS.viewer) {
      const c = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`);
      r.clients.push(c);
      return c;
    },
    svc: () => agent.ctx.feature<CalendarService>('calendar') as CalendarService,
  };
  running.push(r);
  return r;
}

async function call<T>(c: RpcTestClient, method: string, params?: unknown): Promise<T> {
  const res = await c.call<T>(method, params);
  answers.push(JSON.stringify(res));
  return res;
}

const synced = (r: Running) =>
  waitUntil(
    () =>
      r
        .svc()
        .freshness()
        .sources.every((s) => !s.stale),
    'both sources synced',
    10_000,
  );

describe('calendar service', () => {
  it('merges the sources: same link, or same start and title, shows once with both sources', async () => {
    const r = await startAgent(new FakeClock(NOW), emu?.url ?? '');
    await synced(r);
    const c = await r.connect();
    const day = await call<CalendarList>(c, 'calendar.list');
    expect(day.from).toBe('2026-03-17T23:00:00.000Z'); // today in Europe/Berlin
    expect(day.to).toBe('2026-03-18T23:00:00.000Z');
    expect(day.stale).toBe(false);
    expect(day.time_zone).toBe('Europe/Berlin');
    expect(day.meetings.map((m) => [m.start, m.title, m.sources.map((s) => s.source).join('+')])).toEqual([
      ['2026-03-17T23:00:00.000Z', 'Open house', 'outlook'],
      ['2026-03-18T09:00:00.000Z', 'Project sync (online)', 'tcs+outlook'],
      ['2026-03-18T12:00:00.000Z', 'budget  review', 'tcs+outlook'],
      ['2026-03-18T14:00:00.000Z', 'Walk-in booking', 'outlook'],
      ['2026-03-18T16:00:00.000Z', 'Weekly retro', 'outlook'],
      ['2026-03-18T16:30:00.000Z', 'Online only', 'tcs'],
    ]);
    const ps = day.meetings[1];
    expect(ps).toMatchObject({
      id: 'tcs:ps',
      location: 'Room 101',
      join_url: 'https://TCS.example/c/project-sync/',
      state: 'stopped',
    });
    expect(ps?.invitees.map((p) => p.name)).toEqual(['Ivanov', 'Jonas Weber']);
    expect(day.rooms).toEqual([
      { id: 'vroom', title: 'Always-on room', join_url: null, state: 'running', owner: 'room101', source: 'tcs' },
    ]);
    expect(day.sources.map((s) => [s.id, s.status, s.stale])).toEqual([
      ['tcs', 'online', false],
      ['outlook', 'online', false],
    ]);
  });

  it('current / next, meeting.upcoming → start → end once each, as room events, bus messages and onMeeting', async () => {
    const clock = new FakeClock(NOW);
    const r = await startAgent(clock, emu?.url ?? '');
    await synced(r);
    const c = await r.connect();
    const sub = await call<{ snapshot: { calendar: CalendarList } }>(c, 'subscribe', { topics: ['calendar'] });
    expect(sub.snapshot.calendar.meetings).toHaveLength(6);
    const hooked: MeetingEvent[] = [];
    r.svc().onMeeting((e) => hooked.push(e));

    expect(await call(c, 'calendar.current')).toMatchObject({ meeting: null, stale: false });
    expect(await call(c, 'calendar.next')).toMatchObject({ meeting: { id: 'tcs:ps' }, starts_in_s: 7200 });

    clock.advance(T('08:50') - NOW);
    clock.advance(10 * 60_000);
    expect(await call(c, 'calendar.current')).toMatchObject({ meeting: { id: 'tcs:ps' } });
    expect(await call(c, 'calendar.next')).toMatchObject({ meeting: { id: 'tcs:budget' }, starts_in_s: 3 * 3600 });
    clock.advance(T('10:00') - T('09:00'));

    const mine = (e: { type: string }) => e.type.startsWith('meeting.');
    const roomEvents = r.events.filter(mine).map((e) => [e.type, e.at, e.data.meeting_id]);
    expect(roomEvents).toEqual([
      ['meeting.upcoming', '2026-03-18T08:50:00.000Z', 'tcs:ps'],
      ['meeting.start', '2026-03-18T09:00:00.000Z', 'tcs:ps'],
      ['meeting.end', '2026-03-18T10:00:00.000Z', 'tcs:ps'],
    ]);
    expect(r.events.find((e) => e.type === 'meeting.upcoming')?.data).toMatchObject({
      minutes_before: 10,
      title: 'Project sync (online)',
      start: '2026-03-18T09:00:00.000Z',
      sources: ['tcs', 'outlook'],
    });
    expect(hooked.map((e) => [e.type, e.meeting.id])).toEqual(roomEvents.map(([t, , id]) => [t, id]));
    await c.waitFor((n) => (n.data as { type: string }).type === 'meeting.end');
    expect(c.events.filter((n) => n.topic === 'calendar' && mine(n.data as { type: string }))).toHaveLength(3);
  });

  it('HTTP GET /api/calendar: viewer token or above, date or date-time bounds', async () => {
    const r = await startAgent(new FakeClock(NOW), emu?.url ?? '');
    await synced(r);
    const get = async (q: string, token?: string) => {
      const res = await fetch(`${r.url}/api/calendar${q}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      const body = await res.text();
      answers.push(body);
      return { status: res.status, body: JSON.parse(body) };
    };
    expect((await get('')).status).toBe(401);
    expect((await get('', 'not-a-token')).status).toBe(401);
    expect((await get('', TOKENS.ingest)).status).toBe(403);
    const ok = await get('?from=2026-03-18&to=2026-03-18', TOKENS.viewer);
    expect(ok.status).toBe(200);
    expect(ok.body.meetings).toHaveLength(6);
    const q = await get(`?token=${TOKENS.operator}&from=2026-03-18T10:30:00%2B01:00&to=2026-03-18T14:00:00Z`);
    // Overlap counts: the all-day event and the meeting running at 09:30Z are in.
    expect(q.body.meetings.map((m: { title: string }) => m.title)).toEqual([
      'Open house',
      'Project sync (online)',
      'budget  review',
    ]);
    const bad = await get('?from=yesterday', TOKENS.viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/"from" must be a date/);
    expect((await get('?from=2026-03-19&to=2026-03-18', TOKENS.viewer)).status).toBe(400);
  });

  it('ranges outside the synced window are read live from online sources', async () => {
    const r = await startAgent(new FakeClock(NOW), emu?.url ?? '');
    await synced(r);
    const c = await r.connect();
    const far = await call<CalendarList>(c, 'calendar.list', { from: '2026-04-22', to: '2026-04-22' });
    expect(far.meetings.map((m) => [m.start, m.title])).toEqual([['2026-04-22T15:00:00.000Z', 'Weekly retro']]);
    expect(far.stale).toBe(false);
  });

  it('offline start: the stored copy is served, marked stale with the last sync time; no repeated meeting.start', async () => {
    const clock = new FakeClock(NOW);
    const first = await startAgent(clock, emu?.url ?? '');
    await synced(first);
    const lastSync = first.svc().freshness().synced_at;
    clock.advance(T('09:05') - NOW); // project sync has started
    expect(first.events.filter((e) => e.type === 'meeting.start')).toHaveLength(1);
    const url = emu?.url ?? '';
    running.splice(0);
    await first.agent.stop();
    // Everything unreachable: TrueConf down, the calendar file gone.
    await emu?.stop();
    emu = null;
    fs.rmSync(icsFile);

    const second = await startAgent(clock, url);
    await waitUntil(
      () => ['tcs', 'outlook'].every((d) => second.agent.devices.get(d)?.status.status === 'offline'),
      'both sources offline',
      10_000,
    );
    const c = await second.connect();
    const day = await call<CalendarList>(c, 'calendar.list');
    expect(day.stale).toBe(true);
    expect(day.synced_at).toBe(lastSync);
    expect(day.sources.every((s) => s.stale && s.status === 'offline' && s.synced_at !== null)).toBe(true);
    expect(day.meetings).toHaveLength(6);
    expect(day.meetings.every((m) => m.stale)).toBe(true);
    expect(await call(c, 'calendar.current')).toMatchObject({ meeting: { id: 'tcs:ps', stale: true }, stale: true });
    // The meeting in progress was already announced before the restart.
    expect(second.events.filter((e) => e.type === 'meeting.start')).toHaveLength(0);
    clock.advance(T('10:00') - T('09:05'));
    expect(second.events.filter((e) => e.type === 'meeting.end').map((e) => e.data.meeting_id)).toEqual(['tcs:ps']);
    // An out-of-window range with sources offline: stored copy (nothing) and stale.
    expect(await call(c, 'calendar.list', { from: '2026-05-01', to: '2026-05-02' })).toMatchObject({ meetings: [], stale: true });
  });

  it('a meeting removed while running ends with removed: true', async () => {
    const clock = new FakeClock(NOW);
    const r = await startAgent(clock, emu?.url ?? '');
    await synced(r);
    clock.advance(T('16:35') - NOW); // "Online only" (TCS only) is running
    expect(r.events.filter((e) => e.type === 'meeting.start').map((e) => e.data.meeting_id)).toContain('tcs:online-only');
    const before = r.agent.devices.get('tcs')?.state.calendar?.changed_at;
    if (emu) emu.conferences = emu.conferences.filter((x) => x.id !== 'online-only');
    // Hours passed on the fake clock with no real time for the server to answer the liveness
    // probes: the source is rightly offline (silent past probe interval + timeout). Let it
    // reconnect, moving the fake clock through its backoff.
    const until = Date.now() + 20_000;
    while (r.agent.devices.get('tcs')?.status.status !== 'online') {
      if (Date.now() > until) throw new Error('timed out waiting for tcs back online');
      clock.advance(100); // small steps: the emulator answers in real time, within the 1 s request timeout
      await new Promise((res) => setTimeout(res, 20));
    }
    await r.agent.host.invoke('tcs', 'refresh', {}, { kind: 'api' });
    await waitUntil(() => r.agent.devices.get('tcs')?.state.calendar?.changed_at !== before, 'new snapshot');
    clock.advance(60_000);
    const end = r.events.find((e) => e.type === 'meeting.end' && e.data.meeting_id === 'tcs:online-only');
    expect(end?.data.removed).toBe(true);
  });

  it('no secret in any log line, answer or error (wrong password run included)', async () => {
    const r = await startAgent(new FakeClock(NOW), emu?.url ?? '');
    await synced(r);
    const c = await r.connect(TOKENS.admin);
    await call(c, 'calendar.list');
    await call(c, 'devices.list');
    await call(c, 'device.action', { device: 'tcs', action: 'participants', params: { id: 'ps' } });
    const err = await c.request('device.action', { device: 'tcs', action: 'run', params: { id: 'missing' } });
    answers.push(JSON.stringify(err));
    await call(c, 'audit.list', {});
    if (emu) emu.users.room101 = 'changed-on-server';
    emu?.expireAllTokens();
    await r.agent.host.invoke('tcs', 'refresh', {}, { kind: 'api' });
    expect(r.agent.devices.get('tcs')?.status.status).toBe('auth_failure');
    answers.push(JSON.stringify(await call(c, 'devices.get', { device: 'tcs' })));
    const all = [...r.logs, ...answers].join('\n');
    expect(r.logs.length).toBeGreaterThan(5);
    expect(all).toContain('InvalidCredentials');
    expect(all).not.toContain(PASSWORD);
    expect(emu?.issuedTokens.length).toBeGreaterThan(0);
    for (const t of emu?.issuedTokens ?? []) expect(all).not.toContain(t);
  });
});

describe('calendar service, one source drops a merged meeting', () => {
  it('the meeting goes on (no early meeting.end) and ends once at its time', async () => {
    const clock = new FakeClock(NOW);
    const r = await startAgent(clock, emu?.url ?? '');
    await synced(r);
    clock.advance(T('09:10') - NOW); // project sync (tcs + outlook) is running
    expect(r.events.filter((e) => e.type === 'meeting.start').map((e) => e.data.meeting_id)).toEqual(['tcs:ps']);
    fs.writeFileSync(icsFile, ICS.replace('UID:ics-ps', 'UID:ics-ps-moved').replace('20260318T100000', '20260325T100000'));
    fs.utimesSync(icsFile, new Date(), new Date(Date.now() + 10_000));
    const before = r.agent.devices.get('outlook')?.state.calendar?.changed_at;
    await r.agent.host.invoke('outlook', 'refresh', {}, { kind: 'api' });
    await waitUntil(() => r.agent.devices.get('outlook')?.state.calendar?.changed_at !== before, 'new snapshot');
    clock.advance(60_000);
    expect(r.events.filter((e) => e.type === 'meeting.end')).toHaveLength(0);
    clock.advance(T('10:00') - T('09:11'));
    clock.advance(2 * 86_400_000); // long after: still exactly one end
    const ends = r.events.filter((e) => e.type === 'meeting.end' && e.data.meeting_id === 'tcs:ps');
    expect(ends.map((e) => [e.at, e.data.removed])).toEqual([['2026-03-18T10:00:00.000Z', undefined]]);
  });
});
