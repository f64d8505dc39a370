// The tcs driver's in-meeting control actions (invite, disconnect, recording)
// against the TrueConf emulator over real HTTP, on API v3.11 and v4, with every
// refusal TrueConf's clients show (teachbase/true-conf, trueconf-server-mcp) and the emulator names: no such conference, not
// running, no such user, not in the conference, no permission, token invalid,
// not supported on this version — each a DeviceError naming what failed.
import { afterEach, describe, expect, it } from 'vitest';
import { createTcs, type TcsConfig } from '../drivers/tcs/driver.js';
import { TcsEmulator } from '../drivers/tcs/simulator.js';
import type { DeviceInstance } from '../src/host/contract.js';
import { FakeClock } from '../src/util/clock.js';
import { DeviceError } from '../src/util/errors.js';
import { ACTION_CTX, lastStatus, type Recorded, recordingContext, waitUntil } from './calendar-fixtures/helpers.js';

const PASSWORD = 'S3cret;pw"x';
let emu: TcsEmulator | null = null;
let inst: DeviceInstance | null = null;

afterEach(async () => {
  await inst?.stop();
  inst = null;
  await emu?.stop();
  emu = null;
});

const conf = (id: string, state: 'running' | 'stopped', owner = 'room101@tcs.test') => ({
  id,
  topic: `Meeting ${id}`,
  owner,
  schedule: { type: 'none' },
  state,
  invitations: [{ id: 'ivanov@tcs.test', display_name: 'Ivanov' }],
});

async function setup(
  major: 3 | 4,
  opts: { readOnly?: boolean } = {},
): Promise<{ emu: TcsEmulator; inst: DeviceInstance; rec: Recorded }> {
  emu = new TcsEmulator({
    users: { room101: PASSWORD },
    conferences: [conf('live', 'running'), conf('idle', 'stopped'), conf('foreign', 'running', 'someone@tcs.test')],
    directory: { 'petrova@tcs.test': { display_name: 'Petrova' } },
    readOnlyUsers: opts.readOnly ? ['room101'] : [],
  });
  const url = await emu.start();
  const rec = recordingContext(new FakeClock(Date.now()), 'tcs');
  const config: TcsConfig = {
    connectionString: `server=${url}; user=room101; password="${PASSWORD.replaceAll('"', '""')}"`,
    api_version: major === 4 ? 'v4' : 'v3.11',
    token_path: '/oauth2/v1/token',
    poll_interval_s: 120,
    request_timeout_ms: 5000,
    page_size: 100,
    resume_max_age_s: 600,
    auth_retry_min_s: 60,
    auth_retry_max_s: 900,
    days_ahead: 7,
    time_zone: 'Europe/Berlin',
  };
  inst = createTcs(config, rec.ctx);
  await inst.start();
  await waitUntil(() => lastStatus(rec)?.status === 'online', 'online', 10_000);
  return { emu, inst, rec };
}

const run = (i: DeviceInstance, action: string, params: Record<string, unknown>) => {
  const def = i.actions[action];
  if (!def) throw new Error(`no action ${action}`);
  return def.run(params as never, ACTION_CTX());
};

/** The DeviceError a control fails with: its `data.failure` and message. */
async function failure(p: Promise<unknown>): Promise<{ failure: string; message: string }> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, 'the control should have failed').toBeInstanceOf(DeviceError);
  const d = e as DeviceError;
  return { failure: (d.data as { failure: string }).failure, message: d.message };
}

const live = (e: TcsEmulator, id: string) =>
  (e.participants[id] ?? []).filter((p) => (p as { leave_time?: number | null }).leave_time == null).map((p) => p.id);

function assertNoSecrets(rec: Recorded, e: TcsEmulator, messages: string[]): void {
  const all = rec.everything() + messages.join('\n');
  expect(all).not.toContain(PASSWORD);
  for (const t of e.issuedTokens) expect(all).not.toContain(t);
}

describe.each([3, 4] as const)('tcs in-meeting control, API v%s', (major) => {
  it('invites a user into a running conference', async () => {
    const { emu, inst } = await setup(major);
    const r = await run(inst, 'invite', { id: 'live', user_id: 'petrova@tcs.test' });
    expect(r).toEqual({ conference: 'live', user_id: 'petrova@tcs.test', invited: true });
    expect(live(emu, 'live')).toContain('petrova@tcs.test');
    const sent = emu.requests.filter((q) => q.method === 'POST' && q.path.startsWith('/api/'));
    expect(sent.map((q) => q.path)).toEqual([
      major === 4 ? '/api/v4/conferences/live/invite' : '/api/v3.11/conferences/live/participants',
    ]);
  });

  it('names each refusal of an invite: no such user, no such conference, not running, no permission', async () => {
    const { emu, inst, rec } = await setup(major);
    const messages: string[] = [];
    const nobody = await failure(run(inst, 'invite', { id: 'live', user_id: 'nobody@tcs.test' }));
    expect(nobody.failure).toBe('no_such_user');
    expect(nobody.message).toMatch(/no such user \(user "nobody@tcs\.test"; HTTP 404 userNotFound/);
    const ghost = await failure(run(inst, 'invite', { id: 'ghost', user_id: 'petrova' }));
    expect(ghost.failure).toBe('no_such_conference');
    expect(ghost.message).toMatch(/conference "ghost"; HTTP 404 conferenceNotFound/);
    const idle = await failure(run(inst, 'invite', { id: 'idle', user_id: 'petrova' }));
    expect(idle).toEqual({
      failure: 'not_running',
      message: 'TrueConf invite: the conference is not running (conference "idle" is stopped)',
    });
    const foreign = await failure(run(inst, 'invite', { id: 'foreign', user_id: 'petrova' }));
    expect(foreign.failure).toBe('no_permission');
    expect(foreign.message).toMatch(/no permission .*HTTP 403 forbidden/);
    messages.push(nobody.message, ghost.message, idle.message, foreign.message);
    expect(live(emu, 'live')).not.toContain('nobody@tcs.test');
    assertNoSecrets(rec, emu, messages);
  });

  it('reports a token the server keeps refusing as token_invalid, and recovers from one it refused once', async () => {
    const { emu, inst, rec } = await setup(major);
    // One refusal: the client fetches a new token and the control goes through.
    emu.expireAllTokens();
    await run(inst, 'invite', { id: 'live', user_id: 'petrova' });
    // A fresh token refused too (§A.6: 403 accessTokenInvalid on v3, 401 on v4).
    const refused =
      major === 4
        ? { status: 401, body: { error: 'invalid_token', message: 'The access token provided is invalid' } }
        : {
            status: 403,
            body: { error: { code: 403, message: 'Forbidden', errors: [{ reason: 'accessTokenInvalid', message: 'expired' }] } },
          };
    emu.faults.push({ path: /\/conferences\/live$/, ...refused }, { path: /\/conferences\/live$/, ...refused });
    const twice = await failure(run(inst, 'invite', { id: 'live', user_id: 'petrova' }));
    expect(twice.failure).toBe('token_invalid');
    // The password changed on the server: no token at all.
    emu.users.room101 = 'changed';
    emu.expireAllTokens();
    const creds = await failure(run(inst, 'invite', { id: 'live', user_id: 'petrova' }));
    expect(creds.failure).toBe('token_invalid');
    expect(creds.message).toMatch(/refused the credentials/);
    assertNoSecrets(rec, emu, [twice.message, creds.message]);
  });
});

describe('tcs disconnect', () => {
  it('v3: checks the participant is in the conference, then ends their TrueConf session', async () => {
    const { emu, inst } = await setup(3);
    await run(inst, 'invite', { id: 'live', user_id: 'petrova' });
    await run(inst, 'invite', { id: 'live', user_id: 'ivanov' });
    const r = await run(inst, 'disconnect', { id: 'live', participant: 'petrova@tcs.test/3F2A' });
    expect(r).toEqual({ conference: 'live', participant: 'petrova@tcs.test/3F2A', user_id: 'petrova', scope: 'server_session' });
    expect(live(emu, 'live')).toEqual(['ivanov@tcs.test']);
    const paths = emu.requests.filter((q) => q.path.startsWith('/api/')).map((q) => `${q.method} ${q.path}`);
    expect(paths.slice(-3)).toEqual([
      'GET /api/v3.11/conferences/live',
      'GET /api/v3.11/conferences/live/participants',
      'POST /api/v3.11/users/petrova/disconnect',
    ]);
  });

  it('v3: refuses someone not in the conference without disconnecting anyone, and names the other refusals', async () => {
    const { emu, inst } = await setup(3);
    await run(inst, 'invite', { id: 'live', user_id: 'ivanov' });
    const before = emu.requests.length;
    const absent = await failure(run(inst, 'disconnect', { id: 'live', participant: 'petrova@tcs.test' }));
    expect(absent.failure).toBe('not_in_conference');
    expect(emu.requests.slice(before).some((q) => q.path.includes('/disconnect'))).toBe(false);
    expect((await failure(run(inst, 'disconnect', { id: 'idle', participant: 'ivanov' }))).failure).toBe('not_running');
    expect((await failure(run(inst, 'disconnect', { id: 'ghost', participant: 'ivanov' }))).failure).toBe('no_such_conference');
    expect(live(emu, 'live')).toEqual(['ivanov@tcs.test']);
  });

  it('v3: a user the server does not know is no_such_user; an account without rights is no_permission', async () => {
    const { emu, inst } = await setup(3);
    emu.participants.live = [{ id: 'ghost@tcs.test', display_name: 'Ghost', leave_time: null }];
    const unknown = await failure(run(inst, 'disconnect', { id: 'live', participant: 'ghost@tcs.test' }));
    expect(unknown.failure).toBe('no_such_user');
    expect(unknown.message).toMatch(/user "ghost"; HTTP 404 userNotFound/);
  });

  it('v3: an account the server gives no write rights gets no_permission', async () => {
    const { emu, inst } = await setup(3, { readOnly: true });
    emu.participants.live = [{ id: 'ivanov@tcs.test', display_name: 'Ivanov', leave_time: null }];
    const denied = await failure(run(inst, 'disconnect', { id: 'live', participant: 'ivanov@tcs.test' }));
    expect(denied.failure).toBe('no_permission');
    expect(live(emu, 'live')).toEqual(['ivanov@tcs.test']);
  });

  it('v4: refused as unsupported before anything is sent', async () => {
    const { emu, inst } = await setup(4);
    const before = emu.requests.length;
    const r = await failure(run(inst, 'disconnect', { id: 'live', participant: 'ivanov@tcs.test' }));
    expect(r.failure).toBe('unsupported');
    expect(r.message).toMatch(/not supported on TrueConf API v4/);
    expect(emu.requests.length).toBe(before);
  });
});

describe('tcs recording', () => {
  it('v4: starts and stops recording of a running conference', async () => {
    const { emu, inst } = await setup(4);
    expect(await run(inst, 'recording', { id: 'live', on: true })).toEqual({ conference: 'live', recording: true });
    expect(emu.recordingState.live).toBe('recording');
    expect(await run(inst, 'recording', { id: 'live', on: false })).toEqual({ conference: 'live', recording: false });
    expect(emu.recordingState.live).toBeUndefined();
    expect(emu.recordings.live?.[0]?.stopped_at).not.toBeNull();
    expect((await failure(run(inst, 'recording', { id: 'idle', on: true }))).failure).toBe('not_running');
    expect((await failure(run(inst, 'recording', { id: 'ghost', on: true }))).failure).toBe('no_such_conference');
    expect((await failure(run(inst, 'recording', { id: 'foreign', on: true }))).failure).toBe('no_permission');
  });

  it('v3: refused as not supported on API v3 before anything is sent', async () => {
    const { emu, inst } = await setup(3);
    const before = emu.requests.length;
    const r = await failure(run(inst, 'recording', { id: 'live', on: true }));
    expect(r).toEqual({
      failure: 'unsupported',
      message:
        'TrueConf recording control is not supported on TrueConf API v3: v3 only lists recordings (GET /conferences/{id}/records); use api_version v4',
    });
    expect(emu.requests.length).toBe(before);
  });
});
