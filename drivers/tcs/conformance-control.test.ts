// TrueConf Server in-meeting control conformance (issue 17): the control rows
// of conformance.ts replayed to the real tcs driver inside a real agent. A
// loopback HTTP server answers each request with a row's recorded answer
// (status, headers, body); each case runs the driver's control action
// (invite / disconnect / recording / participants — what meetings.invite,
// meetings.remove and meetings.record run) over the JSON-RPC API and asserts
// the outcome (the result, or a DEVICE_ERROR whose data.failure names the
// refusal) and that the request the driver sent has the row's method, path
// and body. The same rows run against the emulator in simulator-control.test.ts
// and conformance-emulator.test.ts.
import { describe, expect, it } from 'vitest';
import { type DeviceProbe, type DriverCase, describeDriverConformance, online } from '../../test/support/conformance.js';
import { parseAnswer } from '../../test/support/conformance-http.js';
import { knownControlGaps, tcsTable as T } from './conformance.js';
import { parseRecordings } from './control.js';
import { type Received, type Row, RowServer, type RowRule, rowRequest } from './conformance-server.js';

const server = (dev: DeviceProbe) => dev.peer as unknown as RowServer;

/** The driver sent `row`'s request (the last one to that method and path): method, path, named query values, body. */
function expectSent(dev: DeviceProbe, row: Row): Received {
  const want = rowRequest(T[row]);
  const got = server(dev).requests.filter((r) => r.method === want.method && r.path === want.path);
  expect(
    got.length,
    `${row}: the driver sent ${want.method} ${want.path}; it sent ${server(dev).received.join(', ')}`,
  ).toBeGreaterThan(0);
  const last = got[got.length - 1] as Received;
  for (const [k, v] of Object.entries(want.query)) expect(last.query.get(k), `${row}: query ${k}`).toBe(v);
  expect(last.body, `${row}: body`).toEqual(want.body);
  return last;
}

/** The driver sent nothing to `method path`. */
function expectNotSent(dev: DeviceProbe, method: string, path: string): void {
  expect(server(dev).received, `no ${method} ${path}`).not.toContain(`${method} ${path}`);
}

type Outcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; code: number; message: string; data: Record<string, unknown> };

/** Runs a device action over JSON-RPC, keeping the error's data (data.failure). */
async function act(dev: DeviceProbe, action: string, params: Record<string, unknown>): Promise<Outcome> {
  const r = await dev.client.request('device.action', { device: dev.id, action, params });
  if (r.error)
    return { ok: false, code: r.error.code, message: r.error.message, data: (r.error.data ?? {}) as Record<string, unknown> };
  return { ok: true, result: r.result as Record<string, unknown> };
}

async function expectFailure(dev: DeviceProbe, action: string, params: Record<string, unknown>, failure: string) {
  const out = await act(dev, action, params);
  expect(out.ok, `${action} ${JSON.stringify(params)} must fail with ${failure}`).toBe(false);
  if (out.ok) throw new Error('unreachable');
  expect(out.data.failure, out.message).toBe(failure);
  expect(out.message).not.toContain(TOKEN_VALUE);
  expect(out.message).not.toContain(PASSWORD);
  return out;
}

const PASSWORD = 'tcs-secret-pw';
const TOKEN_VALUE = parseAnswer(T['token-200'].reply).body.match(/"access_token":"([^"]+)"/)?.[1] ?? 'no token';
const ID = '5576502892';
const V3 = '/api/v3.11';
const V4 = '/api/v4';
const TOKEN_PATH = '/oauth2/v1/token';

/** The rules every device needs to come online: the token and the conference list of its API version. */
const base = (api: 'v3' | 'v4'): RowRule[] => [
  { method: 'POST', path: TOKEN_PATH, row: 'token-200' },
  api === 'v3'
    ? { method: 'GET', path: `${V3}/conferences`, row: 'conferences-200' }
    : { method: 'GET', path: `${V4}/conferences`, row: 'conferences-v4-200' },
];
const running = (api: 'v3' | 'v4'): RowRule =>
  api === 'v3'
    ? { method: 'GET', path: `${V3}/conferences/${ID}`, row: 'conference-v3-200' }
    : { method: 'GET', path: `${V4}/conferences/${ID}`, row: 'conference-v4-200' };

function controlCase(
  api: 'v3' | 'v4',
  id: string,
  rows: Row[],
  rules: RowRule[],
  run: (dev: DeviceProbe) => Promise<void>,
): DriverCase {
  return {
    id,
    rows,
    peer: () => new RowServer([...base(api), ...rules]).start(),
    config: (p) => ({
      connectionString: `server=http://127.0.0.1:${p.port}; user=room101; password=${PASSWORD}`,
      api_version: api === 'v3' ? 'v3.11' : 'v4',
      token_path: TOKEN_PATH,
      poll_interval_s: 300,
      request_timeout_ms: 3000,
      time_zone: 'UTC',
    }),
    run: async (dev) => {
      await online(dev, 10_000);
      await run(dev);
    },
  };
}

const cases: DriverCase[] = [
  // ---- v3: invite (POST /conferences/{id}/participants {"participant_id"})
  controlCase(
    'v3',
    'v3-invite',
    ['conference-v3-200', 'invite-v3-200'],
    [running('v3'), { method: 'POST', path: `${V3}/conferences/${ID}/participants`, row: 'invite-v3-200' }],
    async (dev) => {
      const out = await act(dev, 'invite', { id: ID, user_id: 'ivanov' });
      expect(out).toEqual({ ok: true, result: { conference: ID, user_id: 'ivanov', invited: true } });
      expectSent(dev, 'conference-v3-200');
      const sent = expectSent(dev, 'invite-v3-200');
      expect(sent.query.get('access_token')).toBe(TOKEN_VALUE);
      // v3 only lists recordings (GET /conferences/{id}/records): switching them is refused before anything is sent.
      const before = server(dev).requests.length;
      await expectFailure(dev, 'recording', { id: ID, on: true }, 'unsupported');
      expect(server(dev).requests.length).toBe(before);
    },
  ),
  controlCase(
    'v3',
    'v3-invite-forbidden',
    ['forbidden-403'],
    [running('v3'), { method: 'POST', path: `${V3}/conferences/${ID}/participants`, row: 'forbidden-403' }],
    async (dev) => {
      await expectFailure(dev, 'invite', { id: ID, user_id: 'ivanov' }, 'no_permission');
      expectSent(dev, 'forbidden-403');
    },
  ),
  controlCase(
    'v3',
    'v3-invite-not-running-400',
    ['not-running-400'],
    // The conference stopped between the driver's check and its invite.
    [running('v3'), { method: 'POST', path: `${V3}/conferences/${ID}/participants`, row: 'not-running-400' }],
    async (dev) => {
      await expectFailure(dev, 'invite', { id: ID, user_id: 'ivanov' }, 'not_running');
      expectSent(dev, 'not-running-400');
    },
  ),
  controlCase(
    'v3',
    'v3-invite-stopped',
    ['conference-stopped-v3-200'],
    [{ method: 'GET', path: `${V3}/conferences/${ID}`, row: 'conference-stopped-v3-200' }],
    async (dev) => {
      const out = await expectFailure(dev, 'invite', { id: ID, user_id: 'ivanov' }, 'not_running');
      expect(out.message).toContain('stopped');
      expectSent(dev, 'conference-stopped-v3-200');
      expectNotSent(dev, 'POST', `${V3}/conferences/${ID}/participants`);
    },
  ),
  controlCase(
    'v3',
    'v3-invite-unknown-conference',
    ['conference-get-not-found-404'],
    [{ method: 'GET', path: `${V3}/conferences/55765028992`, row: 'conference-get-not-found-404' }],
    async (dev) => {
      await expectFailure(dev, 'invite', { id: '55765028992', user_id: 'ivanov' }, 'no_such_conference');
      expectSent(dev, 'conference-get-not-found-404');
      expectNotSent(dev, 'POST', `${V3}/conferences/55765028992/participants`);
    },
  ),
  controlCase(
    'v3',
    'v3-invite-server-error',
    ['server-error-500'],
    [running('v3'), { method: 'POST', path: `${V3}/conferences/${ID}/participants`, row: 'server-error-500' }],
    async (dev) => {
      await expectFailure(dev, 'invite', { id: ID, user_id: 'ivanov' }, 'server_error');
      // The same request as the invite row; the server answered it with a 500.
      expectSent(dev, 'invite-v3-200');
    },
  ),
  // ---- v3: the live participant list, and disconnect (POST /users/{id}/disconnect after the list shows the participant)
  controlCase(
    'v3',
    'v3-participants',
    ['participants-v3-200'],
    [{ method: 'GET', path: `${V3}/conferences/${ID}/participants`, row: 'participants-v3-200' }],
    async (dev) => {
      const out = await act(dev, 'participants', { id: ID });
      expect(out).toEqual({ ok: true, result: { participants: [{ id: 'ivanov@tcs.example', name: 'Ivanov' }] } });
      expectSent(dev, 'participants-v3-200');
    },
  ),
  controlCase(
    'v3',
    'v3-disconnect',
    ['participants-v3-200', 'disconnect-v3-200'],
    [
      running('v3'),
      { method: 'GET', path: `${V3}/conferences/${ID}/participants`, row: 'participants-v3-200' },
      { method: 'POST', path: `${V3}/users/ivanov/disconnect`, row: 'disconnect-v3-200' },
    ],
    async (dev) => {
      const out = await act(dev, 'disconnect', { id: ID, participant: 'ivanov@tcs.example' });
      expect(out).toEqual({
        ok: true,
        result: { conference: ID, participant: 'ivanov@tcs.example', user_id: 'ivanov', scope: 'server_session' },
      });
      expectSent(dev, 'participants-v3-200');
      expectSent(dev, 'disconnect-v3-200');
    },
  ),
  controlCase(
    'v3',
    'v3-disconnect-not-listed',
    ['participants-v3-200'],
    [running('v3'), { method: 'GET', path: `${V3}/conferences/${ID}/participants`, row: 'participants-v3-200' }],
    async (dev) => {
      await expectFailure(dev, 'disconnect', { id: ID, participant: 'petrova@tcs.example' }, 'not_in_conference');
      expectNotSent(dev, 'POST', `${V3}/users/petrova/disconnect`);
    },
  ),
  controlCase(
    'v3',
    'v3-disconnect-user-not-found',
    ['user-not-found-404'],
    // Listed a moment ago, deleted since: the server no longer knows the user.
    [
      running('v3'),
      { method: 'GET', path: `${V3}/conferences/${ID}/participants`, row: 'participants-v3-200' },
      { method: 'POST', path: `${V3}/users/ivanov/disconnect`, row: 'user-not-found-404' },
    ],
    async (dev) => {
      await expectFailure(dev, 'disconnect', { id: ID, participant: 'ivanov@tcs.example' }, 'no_such_user');
      // The row's request (POST /users/{id}/disconnect, no body), for this participant's user.
      expectSent(dev, 'disconnect-v3-200');
    },
  ),
  controlCase(
    'v3',
    'v3-records',
    ['records-v3-200'],
    [{ method: 'GET', path: `${V3}/conferences/${ID}/records`, row: 'records-v3-200' }],
    async (dev) => {
      const out = await act(dev, 'recordings', { id: ID });
      expect(out).toEqual({
        ok: true,
        result: {
          conference: ID,
          recordings: [
            {
              name: 'record.mkv',
              size_bytes: 8487982,
              started_at: null,
              stopped_at: null,
              created_at: '2020-10-22T20:49:22.000Z',
              download_url: 'https://tcs.example/api/v3/conferences/5576502892/records/record.mkv/download',
            },
          ],
        },
      });
      expectSent(dev, 'records-v3-200');
    },
  ),
  // ---- v4: invite, participants (live only), recording start/stop, an expired token
  controlCase(
    'v4',
    'v4-invite',
    ['conferences-v4-200', 'conference-v4-200', 'invite-v4-204'],
    [running('v4'), { method: 'POST', path: `${V4}/conferences/${ID}/invite`, row: 'invite-v4-204' }],
    async (dev) => {
      const out = await act(dev, 'invite', { id: ID, user_id: 'ivanov' });
      expect(out).toEqual({ ok: true, result: { conference: ID, user_id: 'ivanov', invited: true } });
      expectSent(dev, 'conference-v4-200');
      const sent = expectSent(dev, 'invite-v4-204');
      expect(sent.headers.authorization).toBe(`Bearer ${TOKEN_VALUE}`);
      expect(sent.query.has('access_token')).toBe(false);
      // v4 documents no per-conference removal: refused before anything is sent.
      const before = server(dev).requests.length;
      await expectFailure(dev, 'disconnect', { id: ID, participant: 'ivanov@tcs.example' }, 'unsupported');
      expect(server(dev).requests.length).toBe(before);
    },
  ),
  controlCase(
    'v4',
    'v4-participants',
    ['participants-v4-200'],
    [{ method: 'GET', path: `${V4}/conferences/${ID}/participants`, row: 'participants-v4-200' }],
    async (dev) => {
      const out = await act(dev, 'participants', { id: ID });
      expect(out).toEqual({ ok: true, result: { participants: [{ id: 'ivanov@tcs.example', name: 'Ivanov' }] } });
      // "Who is in a conference now": v4 lists everyone who was connected unless is_in_conf=true.
      expectSent(dev, 'participants-v4-200');
    },
  ),
  controlCase(
    'v4',
    'v4-recording-start-stop',
    ['recording-start-v4-204'],
    [
      running('v4'),
      { method: 'POST', path: `${V4}/conferences/${ID}/recordings/start`, row: 'recording-start-v4-204' },
      // stop_recording.py is the same form as start (the row's citation).
      { method: 'POST', path: `${V4}/conferences/${ID}/recordings/stop`, row: 'recording-start-v4-204' },
    ],
    async (dev) => {
      expect(await act(dev, 'recording', { id: ID, on: true })).toEqual({
        ok: true,
        result: { conference: ID, recording: true },
      });
      expectSent(dev, 'recording-start-v4-204');
      expect(await act(dev, 'recording', { id: ID, on: false })).toEqual({
        ok: true,
        result: { conference: ID, recording: false },
      });
      const stop = server(dev).requests.filter((r) => r.path === `${V4}/conferences/${ID}/recordings/stop`);
      expect(stop.map((r) => [r.method, r.body])).toEqual([['POST', undefined]]);
    },
  ),
  controlCase(
    'v4',
    'v4-recordings',
    ['recordings-v4-200'],
    [{ method: 'GET', path: `${V4}/conferences/${ID}/recordings`, row: 'recordings-v4-200' }],
    async (dev) => {
      const out = await act(dev, 'recordings', { id: ID });
      expect(out).toEqual({
        ok: true,
        result: {
          conference: ID,
          recordings: [
            {
              name: '5576502892_1.mp4',
              size_bytes: 1048576,
              started_at: '2026-12-06T07:00:00.000Z',
              stopped_at: '2026-12-06T07:30:00.000Z',
              created_at: null,
              download_url: 'https://tcs.example/api/v4/conferences/5576502892/records/5576502892_1.mp4/download',
            },
          ],
        },
      });
      expectSent(dev, 'recordings-v4-200');
    },
  ),
  controlCase(
    'v4',
    'v4-recording-token-invalid',
    ['token-invalid-v4-401'],
    [running('v4'), { method: 'POST', path: `${V4}/conferences/${ID}/recordings/start`, row: 'token-invalid-v4-401' }],
    async (dev) => {
      const tokens = () => server(dev).requests.filter((r) => r.path === TOKEN_PATH).length;
      const before = tokens();
      await expectFailure(dev, 'recording', { id: ID, on: true }, 'token_invalid');
      // As TrueConf's MCP client does: one new token and one retry on a 401, then give up.
      expect(tokens()).toBe(before + 1);
      expect(server(dev).requests.filter((r) => r.path === `${V4}/conferences/${ID}/recordings/start`)).toHaveLength(2);
      expectSent(dev, 'token-invalid-v4-401');
    },
  ),
];

/**
 * Control rows for requests the driver never makes: it offers no single-participant
 * read and no single-record read (docs/drivers/tcs.md, "Conformance").
 * Listed here so a row added to the table must either get a driver case above or be named here.
 */
const NOT_SENT_BY_DRIVER: Row[] = ['participant-v3-200', 'participant-not-found-404', 'record-not-found-404'];

/** The control rows of the table (everything after the calendar rows). */
const CONTROL_ROWS = (Object.keys(T) as Row[]).filter(
  (r) =>
    ![
      'token-200',
      'token-invalid-grant',
      'conferences-200',
      'token-expired-403',
      'conference-not-found-404',
      'run-200',
      'server-error-500',
    ].includes(r),
);

describe('tcs control rows: each is replayed to the driver or named as a request it never sends', () => {
  it('covers every control row', () => {
    const replayed = new Set(cases.flatMap((c) => c.rows));
    const missing = CONTROL_ROWS.filter((r) => !replayed.has(r) && !NOT_SENT_BY_DRIVER.includes(r));
    expect(missing).toEqual([]);
    for (const r of NOT_SENT_BY_DRIVER)
      expect(replayed.has(r), `${r} is replayed now: drop it from NOT_SENT_BY_DRIVER`).toBe(false);
  });

  it('a recordings answer without a list is a server_error, not an empty list', () => {
    expect(() => parseRecordings({ error: 'x' })).toThrow(expect.objectContaining({ failure: 'server_error' }));
    expect(parseRecordings({ records: [{ size: '1' }, { name: 'a.mkv', size: 'big' }] })).toMatchObject([
      { name: 'a.mkv', size_bytes: null },
    ]);
  });

  it('reads each row request (method, path, named query values, body)', () => {
    expect(rowRequest(T['invite-v3-200'])).toEqual({
      method: 'POST',
      path: '/api/v3.11/conferences/5576502892/participants',
      query: {},
      body: { participant_id: 'ivanov' },
    });
    expect(rowRequest(T['participants-v4-200'])).toMatchObject({ query: { is_in_conf: 'true' }, body: undefined });
    expect(rowRequest(T['forbidden-403']).body).toEqual({ participant_id: 'ivanov' });
    for (const r of CONTROL_ROWS) expect(() => rowRequest(T[r])).not.toThrow();
  });
});

describeDriverConformance('tcs', T, cases, knownControlGaps);
