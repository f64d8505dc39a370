// API fuzz with every feature on (issue 16 gaps). test/api-fuzz.test.ts runs
// the shipped demo room, where MQTT sync and alerts, video (no go2rtc binary),
// Twilio dial-out and the identity channels are off or unavailable, so their
// handlers were only ever fuzzed answering "feature off". Here the real CLI
// runs the demo room with [mqtt] on an in-process broker (aedes), video under
// the go2rtc emulator, [twilio] against the Twilio stand-in and
// [identity.smtp] against a real SMTP server, and the same property drives
// those features' methods (and subscribe, whose topics now live) under every
// role with valid and malformed params: every call is answered with a
// documented code, never -32603, and the process lives.
//
// Bounded: FUZZ_RUNS (default 25 cases per method here) sets the size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, fuzzMethods, LANE_TOKENS_TOML, readDevices, runs, TOKENS } from './support/api-fuzz-kit.js';
import { type ChildAgent, startChildAgent } from './support/child-agent.js';
import { FuzzConn } from './support/fuzz-conn.js';
import type { Hints, JsonSchema } from './support/schema-arbitrary.js';
import { type SmtpSink, startSmtpSink } from './support/smtp-sink.js';
import { TwilioStandin } from './support/twilio-standin.js';
import { createAedes, type TestBroker } from './sync-support.js';
import { EMULATOR, freePort } from './video-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Methods of the features the demo room leaves off or unavailable, and subscribe (their topics). */
const FEATURE_METHODS = [
  'alerts.list',
  'video.status',
  'video.streams',
  'video.reload',
  'identity.issue',
  'identity.verify',
  'meetings.dial',
  'subscribe',
];
const casesFor = (m: string) => runs(25) * (m === 'subscribe' ? 2 : 1);

let broker: TestBroker;
let twilio: TwilioStandin;
let smtp: SmtpSink;
let child: ChildAgent;
const hints: Hints = {};
const deviceActions: Record<string, Record<string, JsonSchema>> = {};

beforeAll(async () => {
  broker = await createAedes();
  twilio = await TwilioStandin.start();
  smtp = await startSmtpSink();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-fuzz-features-'));
  const [apiPort, rtspPort, webrtcPort] = [await freePort(), await freePort(), await freePort()];
  const toml = fs
    .readFileSync(path.join(ROOT, 'api.toml'), 'utf8')
    .replace(/^listen = .*$/m, 'listen = "127.0.0.1:0"')
    .replace(/^data_dir = .*$/m, `data_dir = "${path.join(dir, 'data')}"`)
    .replace(/^go2rtc = .*$/m, `go2rtc = "${EMULATOR}"`)
    .replace(/^api_port = .*$/m, `api_port = ${apiPort}`)
    .replace(/^rtsp_port = .*$/m, `rtsp_port = ${rtspPort}`)
    .replace(/^webrtc_port = .*$/m, `webrtc_port = ${webrtcPort}`);
  const on = `
[mqtt]
url = "${broker.url}"
protocol_version = 4

[alerts]
device_offline_after_s = 0

[twilio]
account_sid = "${twilio.accountSid}"
auth_token = "${twilio.authToken}"
from = "+15005550006"
api_base_url = "${twilio.baseUrl}"
public_url = "https://room.example.com"
dial_in_number = "+493012345678"
dial_in_pin = "123456"

[identity.smtp]
server = "127.0.0.1"
port = ${smtp.port}
from = "Room 101 <room101@example.com>"
`;
  for (const key of ['go2rtc', 'api_port', 'rtsp_port', 'webrtc_port']) expect(toml).toMatch(new RegExp(`^${key} = `, 'm'));
  fs.writeFileSync(path.join(dir, 'api.toml'), toml + LANE_TOKENS_TOML + on);
  child = await startChildAgent(path.join(dir, 'api.toml'), {}, 150_000);

  // A meeting to draw names from: identity and dial-out reach past "no such meeting".
  const hook = await fetch(`${child.url}/hooks/conference`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}` },
    body: JSON.stringify({
      event: 'conf.create.succ',
      id: 'fuzz-conf',
      begin_time: Date.now() - 60_000,
      user_data: { meeting: 'M-fuzz' },
    }),
  });
  expect(hook.status).toBeLessThan(300);
  Object.assign(deviceActions, await readDevices(child.url));
  hints.device = Object.keys(deviceActions);
  hints.topics = Object.keys(API.topics);
  hints.meeting = ['M-fuzz'];
  hints.person = ['expert', 'client'];
}, 180_000);

afterAll(async () => {
  await child?.kill('SIGTERM');
  await broker?.close();
  await twilio?.close();
  await smtp?.close();
});

describe('API fuzz with every feature on', () => {
  it('the features are on: alerts answer, video runs under the emulator, the MQTT link is connected', async () => {
    const c = await FuzzConn.open(child.url, TOKENS.admin);
    expect((await c.call('alerts.list', {})).result).toBeDefined();
    const deadline = Date.now() + 20_000;
    let video = (await c.call('video.status', {})).result as { state?: string };
    while (video?.state !== 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      video = (await c.call('video.status', {})).result as { state?: string };
    }
    expect(video?.state).toBe('running');
    // Identity and dial-out answer past "not configured": the SMTP channel and Twilio are there.
    const op = await FuzzConn.open(child.url, TOKENS.operator);
    const issue = await op.call('identity.issue', { meeting: 'M-fuzz', person: 'nobody', channel: 'email' });
    expect(issue.error?.code).toBe(API.errors.NOT_FOUND);
    const dial = await op.call('meetings.dial', { meeting: 'M-fuzz', number: '+15005550123' });
    expect(dial.error, JSON.stringify(dial)).toBeUndefined();
    op.close();
    // The agent's MQTT link is up on the in-process broker.
    while ((broker.instance?.()?.connectedClients ?? 0) < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(broker.instance?.()?.connectedClients).toBeGreaterThanOrEqual(1);
    c.close();
  }, 30_000);

  it(
    "these features' methods: random and malformed params under every role, answered with documented codes, never -32603",
    async () => {
      for (const m of FEATURE_METHODS) expect(Object.keys(API.methods)).toContain(m);
      const failures = await fuzzMethods({ url: child.url, hints, deviceActions }, FEATURE_METHODS, casesFor);
      expect(failures).toEqual([]);
      expect(child.proc.exitCode).toBeNull();
      const c = await FuzzConn.open(child.url, TOKENS.viewer);
      expect((await c.call('system.info', {})).result).toBeDefined();
      c.close();
    },
    60_000 + FEATURE_METHODS.length * casesFor('subscribe') * 200,
  );
});
