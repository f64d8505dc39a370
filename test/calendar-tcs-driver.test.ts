// The tcs driver against the TrueConf emulator (real HTTP on 127.0.0.1:0):
// token handling, paging, v3/v4, faults, actions, and no secret leaks.
import { afterEach, describe, expect, it } from 'vitest';
import type { CalendarSnapshot } from '../src/calendar/model.js';
import type { DeviceInstance } from '../src/host/contract.js';
import { FakeClock } from '../src/util/clock.js';
import { createTcs, type TcsConfig } from '../drivers/tcs/driver.js';
import { type EmulatorConference, TcsEmulator } from '../drivers/tcs/simulator.js';
import { ACTION_CTX, lastStatus, type Recorded, recordingContext, waitUntil } from './calendar-fixtures/helpers.js';

const PASSWORD = 'Pa55-word;with"quote';
const NOW = Date.UTC(2026, 2, 27, 9, 0); // Friday, two days before the EU DST change

let emu: TcsEmulator | null = null;
let inst: DeviceInstance | null = null;

afterEach(async () => {
  await inst?.stop();
  inst = null;
  await emu?.stop();
  emu = null;
});

function conferences(major: 3 | 4, n = 3): EmulatorConference[] {
  const once = major === 4 ? 'once' : 1;
  const list: EmulatorConference[] = [];
  for (let i = 0; i < n; i++) {
    list.push({
      id: `c${i}`,
      topic: `Meeting ${i}`,
      owner: 'room101@tcs.test',
      schedule: { type: once, start_time: NOW / 1000 + i * 3600, duration: 1800 },
      url: `https://tcs.test/c/c${i}`,
      state: 'stopped',
      invitations: [{ id: 'ivanov@tcs.test', display_name: 'Ivanov' }],
    });
  }
  list.push({
    id: 'weekly',
    topic: 'Weekly',
    owner: 'room101',
    schedule: { type: major === 4 ? 'week' : 0, days: ['friday', 'monday'], time: '10:00', time_offset: 60, duration: 3600 },
    state: 'stopped',
  });
  list.push({ id: 'vroom', topic: 'Virtual', owner: 'room101', schedule: { type: major === 4 ? 'none' : -1 }, state: 'running' });
  // Not this user's: must be filtered out even if a server returned it.
  list.push({ id: 'other', topic: 'Other', owner: 'someone', schedule: { type: once, start_time: NOW / 1000, duration: 60 } });
  return list;
}

async function setup(
  over: Partial<TcsConfig> & { major?: 3 | 4; emuConfs?: EmulatorConference[]; tokenLifetimeS?: number; password?: string } = {},
): Promise<{ rec: Recorded; clock: FakeClock; emu: TcsEmulator; inst: DeviceInstance }> {
  const { major = 3, emuConfs, tokenLifetimeS, password, ...configOver } = over;
  emu = new TcsEmulator({ users: { room101: PASSWORD }, tokenLifetimeS });
  const url = await emu.start();
  emu.conferences = emuConfs ?? conferences(major);
  const clock = new FakeClock(NOW);
  const rec = recordingContext(clock, 'tcs');
  const config: TcsConfig = {
    connectionString: `server=${url}; user=room101; password="${(password ?? PASSWORD).replaceAll('"', '""')}"`,
    api_version: major === 4 ? 'v4' : 'v3.11',
    token_path: '/oauth2/v1/token',
    poll_interval_s: 120,
    request_timeout_ms: 2000,
    page_size: 100,
    resume_max_age_s: 600,
    auth_retry_min_s: 60,
    auth_retry_max_s: 900,
    days_ahead: 7,
    time_zone: 'Europe/Berlin',
    ...configOver,
  };
  inst = createTcs(config, rec.ctx);
  await inst.start();
  return { rec, clock, emu, inst };
}

const snapshot = (r: Recorded) => r.state.calendar as CalendarSnapshot | undefined;
const apiRequests = (e: TcsEmulator) => e.requests.filter((q) => q.path.startsWith('/api/'));
const refresh = (i: DeviceInstance) => i.actions.refresh?.run({}, ACTION_CTX());

function assertNoSecrets(r: Recorded, e: TcsEmulator): void {
  const all = r.everything();
  expect(all).not.toContain(PASSWORD);
  expect(all).not.toContain('Pa55-word');
  for (const t of e.issuedTokens) expect(all).not.toContain(t);
}

describe('tcs driver, API v3.11', () => {
  it('gets a password-grant token with a JSON body and puts it only in the query', async () => {
    const { rec, emu } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const tokenReq = emu.requests.find((q) => q.path === '/oauth2/v1/token');
    expect(tokenReq?.contentType).toMatch(/application\/json/);
    for (const q of apiRequests(emu)) {
      expect(q.path).toBe('/api/v3.11/conferences');
      expect(q.query.access_token).toBeTruthy();
      expect(q.authorization).toBeNull();
    }
    const snap = snapshot(rec);
    expect(snap?.rooms.map((x) => x.id)).toEqual(['vroom']);
    expect(snap?.events.map((e) => e.id)).toContain('c0');
    expect(snap?.events.some((e) => e.source_id === 'other')).toBe(false);
    // Weekly 10:00 at fixed +01:00: Friday 27 March 09:00Z and (after the DST change) Monday 30 March still 09:00Z.
    expect(
      snap?.events
        .filter((e) => e.source_id === 'weekly')
        .map((e) => e.start)
        .slice(0, 2),
    ).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T09:00:00.000Z']);
    assertNoSecrets(rec, emu);
  });

  it('follows three pages of next_page_id', async () => {
    const { rec, emu } = await setup({ page_size: 2 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(apiRequests(emu).map((q) => q.query.page_id)).toEqual(['0', '1', '2']);
    expect(apiRequests(emu).every((q) => q.query.page_size === '2')).toBe(true);
    expect(snapshot(rec)?.events.filter((e) => e.source_id.startsWith('c'))).toHaveLength(3);
  });

  it('wrong password: status auth_failure with the server reason, slow retries, no secret anywhere', async () => {
    const { rec, emu, clock } = await setup({ password: 'wrong-password-123' });
    await waitUntil(() => lastStatus(rec)?.status === 'auth_failure', 'auth_failure');
    expect(lastStatus(rec)?.message).toContain('InvalidCredentials');
    expect(lastStatus(rec)?.message).toContain('Invalid username and password combination');
    expect(emu.tokenRequests).toBe(1);
    expect(apiRequests(emu)).toHaveLength(0);
    // Credentials do not fix themselves: no retry within the first 45 s (1 min ±20 %)…
    clock.advance(45_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(emu.tokenRequests).toBe(1);
    // …but one later (the password may have been changed on the server).
    clock.advance(35_000);
    await waitUntil(() => emu.tokenRequests === 2, 'second token attempt');
    const all = rec.everything();
    expect(all).not.toContain('wrong-password-123');
    assertNoSecrets(rec, emu);
  });

  it('auth_retry_max_s below auth_retry_min_s is refused as bad config naming both keys', async () => {
    await expect(setup({ auth_retry_min_s: 600, auth_retry_max_s: 60 })).rejects.toThrow(
      'auth_retry_max_s (60) must not be below auth_retry_min_s (600)',
    );
  });

  it('token expiring mid-run (403 accessTokenInvalid): exactly one refresh and one retry', async () => {
    const { rec, emu, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(emu.tokenRequests).toBe(1);
    const before = apiRequests(emu).length;
    emu.expireAllTokens();
    await refresh(inst);
    expect(emu.tokenRequests).toBe(2);
    const after = apiRequests(emu).slice(before);
    expect(after).toHaveLength(2); // the rejected call and its retry
    expect(after[0]?.query.access_token).not.toBe(after[1]?.query.access_token);
    expect(lastStatus(rec)?.status).toBe('online');
    assertNoSecrets(rec, emu);
  });

  it('a token rejected again right after a fresh login: auth_failure, not retried again', async () => {
    const { rec, emu, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const body = { error: { code: 403, message: 'Forbidden', errors: [{ reason: 'accessTokenInvalid', message: 'expired' }] } };
    emu.faults.push({ path: /conferences/, status: 403, body }, { path: /conferences/, status: 403, body });
    const before = apiRequests(emu).length;
    await refresh(inst);
    expect(apiRequests(emu).length - before).toBe(2);
    expect(emu.tokenRequests).toBe(2);
    // Issue 19 item 2: the network is fine, the server refuses what it just issued → credentials/config.
    expect(lastStatus(rec)).toMatchObject({ status: 'auth_failure' });
    expect(lastStatus(rec)?.message).toContain('accessTokenInvalid');
    assertNoSecrets(rec, emu);
  });

  it('a page failing mid-list: the next sync resumes at that page, not page 0', async () => {
    const { rec, emu, clock } = await setup({ page_size: 2 });
    emu.faults.push({
      path: /conferences/,
      query: { page_id: '1' },
      status: 500,
      body: { error: { code: 500, message: 'busy' } },
    });
    // The server answered (500): error, not offline; retried on the reconnect backoff.
    await waitUntil(() => lastStatus(rec)?.status === 'error', 'error');
    expect(lastStatus(rec)?.message).toContain('HTTP 500');
    expect(lastStatus(rec)?.message).toContain('1 page kept; the next sync resumes at the failed page');
    expect(apiRequests(emu).map((q) => q.query.page_id)).toEqual(['0', '1']);
    clock.advance(2_500); // backoff 2 s ±20 %
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(apiRequests(emu).map((q) => q.query.page_id)).toEqual(['0', '1', '1', '2']);
    expect(snapshot(rec)?.events.filter((e) => e.source_id.startsWith('c'))).toHaveLength(3);
    expect(snapshot(rec)?.rooms.map((r) => r.id)).toEqual(['vroom']);
  });

  it('a flaky server that fails every page once still finishes the list', async () => {
    const many = conferences(3, 12); // 14 rows visible to room101 → 7 pages of 2
    const { rec, emu, clock } = await setup({ page_size: 2, emuConfs: many });
    for (let i = 0; i < 7; i++) emu.faults.push({ path: /conferences/, query: { page_id: String(i) }, status: 503 });
    // Each attempt reports `connecting` (handshake), then the sync's outcome; advance past the backoff after each failure.
    let seen = 0;
    for (let n = 0; n < 20; n++) {
      await waitUntil(() => rec.statuses.slice(seen).some((x) => x.status !== 'connecting'), 'a sync');
      seen = rec.statuses.length;
      if (lastStatus(rec)?.status === 'online') break;
      clock.advance(130_000); // past any reconnect backoff (reconnect_max_ms 60 s)
    }
    expect(lastStatus(rec)?.status).toBe('online');
    expect(snapshot(rec)?.events.filter((e) => /^c\d+$/.test(e.source_id))).toHaveLength(12);
    // Each page read twice (the failure and its retry), none more.
    expect(apiRequests(emu)).toHaveLength(14);
  });

  it('a partial list older than resume_max_age_s is dropped: the sync starts again at page 0', async () => {
    const { rec, emu, clock } = await setup({ page_size: 2, resume_max_age_s: 0 });
    emu.faults.push({ path: /conferences/, query: { page_id: '1' }, status: 500 });
    await waitUntil(() => lastStatus(rec)?.status === 'error', 'error');
    clock.advance(2_500);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(apiRequests(emu).map((q) => q.query.page_id)).toEqual(['0', '1', '0', '1', '2']);
  });

  it('a token living longer than 24.8 days is renewed once, near its end (no renewal storm)', async () => {
    const lifeS = 30 * 86_400; // beyond Node's 2^31-1 ms timer limit
    const { rec, emu, clock } = await setup({ tokenLifetimeS: lifeS, poll_interval_s: 3600 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(emu.tokenRequests).toBe(1);
    for (let i = 0; i < 20; i++) {
      clock.advance(50);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(emu.tokenRequests).toBe(1);
    expect(clock.overflows).toBe(0);
    // 24.8 days in: the first link of the chained wait passes; still no renewal.
    clock.advance(2 ** 31);
    await new Promise((r) => setTimeout(r, 30));
    expect(emu.tokenRequests).toBe(1);
    clock.advance(lifeS * 1000 - 2 ** 31 - 59_000);
    await waitUntil(() => emu.tokenRequests === 2, 'renewal 60 s before expiry');
    await new Promise((r) => setTimeout(r, 30));
    expect(emu.tokenRequests).toBe(2);
  });

  it('refreshes the token before expires_in runs out', async () => {
    const { rec, emu, clock } = await setup({ tokenLifetimeS: 3600, poll_interval_s: 3600 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(emu.tokenRequests).toBe(1);
    clock.advance(3600_000 - 61_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(emu.tokenRequests).toBe(1);
    clock.advance(2_000);
    await waitUntil(() => emu.tokenRequests === 2, 'proactive refresh');
  });

  it('500 in a poll: error with the reason (the server answered), online again at the next good poll', async () => {
    const { rec, emu: e, clock, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    e.faults.push({ path: /conferences/, status: 500, body: { error: { code: 500, message: 'Internal Server Error' } } });
    await refresh(inst);
    expect(lastStatus(rec)?.status).toBe('error');
    expect(lastStatus(rec)?.message).toContain('HTTP 500');
    // The connection is kept: the next poll (poll_interval_s 120) brings it back.
    clock.advance(121_000);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'recovered');
  });

  it('a refused login retries on its own schedule: 1 min doubling (±20 %), reset once online', async () => {
    const { rec, emu, clock, inst } = await setup({ password: 'wrong-password-123', poll_interval_s: 3600 });
    await waitUntil(() => lastStatus(rec)?.status === 'auth_failure', 'auth_failure');
    expect(lastStatus(rec)?.message).toMatch(/next attempt in (4[89]|5\d|6\d|7[0-2])(\.\d)? s$/);
    const tokenAttemptAfter = async (ms: number, n: number) => {
      clock.advance(ms);
      await waitUntil(() => emu.tokenRequests === n, `token attempt ${n}`);
      await waitUntil(() => lastStatus(rec)?.status === 'auth_failure', 'auth_failure again');
    };
    await tokenAttemptAfter(72_000, 2); // 1st retry: 60 s ±20 %
    clock.advance(95_000); // 2nd retry: 120 s ±20 % — not before 96 s
    await new Promise((r) => setTimeout(r, 50));
    expect(emu.tokenRequests).toBe(2);
    await tokenAttemptAfter(50_000, 3);
    expect(lastStatus(rec)?.message).toMatch(/next attempt in (19[2-9]|2\d\d)(\.\d)? s$/); // 240 s ±20 %
    // The password is fixed on the server: the next attempt goes online, and the schedule starts again.
    emu.users.room101 = 'wrong-password-123';
    clock.advance(290_000);
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    emu.users.room101 = 'changed-again';
    emu.expireAllTokens();
    await refresh(inst);
    expect(lastStatus(rec)?.status).toBe('auth_failure');
    expect(lastStatus(rec)?.message).toMatch(/next attempt in (4[89]|5\d|6\d|7[0-2])(\.\d)? s$/);
  });

  it('a response slower than the timeout: offline, request abandoned', async () => {
    const { rec, emu, inst } = await setup({ request_timeout_ms: 150 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    emu.faults.push({ path: /conferences/, delayMs: 1000 });
    await refresh(inst);
    expect(lastStatus(rec)?.status).toBe('offline');
    expect(lastStatus(rec)?.message).toMatch(/^GET \/api\/v3\.11\/conferences: no answer within 150 ms; next attempt in /);
  });

  it('an action the server does not answer in time fails DEVICE_TIMEOUT (the host counts it toward timeouts_before_reconnect); a refused one DEVICE_OFFLINE', async () => {
    const { rec, emu, inst } = await setup({ request_timeout_ms: 150 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    emu.faults.push({ path: /participants/, delayMs: 1000 });
    await expect(inst.actions.participants?.run({ id: 'c0' }, ACTION_CTX())).rejects.toMatchObject({
      code: 'DEVICE_TIMEOUT',
      message: expect.stringMatching(/participants: no answer within 150 ms$/),
    });
    emu.faults.push({ path: /conferences/, delayMs: 1000 });
    await expect(
      inst.actions.list_events?.run({ from: '2026-03-27T00:00:00Z', to: '2026-03-28T00:00:00Z' }, ACTION_CTX()),
    ).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    await emu.stop();
    await expect(inst.actions.run?.run({ id: 'c0' }, ACTION_CTX())).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    assertNoSecrets(rec, emu);
  });

  it('malformed JSON: error (the server answered) with a clear message, the last snapshot is kept', async () => {
    const { rec, emu, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const good = snapshot(rec);
    emu.faults.push({ path: /conferences/, status: 200, raw: '{"conferences":[{"id":"x",' });
    await refresh(inst);
    expect(lastStatus(rec)).toEqual({ status: 'error', message: 'GET /api/v3.11/conferences: response is not valid JSON' });
    expect(snapshot(rec)).toBe(good);
  });

  it('network error (server gone): offline, never throws from start', async () => {
    const { rec, emu, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    await emu.stop();
    await refresh(inst);
    expect(lastStatus(rec)?.status).toBe('offline');
    expect(lastStatus(rec)?.message).toMatch(/^GET \/api\/v3\.11\/conferences: /);
    assertNoSecrets(rec, emu);
  });

  it('run, stop and participants', async () => {
    const { rec, emu, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    emu.participants.c0 = [{ id: 'ivanov@tcs.test', display_name: 'Ivanov' }];
    expect(await inst.actions.run?.run({ id: 'c0' }, ACTION_CTX())).toEqual({ state: 'running' });
    expect(await inst.actions.participants?.run({ id: 'c0' }, ACTION_CTX())).toEqual({
      participants: [{ id: 'ivanov@tcs.test', name: 'Ivanov' }],
    });
    expect(await inst.actions.stop?.run({ id: 'c0' }, ACTION_CTX())).toEqual({ state: 'stopped' });
    await expect(inst.actions.run?.run({ id: 'nope' }, ACTION_CTX())).rejects.toThrow(/404 conferenceNotFound/);
    assertNoSecrets(rec, emu);
  });

  it('list_events reads any range live', async () => {
    const { rec, inst } = await setup();
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const r = (await inst.actions.list_events?.run(
      { from: '2026-04-01T00:00:00Z', to: '2026-04-08T00:00:00Z' },
      ACTION_CTX(),
    )) as { events: { start: string }[] };
    // Weekly on Fridays and Mondays: 3, 6 April.
    expect(r.events.map((e) => e.start)).toEqual(['2026-04-03T09:00:00.000Z', '2026-04-06T09:00:00.000Z']);
  });
});

describe('tcs driver, API v4', () => {
  it('Bearer header only, after/before filters, page paging, 401 → one refresh', async () => {
    const { rec, emu, inst } = await setup({ major: 4, page_size: 2 });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    const reqs = apiRequests(emu);
    expect(reqs.map((q) => q.query.page)).toEqual(['1', '2', '3']);
    for (const q of reqs) {
      expect(q.path).toBe('/api/v4/conferences');
      expect(q.authorization).toMatch(/^Bearer [0-9a-f]{40}$/);
      expect(q.query.access_token).toBeUndefined();
      expect(Number(q.query.after)).toBeLessThan(NOW / 1000);
      expect(Number(q.query.before)).toBeGreaterThan(NOW / 1000);
    }
    expect(snapshot(rec)?.events.filter((e) => e.source_id === 'weekly').length).toBeGreaterThan(0);
    emu.expireAllTokens();
    const before = apiRequests(emu).length;
    await refresh(inst);
    expect(emu.tokenRequests).toBe(2);
    expect(apiRequests(emu).length - before).toBe(4); // 401, retry of page 1, pages 2 and 3
    expect(lastStatus(rec)?.status).toBe('online');
    assertNoSecrets(rec, emu);
  });

  it('weekly_time_zone keeps the wall clock across the DST change', async () => {
    const { rec } = await setup({ major: 4, weekly_time_zone: 'Europe/Berlin' });
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online');
    expect(
      snapshot(rec)
        ?.events.filter((e) => e.source_id === 'weekly')
        .map((e) => e.start)
        .slice(0, 2),
    ).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T08:00:00.000Z']);
  });
});

describe('emulator token endpoint', () => {
  it('accepts form-encoded and JSON bodies; refuses bad grants and clients', async () => {
    emu = new TcsEmulator({ users: { u: 'p' } });
    const url = await emu.start();
    const form = await fetch(`${url}/oauth2/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=u&password=p&client_id=trueconf_server_users',
    });
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({ token_type: 'Bearer', expires_in: 604800 });
    const post = (body: unknown) =>
      fetch(`${url}/api/v4/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post({ grant_type: 'password', username: 'u', password: 'p', client_id: 'trueconf_server_users' })).status,
    ).toBe(200);
    const bad = await post({ grant_type: 'password', username: 'u', password: 'x', client_id: 'trueconf_server_users' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_grant', reason: 'InvalidCredentials' });
    expect((await post({ grant_type: 'implicit' })).status).toBe(400);
    expect(await (await post({ grant_type: 'password', client_id: 'other' })).json()).toMatchObject({ error: 'invalid_client' });
    // Token in two places at once is refused (bshaffer behaviour).
    const tok = (
      (await (
        await post({ grant_type: 'password', username: 'u', password: 'p', client_id: 'trueconf_server_users' })
      ).json()) as { access_token: string }
    ).access_token;
    const both = await fetch(`${url}/api/v3.11/conferences?access_token=${tok}`, { headers: { authorization: `Bearer ${tok}` } });
    expect(both.status).toBe(400);
  });
});
