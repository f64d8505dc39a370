// Verification codes by SMS: real agents sending through the Twilio Messages
// API to the Twilio stand-in (test/support/twilio-standin.ts, written from
// docs/twilio.md by another engineer). The code reaches the stand-in's message
// body and nothing else; Twilio's refusals come back with their reason.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackingFeature } from '../src/tracking/index.js';
import { createLogger } from '../src/util/logger.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { codeAlone } from './support/code-leak.js';
import { TwilioStandin } from './support/twilio-standin.js';

const FROM = '+15550001111';
let twilio: TwilioStandin;
let other: TwilioStandin;
const agents: TestAgent[] = [];
const logLines: string[] = [];

function codeOf(body: string): string {
  const m = /verification code for .* is (\d+)\./.exec(body);
  if (!m?.[1]) throw new Error(`no code in "${body}"`);
  return m[1];
}

/** An agent whose [twilio] points at `standin` with `token`; its log is kept. */
async function agentFor(standin: TwilioStandin, token: string): Promise<{ t: TestAgent; op: RpcTestClient }> {
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  );
  const t = await startTestAgent(
    '[tracking]\npublish_delay_ms = 0\n\n[identity]\n\n' +
      `[twilio]\naccount_sid = "${standin.accountSid}"\nauth_token = "\${TWILIO_AUTH_TOKEN}"\nfrom = "${FROM}"\n` +
      `api_base_url = "${standin.baseUrl}"\n`,
    { logger, env: { ...process.env, TWILIO_AUTH_TOKEN: token } },
  );
  agents.push(t);
  (t.agent.ctx.feature<TrackingFeature>('tracking') as TrackingFeature).schedule({
    id: 'sms-1',
    title: 'Expert call',
    roster: [
      { person: 'alice', role: 'expert', contacts: ['alice@example.com', 'tel:+1 (555) 123-0001'] },
      { person: 'dave', role: 'client', contacts: ['0301234567'] },
    ],
  });
  return { t, op: await t.connect(TOKENS.operator) };
}

beforeAll(async () => {
  twilio = await TwilioStandin.start({ ownedNumbers: [FROM] });
  other = await TwilioStandin.start({ ownedNumbers: ['+15559999999'] });
}, 30_000);

afterAll(async () => {
  for (const t of agents) await t.stop();
  await twilio?.close();
  await other?.close();
});

describe('identity.issue by SMS', () => {
  it('posts To/From/Body to Messages.json with Basic auth; the code in the body verifies', async () => {
    const { op } = await agentFor(twilio, twilio.authToken);
    const r = await op.call<Record<string, unknown>>('identity.issue', { meeting: 'sms-1', person: 'alice', channel: 'sms' });
    expect(r).toMatchObject({ meeting: 'sms-1', person: 'alice', channel: 'sms', sent_to: '+15*******01' });
    expect(twilio.messages).toHaveLength(1);
    const msg = twilio.messages[0];
    expect(msg?.to).toBe('+15551230001');
    expect(msg?.from).toBe(FROM);
    const code = codeOf(msg?.body ?? '');
    expect(code).toMatch(/^\d{6}$/);
    expect(msg?.body).toContain('"Expert call"');
    const req = twilio.requests.at(-1);
    expect(req).toMatchObject({ method: 'POST', authUser: twilio.accountSid, status: 201 });
    expect(req?.path).toBe(`/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`);
    expect(req?.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(JSON.stringify(r)).not.toMatch(codeAlone(code));

    const v = await op.call('identity.verify', { meeting: 'sms-1', code, participant: 'tel:+15551230001' });
    expect(v).toMatchObject({ person: 'alice', participant: 'tel:+15551230001' });
    const log = logLines.join('');
    expect(log).not.toMatch(codeAlone(code));
    expect(log).not.toContain(twilio.authToken);
  });

  it('a person without an E.164 number gets no SMS: INVALID_PARAMS naming what is missing', async () => {
    const { op } = await agentFor(twilio, twilio.authToken);
    const before = twilio.requests.length;
    const r = await op.request('identity.issue', { meeting: 'sms-1', person: 'dave', channel: 'sms' });
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toMatch(/"dave" has no phone number in E\.164 form/);
    expect(twilio.requests.length).toBe(before);
  });

  it("Twilio's refusal of the sender (21606) comes back as INVALID_PARAMS with its reason, and that code is dead", async () => {
    const { t, op } = await agentFor(other, other.authToken);
    const r = await op.request('identity.issue', { meeting: 'sms-1', person: 'alice', channel: 'sms' });
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toMatch(/^SMS not sent: Twilio Messages: HTTP 400 error 21606/);
    expect(r.error?.data).toMatchObject({ reason: 'not_sent' });
    const rows = t.agent.store.db.prepare('SELECT state FROM identity_codes').all();
    expect(rows).toEqual([{ state: 'failed' }]);
  });

  it('wrong credentials (401, 20003): UNAVAILABLE saying what to check, without the token', async () => {
    const wrongToken = 'wrong-twilio-token-5f4e3d2c1b';
    const { op } = await agentFor(twilio, wrongToken);
    const r = await op.request('identity.issue', { meeting: 'sms-1', person: 'alice', channel: 'sms' });
    expect(r.error?.code).toBe(4503);
    expect(r.error?.message).toMatch(
      /^SMS not sent: Twilio Messages: HTTP 401 error 20003.*check \[twilio\] account_sid and auth_token/,
    );
    expect(JSON.stringify(r)).not.toContain(wrongToken);
    expect(logLines.join('')).not.toContain(wrongToken);
  });
});
