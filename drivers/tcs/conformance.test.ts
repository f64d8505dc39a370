// TrueConf Server conformance (issue 17): the rows of conformance.ts (a)
// against our emulator over real HTTP, (b) against the driver inside a real
// agent, with a scripted HTTP server answering the rows.
import { afterAll, describe, expect, it } from 'vitest';
import { checkTable, type DriverCase, describeDriverConformance, online } from '../../test/support/conformance.js';
import { HttpPeer, type HttpRule, parseAnswer } from '../../test/support/conformance-http.js';
import { knownDriverGaps, oneTimeConference, tcsTable as T } from './conformance.js';
import { TcsEmulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

async function call(url: string, method: string, body?: unknown) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(url, { method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
const want = (row: keyof typeof T) => {
  const a = parseAnswer(T[row].reply);
  return { status: a.status, body: JSON.parse(a.body) as Record<string, unknown> };
};

describe('tcs: emulator against the documentation', () => {
  const emu = new TcsEmulator({ users: { room101: 'pw' }, conferences: [oneTimeConference()] });
  afterAll(() => emu.stop());

  it('token, wrong credentials, conference list envelope, expired token 403, unknown conference 404, run', async () => {
    const base = await emu.start();
    const grant = { grant_type: 'password', username: 'room101', password: 'pw', client_id: 'trueconf_server_users' };
    const tok = await call(`${base}/oauth2/v1/token`, 'POST', grant);
    expect(tok.status).toBe(want('token-200').status);
    expect(tok.body).toMatchObject({ access_token: expect.any(String), expires_in: expect.any(Number), token_type: 'Bearer' });
    const bad = await call(`${base}/oauth2/v1/token`, 'POST', { ...grant, password: 'wrong' });
    expect(bad).toMatchObject(want('token-invalid-grant'));
    const access = tok.body.access_token as string;
    const list = await call(`${base}/api/v3.11/conferences?access_token=${access}&page_id=0`, 'GET');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ conferences: [expect.objectContaining({ id: '5576502892' })], next_page_id: -1 });
    emu.expireAllTokens();
    const expired = await call(`${base}/api/v3.11/conferences?access_token=${access}`, 'GET');
    expect(expired.status).toBe(403);
    expect(JSON.stringify(expired.body)).toContain('"reason":"accessTokenInvalid"');
    const fresh = (await call(`${base}/oauth2/v1/token`, 'POST', grant)).body.access_token as string;
    const missing = await call(`${base}/api/v3.11/conferences/55765028992/run?access_token=${fresh}`, 'POST');
    expect(missing.status).toBe(404);
    expect(JSON.stringify(missing.body)).toContain('"reason":"conferenceNotFound"');
    const run = await call(`${base}/api/v3.11/conferences/5576502892/run?access_token=${fresh}`, 'POST');
    expect(run).toMatchObject(want('run-200'));
  });
});

const answer = (row: keyof typeof T) => {
  const a = parseAnswer(T[row].reply);
  return { status: a.status, headers: a.headers, body: a.body };
};
const rule = (method: string, path: RegExp, row: keyof typeof T, once = false): HttpRule => ({
  when: (r) => r.startsWith(`${method} `) && path.test(r.slice(method.length + 1)),
  answer: answer(row),
  once,
});
const TOKEN = /^\/oauth2\/v1\/token$/;
const LIST = /^\/api\/v3\.11\/conferences\?/;
const peer = (rules: HttpRule[]) => () => new HttpPeer(rules).start();
const config = (p: { port: number }) => ({
  connectionString: `server=http://127.0.0.1:${p.port}; user=room101; password=tcs-secret-pw`,
  poll_interval_s: 300,
  request_timeout_ms: 2000,
  time_zone: 'UTC',
});
const events = (d: { state: Record<string, { value: unknown }> }) =>
  ((d.state.calendar?.value as { events?: unknown[] } | undefined)?.events ?? []).length;
const tokenRequests = (p: unknown) => (p as HttpPeer).received.filter((r) => r.startsWith('POST /oauth2')).length;

const cases: DriverCase[] = [
  {
    id: 'token-then-conferences',
    rows: ['token-200', 'conferences-200'],
    peer: peer([rule('POST', TOKEN, 'token-200'), rule('GET', LIST, 'conferences-200')]),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(events(d)).toBe(1);
    },
  },
  {
    id: 'wrong-password-is-auth-failure',
    rows: ['token-invalid-grant'],
    peer: peer([rule('POST', TOKEN, 'token-invalid-grant')]),
    config,
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'auth_failure', 'auth_failure');
      expect(d.status.message).toContain('InvalidCredentials');
      expect(JSON.stringify(d.status)).not.toContain('tcs-secret-pw');
    },
  },
  {
    id: 'expired-token-403-refetches-once',
    rows: ['token-expired-403', 'token-200'],
    peer: peer([
      rule('POST', TOKEN, 'token-200'),
      rule('GET', LIST, 'token-expired-403', true),
      rule('GET', LIST, 'conferences-200'),
    ]),
    config,
    run: async (dev) => {
      const d = await online(dev);
      expect(events(d)).toBe(1);
      expect(tokenRequests(dev.peer)).toBe(2);
    },
  },
  {
    // The server answered: reachable, not serving — `error`, not `offline` (that is silence), retried on the backoff.
    id: 'server-error-is-error',
    rows: ['server-error-500'],
    peer: peer([rule('POST', TOKEN, 'token-200'), rule('GET', LIST, 'server-error-500')]),
    config,
    run: async (dev) => {
      const d = await dev.until((r) => r.status.status === 'error', 'error');
      expect(d.status.message).toContain('500');
    },
  },
  {
    id: 'run-and-unknown-conference',
    rows: ['run-200', 'conference-not-found-404'],
    peer: peer([
      rule('POST', TOKEN, 'token-200'),
      rule('GET', LIST, 'conferences-200'),
      rule('POST', /^\/api\/v3\.11\/conferences\/5576502892\/run\?/, 'run-200'),
      rule('POST', /^\/api\/v3\.11\/conferences\/55765028992\/run\?/, 'conference-not-found-404'),
    ]),
    config,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('run', { id: '5576502892' })).toMatchObject({ ok: true, result: { state: 'running' } });
      const out = await dev.action('run', { id: '55765028992' });
      expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect(out.ok ? '' : out.message).toContain('conferenceNotFound');
    },
  },
];

describeDriverConformance('tcs', T, cases, knownDriverGaps);
