// Dial-out through Twilio (issue 20, item 2) against the Twilio stand-in
// (test/support/twilio-standin.ts, written from docs/twilio.md, not from
// src/twilio): meetings.dial creates the call with the right parameters; the
// stand-in's status callbacks, signed as Twilio signs (a public URL with a port
// and a query string), are stored; a wrong or missing signature is 403 and
// stores nothing; repeats and any order give the same insight; Twilio's errors
// come back as clear JSON-RPC errors; the auth token and the PIN never appear
// in answers, the audit log or the log.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackingFeature } from '../src/tracking/index.js';
import { DialRate } from '../src/twilio/dial.js';
import { portVariants, validTwilioSignature } from '../src/twilio/signature.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { formBody, TwilioStandin, twilioSignature } from './support/twilio-standin.js';

const FROM = '+15005550006';
const PUBLIC = 'https://room-101.example.com:8443';
const DIAL_IN = '+493012345678';
const PIN = '9#*4#*7';
const EXPERT_PHONE = '+15005550199';

let standin: TwilioStandin;
let t: TestAgent;
let op: RpcTestClient;
let admin: RpcTestClient;
const logLines: string[] = [];

const twilioToml = (o: { token?: string; from?: string; maxPerMinute?: number; prefixes?: string[] } = {}) => `
[tracking]

[twilio]
account_sid = "${standin.accountSid}"
auth_token = "${o.token ?? '${TWILIO_AUTH_TOKEN}'}"
from = "${o.from ?? FROM}"
api_base_url = "${standin.baseUrl}"
public_url = "${PUBLIC}"
dial_in_number = "${DIAL_IN}"
dial_in_pin = "${PIN}"
max_dials_per_minute = ${o.maxPerMinute ?? 100}
${o.prefixes ? `allowed_number_prefixes = ${JSON.stringify(o.prefixes)}` : ''}
`;

function schedule(agent: TestAgent, id: string) {
  const tracking = agent.agent.ctx.feature<TrackingFeature>('tracking') as TrackingFeature;
  tracking.schedule({
    id,
    title: 'Consultation',
    start: '2030-01-01T09:00:00Z',
    end: '2030-01-01T10:00:00Z',
    roster: [
      { person: 'client-1', role: 'client', contacts: ['client@example.com'] },
      { person: 'expert-1', role: 'expert', contacts: ['expert@example.com', 'tel:+1 (500) 555-0199'] },
    ],
  });
}

const insight = (id: string) => op.call<Record<string, unknown>>('meetings.get', { id });
const dialEvents = async (id: string) =>
  (await op.call<{ events: { event: string; data: Record<string, unknown> }[] }>('meetings.events', { id })).events.filter(
    (e) => e.event === 'dial.status',
  );

beforeAll(async () => {
  standin = await TwilioStandin.start({ ownedNumbers: [FROM] });
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  t = await startTestAgent(twilioToml(), {
    env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken },
    logger: pino({ level: 'debug' }, sink),
  });
  op = await t.connect(TOKENS.operator);
  admin = await t.connect(TOKENS.admin);
  for (const id of ['M-1', 'M-2', 'M-3', 'M-4', 'M-5', 'F-busy', 'F-failed', 'F-no-answer', 'F-canceled', 'F-completed']) {
    schedule(t, id);
  }
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await standin?.close();
});

describe('meetings.dial', () => {
  it('calls the roster person through the Calls resource: To, From, TwiML that dials in with the PIN, signed-URL callback', async () => {
    const before = standin.calls.size;
    const r = await op.call<{ call_sid: string; status: string; to: string; person: string }>('meetings.dial', {
      meeting: 'M-1',
      person: 'expert-1',
    });
    expect(r).toEqual({
      call_sid: expect.stringMatching(/^CA[0-9a-f]{32}$/),
      status: 'queued',
      to: EXPERT_PHONE,
      person: 'expert-1',
      meeting: 'M-1',
    });
    expect(standin.calls.size).toBe(before + 1);
    const call = standin.calls.get(r.call_sid);
    expect(call).toMatchObject({
      to: EXPERT_PHONE,
      from: FROM,
      url: null,
      statusCallback: `${PUBLIC}/hooks/twilio?meeting=M-1&person=expert-1`,
      statusCallbackMethod: 'POST',
      subscribed: ['initiated', 'ringing', 'answered', 'completed'],
    });
    expect(call?.twiml).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number sendDigits="wwww${PIN}#">${DIAL_IN}</Number></Dial></Response>`,
    );
    expect(call?.params.filter(([k]) => k === 'Timeout')).toEqual([['Timeout', '60']]);
    const req = standin.requests.at(-1);
    expect(req).toMatchObject({ method: 'POST', authUser: standin.accountSid, status: 201 });
    expect(req?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    // the queued call is on the meeting's record before any callback
    expect(await dialEvents('M-1')).toMatchObject([{ data: { call_sid: r.call_sid, status: 'queued', person: 'expert-1' } }]);
    // audited with the cause, without the PIN
    const audit = await admin.call<{ cause: unknown; device: string; action: string; params: unknown; ok: boolean }[]>(
      'audit.list',
      { device: 'twilio', limit: 1 },
    );
    expect(audit[0]).toMatchObject({
      device: 'twilio',
      action: 'dial',
      ok: true,
      cause: { kind: 'api', name: 'operator-client' },
      params: { meeting: 'M-1', person: 'expert-1', number: EXPERT_PHONE },
    });
    expect(JSON.stringify(audit)).not.toContain(PIN);
  });

  it('a number instead of a person, and a per-call dial-in number and PIN', async () => {
    const r = await op.call<{ call_sid: string }>('meetings.dial', {
      meeting: 'M-1',
      number: '+15005550123',
      dial_in_number: '+4940111222',
      dial_in_pin: '55',
    });
    const call = standin.calls.get(r.call_sid);
    expect(call?.to).toBe('+15005550123');
    expect(call?.statusCallback).toBe(`${PUBLIC}/hooks/twilio?meeting=M-1`);
    expect(call?.twiml).toContain('<Number sendDigits="wwww55#">+4940111222</Number>');
  });

  it('clear errors: unknown meeting, not on the roster, no phone, both or neither target, role viewer', async () => {
    const err = async (params: unknown, token?: string) => {
      const c = token ? await t.connect(token) : op;
      return (await c.request('meetings.dial', params)).error;
    };
    expect(await err({ meeting: 'nope', number: '+15005550123' })).toMatchObject({
      code: 4004,
      message:
        'meeting "nope" is not known: looked in the calendar between yesterday and tomorrow (0 meetings and rooms: meeting ids, ' +
        '<source>:<event id>, conference ids / UIDs, room ids) and in meeting tracking (meeting ids and conference ids)',
    });
    expect(await err({ meeting: 'M-1', person: 'ghost' })).toMatchObject({
      code: 4004,
      message: expect.stringContaining('not on the roster'),
    });
    expect(await err({ meeting: 'M-1', person: 'client-1' })).toMatchObject({
      code: -32602,
      message: expect.stringContaining('no phone number'),
    });
    expect(await err({ meeting: 'M-1', person: 'expert-1', number: '+15005550123' })).toMatchObject({ code: -32602 });
    expect(await err({ meeting: 'M-1' })).toMatchObject({ code: -32602, message: 'give exactly one of person or number' });
    expect(await err({ meeting: 'M-1', number: '0301234' })).toMatchObject({ code: -32602 });
    expect(await err({ meeting: 'M-1', number: '+15005550123' }, TOKENS.viewer)).toMatchObject({ code: 4003 });
  });
});

describe('POST /hooks/twilio', () => {
  it('stores each signed status callback (URL with port and query string) deduplicated; completed after in-progress', async () => {
    const { call_sid } = await op.call<{ call_sid: string }>('meetings.dial', { meeting: 'M-2', person: 'expert-1' });
    const got = await standin.playCall(call_sid, { outcome: 'completed', deliverTo: t.url, repeat: [1, 3] });
    expect(got.map((d) => d.httpStatus)).toEqual([200, 200, 200, 200, 200, 200]);
    const stored = await dialEvents('M-2');
    // one row per status, whatever the repeats; the queued row (the agent's own) is timed by Twilio's date_created
    expect(stored.map((e) => e.data.status)).toEqual(['queued', 'initiated', 'ringing', 'in-progress', 'completed']);
    expect(stored.find((e) => e.data.status === 'completed')?.data).toMatchObject({
      call_sid,
      sequence: 3,
      person: 'expert-1',
      number: EXPERT_PHONE,
    });
  });

  it('a wrong or missing signature is 403 and stores nothing', async () => {
    const { call_sid } = await op.call<{ call_sid: string }>('meetings.dial', { meeting: 'M-3', person: 'expert-1' });
    const forged = await standin.playCall(call_sid, { outcome: 'busy', deliverTo: t.url, signWith: 'not-the-auth-token' });
    const unsigned = await standin.playCall(call_sid, { outcome: 'busy', deliverTo: t.url, unsigned: true });
    expect([...forged, ...unsigned].map((d) => d.httpStatus)).toEqual([403, 403, 403, 403]);
    expect((await dialEvents('M-3')).map((e) => e.data.status)).toEqual(['queued']);
    // a body changed after signing, and a query string changed after signing
    const cb = standin.calls.get(call_sid);
    const params = { CallSid: call_sid, CallStatus: 'busy', SequenceNumber: '1', To: EXPERT_PHONE };
    const sig = twilioSignature(standin.authToken, cb?.statusCallback as string, params);
    const post = (query: string, body: Record<string, string>) =>
      fetch(`${t.url}/hooks/twilio?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
        body: formBody(body),
      });
    expect((await post('meeting=M-3&person=expert-1', { ...params, CallStatus: 'completed' })).status).toBe(403);
    expect((await post('meeting=M-4&person=expert-1', params)).status).toBe(403);
    expect((await post('meeting=M-3&person=expert-1', params)).status).toBe(200);
    expect((await dialEvents('M-3')).map((e) => e.data.status)).toEqual(['queued', 'busy']);
  });

  it('repeats and any order give the same insight', async () => {
    const startAt = new Date('2030-01-01T09:10:00Z');
    const a = await op.call<{ call_sid: string }>('meetings.dial', { meeting: 'M-4', person: 'expert-1' });
    const b = await op.call<{ call_sid: string }>('meetings.dial', { meeting: 'M-5', person: 'expert-1' });
    await standin.playCall(a.call_sid, { outcome: 'no-answer', deliverTo: t.url, startAt });
    await standin.playCall(b.call_sid, { outcome: 'no-answer', deliverTo: t.url, startAt, order: [2, 0, 1, 2, 0], repeat: [1] });
    const norm = (i: Record<string, unknown>, id: string, sid: string) =>
      JSON.parse(JSON.stringify(i).replaceAll(id, 'M').replaceAll(sid, 'CA'));
    const ia = norm(await insight('M-4'), 'M-4', a.call_sid);
    const ib = norm(await insight('M-5'), 'M-5', b.call_sid);
    expect(ib).toEqual(ia);
    expect((await dialEvents('M-5')).length).toBe((await dialEvents('M-4')).length);
  });

  it('busy, failed, no-answer and canceled are dial_failed interruptions of the person dialled; completed is none', async () => {
    const startAt = new Date('2030-01-01T09:20:00Z');
    for (const outcome of ['busy', 'failed', 'no-answer', 'canceled', 'completed'] as const) {
      const meeting = `F-${outcome}`;
      const { call_sid } = await op.call<{ call_sid: string }>('meetings.dial', { meeting, person: 'expert-1' });
      // delivered backwards with a repeat: the insight must not care
      await standin.playCall(call_sid, { outcome, deliverTo: t.url, startAt, reverse: true, repeat: [0] });
      const i = (await insight(meeting)) as { interruptions?: { kind: string; participant: string; at: string }[] };
      if (outcome === 'completed') {
        expect(i.interruptions, outcome).toEqual([]);
        continue;
      }
      expect(i.interruptions, outcome).toHaveLength(1);
      expect(i.interruptions?.[0], outcome).toMatchObject({ kind: 'dial_failed', participant: 'expert-1' });
      const final = (await dialEvents(meeting)).find((e) => e.data.status === outcome);
      expect(final?.data.person, outcome).toBe('expert-1');
    }
    // Twilio's ErrorCode / ErrorMessage / SipResponseCode, when sent, are the interruption's reason
    const params = {
      CallSid: `CA${'9f'.repeat(16)}`,
      CallStatus: 'failed',
      SequenceNumber: '1',
      To: EXPERT_PHONE,
      Timestamp: 'Tue, 01 Jan 2030 09:30:00 +0000',
      ErrorCode: '32009',
      ErrorMessage: 'Your TwiML tried to Dial a number that is not allowed',
      SipResponseCode: '404',
    };
    const url = `${PUBLIC}/hooks/twilio?meeting=F-failed&person=expert-2`;
    const r = await fetch(`${t.url}/hooks/twilio?meeting=F-failed&person=expert-2`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(standin.authToken, url, params),
      },
      body: formBody(params),
    });
    expect(r.status).toBe(200);
    const i = (await insight('F-failed')) as { interruptions: { participant: string; reason: string | null }[] };
    expect(i.interruptions.find((x) => x.participant === 'expert-2')?.reason).toBe(
      'failed: Twilio error 32009: Your TwiML tried to Dial a number that is not allowed, SIP 404',
    );
  });

  it('behind a proxy with a path prefix: verified against public_url, not the address it arrived on', async () => {
    const prefixed = await startTestAgent(
      twilioToml().replace(`public_url = "${PUBLIC}"`, 'public_url = "https://gw.example.com/rooms/101/"'),
      { env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken } },
    );
    try {
      schedule(prefixed, 'P-1');
      const params = {
        CallSid: `CA${'ab'.repeat(16)}`,
        CallStatus: 'ringing',
        SequenceNumber: '1',
        Timestamp: 'Tue, 01 Jan 2030 09:00:05 +0000',
      };
      const signed = 'https://gw.example.com/rooms/101/hooks/twilio?meeting=P-1';
      const post = (sig: string) =>
        fetch(`${prefixed.url}/hooks/twilio?meeting=P-1`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-twilio-signature': sig },
          body: formBody(params),
        });
      expect((await post(twilioSignature(standin.authToken, `${prefixed.url}/hooks/twilio?meeting=P-1`, params))).status).toBe(
        403,
      );
      // Twilio has signed with and without the default port: both are accepted
      expect((await post(twilioSignature(standin.authToken, signed.replace('.com/', '.com:443/'), params))).status).toBe(200);
      expect((await post(twilioSignature(standin.authToken, signed, params))).status).toBe(200);
      const c = await prefixed.connect(TOKENS.viewer);
      const evs = (await c.call<{ events: { event: string; time: string }[] }>('meetings.events', { id: 'P-1' })).events;
      expect(evs.filter((e) => e.event === 'dial.status').map((e) => e.time)).toEqual(['2030-01-01T09:00:05.000Z']);
    } finally {
      await prefixed.stop();
    }
  });

  it('bad input after a good signature: no meeting, no CallSid, unknown CallStatus → 400, nothing stored', async () => {
    const send = async (query: string, params: Record<string, string>) => {
      const url = `${PUBLIC}/hooks/twilio${query}`;
      return fetch(`${t.url}/hooks/twilio${query}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(standin.authToken, url, params),
        },
        body: formBody(params),
      });
    };
    const before = (await dialEvents('M-1')).length;
    expect((await send('', { CallSid: `CA${'cd'.repeat(16)}`, CallStatus: 'busy' })).status).toBe(400);
    expect((await send('?meeting=M-1', { CallStatus: 'busy' })).status).toBe(400);
    const odd = await send('?meeting=M-1', { CallSid: `CA${'cd'.repeat(16)}`, CallStatus: 'exploded' });
    expect(odd.status).toBe(400);
    expect(await odd.json()).toMatchObject({ field: 'CallStatus' });
    expect((await dialEvents('M-1')).length).toBe(before);
  });
});

describe('Twilio errors and secrets', () => {
  it('a refused token and a From the account does not own come back as clear errors without the token', async () => {
    const wrong = await startTestAgent(twilioToml({ token: '${TWILIO_AUTH_TOKEN}' }), {
      env: { ...process.env, TWILIO_AUTH_TOKEN: 'f00dfeedf00dfeedf00dfeedf00dfeed' },
    });
    try {
      schedule(wrong, 'W-1');
      const c = await wrong.connect(TOKENS.operator);
      const e = (await c.request('meetings.dial', { meeting: 'W-1', person: 'expert-1' })).error;
      expect(e).toMatchObject({ code: 4503, message: expect.stringContaining('HTTP 401 error 20003') });
      expect(e?.message).toContain('check [twilio] account_sid and auth_token');
      expect(JSON.stringify(e)).not.toContain('f00dfeed');
    } finally {
      await wrong.stop();
    }
    const notOwned = await startTestAgent(twilioToml({ from: '+15005550000' }), {
      env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken },
    });
    try {
      schedule(notOwned, 'W-2');
      const c = await notOwned.connect(TOKENS.operator);
      const e = (await c.request('meetings.dial', { meeting: 'W-2', number: '+15005550123' })).error;
      expect(e).toMatchObject({ code: -32602, message: expect.stringContaining('error 21210'), data: { twilio_code: 21210 } });
    } finally {
      await notOwned.stop();
    }
  });

  it('no answer from Twilio is UNAVAILABLE; without public_url dial-out is refused', async () => {
    const down = await startTestAgent(
      twilioToml().replace(`api_base_url = "${standin.baseUrl}"`, 'api_base_url = "http://127.0.0.1:9"'),
      { env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken } },
    );
    try {
      schedule(down, 'D-1');
      const c = await down.connect(TOKENS.operator);
      expect((await c.request('meetings.dial', { meeting: 'D-1', number: '+15005550123' })).error).toMatchObject({
        code: 4503,
        message: expect.stringContaining('Twilio API did not answer'),
      });
    } finally {
      await down.stop();
    }
    const noPublic = await startTestAgent(twilioToml().replace(`public_url = "${PUBLIC}"\n`, ''), {
      env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken },
    });
    try {
      const c = await noPublic.connect(TOKENS.operator);
      expect((await c.request('meetings.dial', { meeting: 'x', number: '+15005550123' })).error).toMatchObject({
        code: 4503,
        message: expect.stringContaining('public_url'),
      });
      const hook = await fetch(`${noPublic.url}/hooks/twilio?meeting=x`, { method: 'POST' });
      expect(hook.status).toBe(503);
    } finally {
      await noPublic.stop();
    }
  });

  it('the auth token and the PIN appear in no answer, audit row or log line (log at debug)', async () => {
    const audit = JSON.stringify(await admin.call('audit.list', { device: 'twilio', limit: 1000 }));
    const events = JSON.stringify(await op.call('meetings.events', { id: 'M-2' }));
    const log = logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    for (const text of [audit, events, log]) {
      expect(text).not.toContain(PIN);
      for (let i = 0; i + 8 <= standin.authToken.length; i++) expect(text).not.toContain(standin.authToken.slice(i, i + 8));
    }
  });
});

describe('dial rate (pure)', () => {
  it('a sliding minute: the third of 2 per minute waits until the first is 60 s old', () => {
    const r = new DialRate(2);
    expect(r.take(0)).toEqual({ ok: true });
    expect(r.take(10_000)).toEqual({ ok: true });
    expect(r.take(30_000)).toEqual({ ok: false, retryInS: 30 });
    expect(r.take(59_999)).toEqual({ ok: false, retryInS: 1 });
    expect(r.take(60_000)).toEqual({ ok: true });
    expect(r.take(60_001)).toEqual({ ok: false, retryInS: 10 });
  });
});

describe('signature check (pure)', () => {
  it("Twilio's worked example, and the port forms", () => {
    const params: [string, string][] = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+12349013030'],
      ['Digits', '1234'],
      ['From', '+12349013030'],
      ['To', '+18005551212'],
    ];
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(validTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params)).toBe(true);
    expect(validTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url.replace('.com/', '.com:443/'), params)).toBe(true);
    expect(validTwilioSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params.slice(1))).toBe(false);
    expect(validTwilioSignature('12345', undefined, url, params)).toBe(false);
    expect(portVariants('https://a.example:8443/x?y=1')).toEqual(['https://a.example:8443/x?y=1']);
    expect(portVariants('http://a.example/x')).toEqual(['http://a.example/x', 'http://a.example:80/x']);
  });
});

describe('toll-fraud limits', () => {
  it('a number outside allowed_number_prefixes is FORBIDDEN and a dial past max_dials_per_minute TOO_MANY_REQUESTS, before Twilio is asked', async () => {
    const a = await startTestAgent(twilioToml({ maxPerMinute: 2, prefixes: ['+1500555'] }), {
      env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken },
    });
    try {
      schedule(a, 'L-1');
      const c = await a.connect(TOKENS.operator);
      const before = standin.requests.length;
      expect((await c.request('meetings.dial', { meeting: 'L-1', number: '+4930123456' })).error).toMatchObject({
        code: 4003,
        message: '+4930123456 is outside the numbers dial-out may call ([twilio] allowed_number_prefixes: +1500555)',
      });
      expect(standin.requests.length).toBe(before);
      await c.call('meetings.dial', { meeting: 'L-1', person: 'expert-1' });
      await c.call('meetings.dial', { meeting: 'L-1', number: '+15005550123' });
      const third = (await c.request('meetings.dial', { meeting: 'L-1', number: '+15005550123' })).error;
      expect(third).toMatchObject({ code: 4429, message: expect.stringContaining('[twilio] max_dials_per_minute 2') });
      expect(standin.requests.length).toBe(before + 2);
      const audit = await (await a.connect(TOKENS.admin)).call<{ ok: boolean; error: string | null }[]>('audit.list', {
        device: 'twilio',
      });
      expect(audit.map((r) => r.ok)).toEqual([false, true, true, false]);
    } finally {
      await a.stop();
    }
  });
});

describe('config reload', () => {
  it('a changed [twilio] applies without a restart: the next dial and callback use the new token and dial-in', async () => {
    const { loadConfig } = await import('../src/config/load.js');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const other = await TwilioStandin.start({ ownedNumbers: [FROM] });
    const a = await startTestAgent(twilioToml(), { env: { ...process.env, TWILIO_AUTH_TOKEN: standin.authToken } });
    try {
      schedule(a, 'R-1');
      const c = await a.connect(TOKENS.operator);
      const first = await c.call<{ call_sid: string }>('meetings.dial', { meeting: 'R-1', number: '+15005550123' });
      expect(standin.calls.has(first.call_sid)).toBe(true);
      // same file layout, another account and dial-in
      const file = path.join(a.dir, 'api.toml');
      const text = fs
        .readFileSync(file, 'utf8')
        .replace(standin.accountSid, other.accountSid)
        .replace(standin.baseUrl, other.baseUrl)
        .replace(DIAL_IN, '+4940111222');
      fs.writeFileSync(file, text);
      const report = await a.agent.reconfigure(
        loadConfig(file, a.agent.drivers, { ...process.env, TWILIO_AUTH_TOKEN: other.authToken }),
        { from: 'api', who: 'test' },
      );
      expect(report).toMatchObject({ ok: true, features: { restarted: ['twilio'] } });
      const second = await c.call<{ call_sid: string }>('meetings.dial', { meeting: 'R-1', number: '+15005550123' });
      expect(other.calls.get(second.call_sid)?.twiml).toContain('>+4940111222</Number>');
      // callbacks are now checked with the new token: the old account's signature is refused
      const stale = await standin.playCall(first.call_sid, { outcome: 'busy', deliverTo: a.url });
      expect(stale.map((d) => d.httpStatus)).toEqual([403, 403]);
      const fresh = await other.playCall(second.call_sid, { outcome: 'busy', deliverTo: a.url });
      expect(fresh.map((d) => d.httpStatus)).toEqual([200, 200]);
    } finally {
      await a.stop();
      await other.close();
    }
  });
});
