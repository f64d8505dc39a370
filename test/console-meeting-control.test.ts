// The console's meeting view in chromium against real backends: a TrueConf
// Server emulator (API v3.11) with a running conference, the Twilio stand-in,
// an SMTP server in the test process and meeting tracking. Invite, dial (a
// busy callback becomes an interruption on the timeline), record (refused on
// v3, shown with its reason), remove, and a code sent by e-mail that binds an
// unknown joiner. The event list is read once and then only what is new.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcsEmulator } from '../drivers/tcs/simulator.js';
import type { TrackingFeature } from '../src/tracking/index.js';
import { buildConsoleToTemp, featuresServing, launchChromium, SCREENSHOTS, until } from './console-helpers.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { codeAlone } from './support/code-leak.js';
import { codeIn, type SmtpSink, startSmtpSink } from './support/smtp-sink.js';
import { TwilioStandin } from './support/twilio-standin.js';

const PASSWORD = 'Tcs-console-Pa55';
const FROM = '+15005550006';
const START_S = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60;

let emu: TcsEmulator;
let standin: TwilioStandin;
let sink: SmtpSink;
let t: TestAgent;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let buildDir: string;
let dir: string;

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  emu = new TcsEmulator({
    users: { room101: PASSWORD },
    conferences: [
      {
        id: 'review',
        topic: 'Design review',
        owner: 'room101@tcs.test',
        schedule: { type: 1, start_time: START_S, duration: 3600, time_offset: 0 },
        state: 'running',
        invitations: [
          { id: 'petrova@tcs.test', display_name: 'Anna Petrova' },
          { id: 'room101@tcs.test', display_name: 'Room 101' },
        ],
      },
    ],
  });
  const emuUrl = await emu.start();
  standin = await TwilioStandin.start({ ownedNumbers: [FROM] });
  sink = await startSmtpSink();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-control-'));
  buildDir = await buildConsoleToTemp();
  t = await startTestAgent(
    `[devices.tcs]\ndriver = "tcs"\nconnectionString = "server=${emuUrl}; user=room101; password=\${TCS_PASSWORD}"\n` +
      'api_version = "v3.11"\nrequest_timeout_ms = 5000\n\n' +
      '[calendar]\nsources = ["tcs"]\n\n' +
      '[tracking]\npublish_delay_ms = 50\n\n' +
      `[twilio]\naccount_sid = "${standin.accountSid}"\nauth_token = "\${TWILIO_AUTH_TOKEN}"\nfrom = "${FROM}"\n` +
      `api_base_url = "${standin.baseUrl}"\npublic_url = "https://room-101.example.com:8443"\n` +
      'dial_in_number = "+493012345678"\ndial_in_pin = "4711"\n\n' +
      '[identity]\n\n' +
      `[identity.smtp]\nserver = "127.0.0.1"\nport = ${sink.port}\nfrom = "Room 101 <room101@example.com>"\ntimeout_ms = 10000\n`,
    {
      dir,
      features: featuresServing(buildDir),
      env: { ...process.env, TCS_PASSWORD: PASSWORD, TWILIO_AUTH_TOKEN: standin.authToken },
    },
  );
  const tracking = t.agent.ctx.feature<TrackingFeature>('tracking') as TrackingFeature;
  tracking.schedule({
    id: 'review',
    title: 'Design review',
    roster: [{ person: 'erin', role: 'expert', contacts: ['+15005550199', 'mailto:erin@example.com'] }],
  });
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await standin?.close();
  await sink?.close();
  await emu?.stop();
  if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
});

async function post(events: unknown[]): Promise<void> {
  const res = await fetch(`${t.url}/hooks/conference`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
}

describe('console meeting view: in-meeting control, interruptions and codes', () => {
  it('invites, dials, records, removes and binds a joiner by code from the page', async () => {
    const now = Date.now();
    await post([
      { event: 'conf.create.succ', id: 'review', begin_time: now - 120_000, user_data: { meeting: 'review' } },
      { event: 'conf.joined', id: 'review', call_id: 'c-room', part_uri: 'room101@tcs.test', join_time: now - 110_000 },
    ]);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(15_000);
    // Count what the page asks of meetings.events.
    const eventCalls: Record<string, unknown>[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', (f) => {
        const text = typeof f.payload === 'string' ? f.payload : f.payload.toString();
        if (text.includes('"meetings.events"')) eventCalls.push((JSON.parse(text) as { params: Record<string, unknown> }).params);
      }),
    );
    await page.goto(t.url);
    await page.fill('input[name=token]', TOKENS.operator);
    await page.click('button[type=submit]');
    await page.click('ul.meetings button:has-text("Design review")');
    await page.waitForSelector('[data-meeting="review"] [data-participant="room101@tcs.test"]');

    // Invite by TrueConf id: the emulator sees the user join.
    await page.selectOption('[data-testid="invite-by"]', 'user_id');
    await page.fill('[data-testid="invitee"]', 'petrova@tcs.test');
    await page.click('[data-testid="invite"]');
    await page.waitForSelector('[data-testid="control-result"]:has-text("invited petrova@tcs.test")');
    expect((emu.participants.review ?? []).map((p) => p.id)).toContain('petrova@tcs.test');

    // Record: TrueConf API v3 has no recording call; the refusal is shown with its reason.
    await page.click('[data-testid="record-on"]');
    await page.waitForSelector('.notices .notice-error:has-text("not supported on TrueConf API v3")');

    // Dial erin: Twilio places the call; a busy callback is an interruption on the timeline and in the list.
    await page.selectOption('[data-testid="dial-by"]', 'person');
    await page.fill('[data-testid="callee"]', 'erin');
    await page.click('[data-testid="dial"]');
    await page.waitForSelector('[data-testid="control-result"]:has-text("dialling erin")');
    const call = standin.onlyCall();
    expect(call.to).toBe('+15005550199');
    await standin.playCall(call.sid, { outcome: 'busy', deliverTo: t.url });
    await page.waitForSelector('.interruptions li[data-interruption-kind="dial_failed"][data-open="true"]');
    await page.waitForSelector('[data-testid="timeline"] [data-interruption="dial_failed"]');
    expect(await page.textContent('.interruptions')).toContain('erin');

    // Petrova's call reaches tracking; remove her from the page: TrueConf ends her session.
    await post([{ event: 'conf.joined', id: 'review', call_id: 'c-pet', part_uri: 'petrova@tcs.test', join_time: Date.now() }]);
    await page.waitForSelector('[data-participant="petrova@tcs.test"]');
    await page.click('[data-testid="remove-petrova@tcs.test"]');
    await until(
      () => (emu.participants.review ?? []).some((p) => p.id === 'petrova@tcs.test' && p.leave_time != null),
      'petrova disconnected on the TrueConf side',
    );

    // An unknown phone joins (the agent's own Twilio number: the conference cannot tell who it is).
    await post([{ event: 'conf.joined', id: 'review', call_id: 'c-phone', part_uri: '+7999', join_time: Date.now() }]);
    const row = page.locator('[data-participant="+7999"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('unmatched');
    await page.click('[data-testid="verify-+7999"]');
    await page.fill('[data-testid="verify-form-+7999"] [data-testid="code-person"]', 'erin');
    await page.selectOption('[data-testid="verify-form-+7999"] [data-testid="code-channel"]', 'email');
    await page.click('[data-testid="verify-form-+7999"] [data-testid="send-code"]');
    await page.waitForSelector('[data-testid="code-sent"]');
    await until(() => sink.mails.length > 0, 'the code e-mail');
    const code = codeIn(sink.mails[0].raw);
    expect(await page.textContent('#meeting')).not.toMatch(codeAlone(code));
    await page.fill('[data-testid="verify-form-+7999"] [data-testid="code"]', code);
    await page.click('[data-testid="verify-form-+7999"] [data-testid="verify-code"]');
    // The joiner is erin now, verified by code; the dial interruption closes (erin is connected).
    await page.waitForSelector('[data-participant="erin"] [data-testid="matched-by-code"]');
    await page.waitForSelector('.interruptions li[data-interruption-kind="dial_failed"][data-open="false"]');
    expect(await page.textContent('[data-meeting="review"] .events')).toContain('identity.bound');
    await page.locator('#meeting').screenshot({ path: path.join(SCREENSHOTS, 'meeting-control.png') });

    // The log was read whole once; every later read asked only for what was new.
    const forReview = eventCalls.filter((p) => p.id === 'review');
    expect(forReview.filter((p) => p.after_seq === undefined)).toHaveLength(1);
    expect(forReview.length).toBeGreaterThan(1);
    expect(forReview.slice(1).every((p) => typeof p.after_seq === 'number')).toBe(true);
    await page.close();
  }, 120_000);
});
