// Secrets never leave the agent (issue 16): secrets given as literals in
// api.toml and as ${ENV} values (with ; @ % quotes and unicode) are driven
// through wrong passwords (TrueConf, Extron), bad formats, unreachable
// devices, every WS method and topic snapshot, every HTTP route, token
// refusals and `check-config`, with the log at debug. No secret, and no
// 4-character fragment of one, appears in any answer, status or log line.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SisSimulator } from '../drivers/extron-sis/simulator.js';
import { TcsEmulator } from '../drivers/tcs/simulator.js';
import type { TrackingFeature } from '../src/tracking/index.js';
import { FROM_SOURCE } from './support/child-agent.js';
import { createAedes, type TestBroker } from './sync-support.js';
import { zoomSignature } from '../src/tracking/zoom.js';
import { type LoggedAgent, startLoggedAgent } from './support/logged-agent.js';
import { formBody, TwilioStandin, twilioSignature } from './support/twilio-standin.js';

// Each secret is unlike any text the agent writes, so any 4-character window found is a leak.
// Tokens travel in HTTP headers, which carry no characters above U+00FF: theirs are ASCII.
const ENV_SECRETS = {
  TCS_PASSWORD: "Jq;7@k%Vx'9ÿ€Rw", // quoted in the connection string; the server expects another one
  TCS_OK_PASSWORD: 'Hn8;e@j%Rt2ÿ®Vb', // right: this device gets tokens (v3: in the query), then server errors
  TCS_BAD_PASSWORD: 'Mz;4@t%Hy"2ñ£Ku', // unquoted: breaks the connection string
  EXTRON_PASSWORD: 'Gx%5;d@Bw"7ä¢Tn', // wrong at the switcher
  RTSP_PASSWORD: 'Yr3@p%Qe;6ø¤Jc', // inside a camera URL
  ZOOM_SECRET: 'Zt5"r@q%W;8é§Gb',
  MQTT_PASSWORD: 'Mq7;b@w%X"4ü¶Lh', // refused by the broker
  SLACK_SECRET: 'Sk3Hd9Qw2Ej8Zx', // the secret part of a Slack webhook URL (URL-safe)
  TWILIO_TOKEN: 'Tw7;q@x%R"2kLp9~', // the Twilio auth token: refused by the stand-in, signs the callbacks
  TWILIO_PIN: '8#*31*#70#*', // the conference PIN, inside the call's TwiML
};
const LITERAL_SECRETS = {
  admin: 'Ak9;Xv@2%Lm"Qz7#',
  operator: "Oq4@Rf%8;Nt'Wb3~",
  viewer: 'Vw6%Hs;1@Kd"Pe9^',
  ingest: 'Ig2;Ub@5%Cy"Fo8|',
};
// Literal secrets held in URL-valued keys: the URL's path, userinfo or query is the credential.
const LITERAL_URL_SECRETS = {
  icsPath: 'Ic5Rk8Wm2Tq7Yh', // an Outlook published calendar's secret path
  streamQuery: 'Sq4Nf7Lb1Gd9Vc', // a camera URL's ?token=
  slackPath: 'Wh6Jy3Pc8Mv1Dk', // a Slack webhook's path
  mqttUserinfo: 'Mu2Xe9Kh4Rb7Ns', // an MQTT URL's password
  queryToken: 'Qt8Gv5Cn3Zw6Hj', // a broker URL's ?access_token=
};
const ALL = [...Object.values(ENV_SECRETS), ...Object.values(LITERAL_SECRETS), ...Object.values(LITERAL_URL_SECRETS)];

/** Every 4-character window of every secret that appears in `text`. */
function leaks(text: string, secrets: string[] = ALL): string[] {
  const found = new Set<string>();
  for (const s of secrets)
    for (let i = 0; i + 4 <= s.length; i++) if (text.includes(s.slice(i, i + 4))) found.add(s.slice(i, i + 4));
  return [...found];
}

const toml = (s: string) => JSON.stringify(s); // a TOML basic string is a JSON string for these characters
const TOKENS_TOML = Object.entries(LITERAL_SECRETS)
  .map(([role, token]) => `[[agent.tokens]]\nname = "${role}-client"\ntoken = ${toml(token)}\nrole = "${role}"\n`)
  .join('\n');

let broker: TestBroker;
const mqttPasswordsTried: string[] = [];
let tcs: TcsEmulator;
let sis: SisSimulator;
let downPort: number;
let twilio: TwilioStandin;
let t: LoggedAgent;
let configBody: string;
const seen: string[] = [];

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  tcs = new TcsEmulator({
    users: { room101: 'the-server-expects-this-one', room102: ENV_SECRETS.TCS_OK_PASSWORD },
    // Issued tokens are searched for in the log 4 characters at a time: random hex matched digits of
    // a timestamp now and then (a flaky failure). Letters no log word, number or hex id is made of:
    // not m, q, s, t either (the log says "mqtt", and may say "rtsp"): with them a 40-letter token held
    // "mqtt" about once in 1,400 runs.
    issueToken: () => Array.from(randomBytes(40), (b) => 'gjklnprvwxz'[b % 11]).join(''),
  });
  // Every conference list fails after the token was issued: the access token is in the failing request's query.
  tcs.faults.push({ path: /\/conferences/, status: 500, body: { error: { code: 500, message: 'internal' } } });
  const tcsUrl = await tcs.start();
  sis = new SisSimulator({ password: 'switcher-expects-this-one' });
  const sisPort = await sis.start();
  broker = await createAedes(); // listening once created
  twilio = await TwilioStandin.start(); // its own random token: ours is refused (401 / 20003)
  downPort = await closedPort(); // after the broker listens, so it is not the broker's port
  const aedes = broker.instance?.();
  if (aedes) {
    aedes.authenticate = (_client, _user, password, done) => {
      mqttPasswordsTried.push(password?.toString() ?? '');
      const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 });
      done(err as never, false);
    };
  }
  configBody = `
[devices.tcs-wrong]
driver = "tcs"
connectionString = "server=${tcsUrl}; user=room101; password=\\"\${TCS_PASSWORD}\\""
poll_interval_s = 5

[devices.tcs-ok]
driver = "tcs"
connectionString = "server=${tcsUrl}; user=room102; password=\\"\${TCS_OK_PASSWORD}\\""
api_version = "v3.11"
poll_interval_s = 5

[devices.tcs-bad]
driver = "tcs"
connectionString = "server=${tcsUrl}; user=room101; password=\${TCS_BAD_PASSWORD}"

[devices.tcs-down]
driver = "tcs"
connectionString = "server=http://127.0.0.1:${downPort}; user=room101; password=\\"\${TCS_PASSWORD}\\""
request_timeout_ms = 500

[devices.matrix]
driver = "extron-sis"
host = "127.0.0.1"
port = ${sisPort}
password = "\${EXTRON_PASSWORD}"

[devices.outlook]
driver = "ics"
url = "http://127.0.0.1:${downPort}/owa/calendar/room@example.org/${LITERAL_URL_SECRETS.icsPath}/calendar.ics"
request_timeout_ms = 500

[calendar]
sources = ["tcs-wrong", "tcs-down"]

[mqtt]
url = "\${MQTT_URL}"
username = "room"
protocol_version = 4 # aedes speaks MQTT 3.1.1
password = "\${MQTT_PASSWORD}"
reconnect_min_ms = 100
reconnect_max_ms = 500

[alerts]
device_offline_after_s = 0
slack_min_interval_s = 0
slack_webhook_url = "http://127.0.0.1:\${SLACK_PORT}/services/T0/B0/\${SLACK_SECRET}"

[tracking]
zoom_secret_token = "\${ZOOM_SECRET}"

[twilio]
account_sid = "${twilio.accountSid}"
auth_token = "\${TWILIO_TOKEN}"
from = "+15005550006"
api_base_url = "${twilio.baseUrl}"
public_url = "https://room.example.com:8443"
dial_in_number = "+493012345678"
dial_in_pin = "\${TWILIO_PIN}"

[video]
go2rtc = "/nonexistent/go2rtc"
[video.streams.cam-1]
main = "rtsp://admin:\${RTSP_PASSWORD}@10.0.0.5:554/Streaming/Channels/101"
sub = "rtsp://10.0.0.5/sub?user=admin&password=\${RTSP_PASSWORD}"
[video.streams.cam-2]
main = "rtsp://10.0.0.6/live?token=${LITERAL_URL_SECRETS.streamQuery}"
`;
  const env = { ...process.env, ...ENV_SECRETS, MQTT_URL: broker.url, SLACK_PORT: String(downPort) };
  t = await startLoggedAgent(configBody, { level: 'debug', env, tokensToml: TOKENS_TOML });
  // Let every device fail the way it will: wrong password, bad format, refused connection.
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const st = Object.fromEntries(t.agent.devices.list().map((d) => [d.id, d.status.status]));
    const failed = ['tcs-wrong', 'tcs-bad', 'tcs-down', 'matrix'].every(
      (id) => st[id] && st[id] !== 'connecting' && st[id] !== 'online',
    );
    const tokenUsed = tcs.requests.some((r) => r.path.includes('/conferences') && r.query.access_token);
    if (failed && tokenUsed && mqttPasswordsTried.length > 1 && t.log().includes('slack')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 30_000);
afterAll(async () => {
  await t?.stop();
  await tcs?.stop();
  await sis?.stop();
  await broker?.close();
  await twilio?.close();
});

function ws(token: string): Promise<{ call(method: string, params?: unknown): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(`${t.url.replace('http', 'ws')}/ws`, { headers: { authorization: `Bearer ${token}` } });
    let id = 0;
    const pending = new Map<number, (s: string) => void>();
    sock.on('message', (m) => {
      const text = m.toString();
      seen.push(text);
      const msg = JSON.parse(text) as { id?: number };
      if (msg.id !== undefined) pending.get(msg.id)?.(text);
    });
    sock.once('open', () =>
      resolve({
        call: (method, params) =>
          new Promise((res) => {
            const n = ++id;
            pending.set(n, res);
            sock.send(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }));
          }),
        close: () => sock.close(),
      }),
    );
    sock.once('error', reject);
  });
}

async function http(p: string, init: RequestInit = {}): Promise<void> {
  const r = await fetch(`${t.url}${p}`, init);
  seen.push(`${r.status} ${[...r.headers].join(' ')} ${await r.text()}`);
}

describe('secrets never leave the agent', () => {
  it('the devices really failed (wrong password, bad format, unreachable)', () => {
    const st = Object.fromEntries(t.agent.devices.list().map((d) => [d.id, d.status]));
    for (const id of ['tcs-wrong', 'tcs-bad', 'tcs-down', 'matrix']) expect(st[id].status, id).not.toBe('online');
    expect(st['tcs-bad'].message).toMatch(/connectionString/);
    expect(tcs.tokenRequests).toBeGreaterThan(0);
    expect(tcs.requests.some((r) => r.path.includes('/conferences') && r.query.access_token)).toBe(true);
    expect(mqttPasswordsTried).toContain(ENV_SECRETS.MQTT_PASSWORD);
  });

  it('every WS method, topic snapshot and device action answers without a secret', async () => {
    for (const [role, token] of Object.entries(LITERAL_SECRETS)) {
      if (role === 'ingest') continue;
      const c = await ws(token);
      for (const m of t.agent.rpc.listMethods()) {
        await c.call(m.name, {});
        await c.call(m.name, { device: 'tcs-wrong', id: 'x', from: 'bad', to: 'bad' });
      }
      // Dial-out: Twilio refuses our token (401); the meeting and roster are real.
      t.agent.ctx.feature<TrackingFeature>('tracking')?.schedule({
        id: 'S-1',
        roster: [{ person: 'expert', contacts: ['+15005550199'] }],
      });
      await c.call('meetings.dial', { meeting: 'S-1', person: 'expert' });
      await c.call('meetings.dial', { meeting: 'S-1', number: '+15005550123', dial_in_pin: ENV_SECRETS.TWILIO_PIN });
      expect(twilio.requests.at(-1)).toMatchObject({ status: 401, code: 20003 });
      await c.call('subscribe', { topics: t.agent.rpc.listTopics().map((x) => x.name) });
      for (const d of ['tcs-wrong', 'tcs-bad', 'tcs-down', 'matrix']) {
        await c.call('devices.get', { device: d });
        const actions = JSON.parse(await c.call('actions.list', { device: d })) as {
          result?: { name: string }[] | Record<string, unknown>;
        };
        const names = Array.isArray(actions.result) ? actions.result.map((a) => a.name) : Object.keys(actions.result ?? {});
        for (const a of names) {
          await c.call('device.action', { device: d, action: a, params: {} });
          await c.call('device.action', { device: d, action: a, params: { id: 'c-1', input: 1, output: 1 } });
        }
      }
      c.close();
    }
    const text = seen.join('\n');
    expect(text).toContain('tcs-bad');
    expect(leaks(text)).toEqual([]);
  }, 60_000);

  it('every HTTP route and refusal answers without a secret', async () => {
    const wrongForms: RequestInit[] = [
      { headers: { authorization: 'Bearer Ak9;Xv@2%Lm"Qz7' } },
      { headers: { authorization: `Bearer ${LITERAL_SECRETS.admin}x` } },
      { headers: {} },
    ];
    for (const p of [
      '/healthz',
      '/metrics',
      '/api/calendar',
      '/api/meetings',
      '/api/meetings/x',
      '/video/frame.jpeg?src=cam-1_main',
      '/nope',
    ]) {
      for (const token of Object.values(LITERAL_SECRETS)) {
        await http(p, { headers: { authorization: `Bearer ${token}` } });
        await http(`${p}${p.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
      }
      for (const init of wrongForms) await http(p, init);
    }
    const raw = Buffer.from('{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}');
    const ts = String(Math.floor(Date.now() / 1000));
    await http('/hooks/zoom', {
      method: 'POST',
      body: raw,
      headers: { 'x-zm-request-timestamp': ts, 'x-zm-signature': 'v0=bad' },
    });
    await http('/hooks/zoom', {
      method: 'POST',
      body: raw,
      headers: { 'x-zm-request-timestamp': ts, 'x-zm-signature': zoomSignature(ENV_SECRETS.ZOOM_SECRET, ts, raw) },
    });
    const callback = { CallSid: `CA${'5e'.repeat(16)}`, CallStatus: 'busy', SequenceNumber: '1', To: '+15005550199' };
    for (const sig of [
      'bad',
      twilioSignature(ENV_SECRETS.TWILIO_TOKEN, 'https://room.example.com:8443/hooks/twilio?meeting=S-1', callback),
    ]) {
      await http('/hooks/twilio?meeting=S-1', {
        method: 'POST',
        body: formBody(callback),
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig },
      });
    }
    expect(seen.slice(-2).map((x) => x.slice(0, 3))).toEqual(['403', '200']);
    await http(`/hooks/conference?token=${encodeURIComponent(LITERAL_SECRETS.ingest)}`, { method: 'POST', body: '{"event":' });
    await http(`/hooks/conference?token=${encodeURIComponent(LITERAL_SECRETS.viewer)}`, { method: 'POST', body: '{}' });
    expect(leaks(seen.join('\n'))).toEqual([]);
  });

  it('the log at debug holds no secret, nor any access token the server issued', () => {
    const log = t.log();
    expect(log).toContain('tcs-bad');
    expect(leaks(log)).toEqual([]);
    const issued = tcs.requests.flatMap((r) => Object.values(r.query)).filter((v) => typeof v === 'string' && v.length >= 16);
    expect(leaks(log, issued)).toEqual([]);
  });
  it('check-config prints no secret, for a valid file and for one with errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-cc-'));
    try {
      const run = async (body: string) => {
        const file = path.join(dir, 'api.toml');
        fs.writeFileSync(file, `[agent]\nroom_id = "r"\nlisten = "127.0.0.1:0"\n${TOKENS_TOML}\n${body}`);
        const r = await promisify(execFile)(process.execPath, [...FROM_SOURCE, 'check-config', file], {
          env: { ...process.env, ...ENV_SECRETS, MQTT_URL: broker.url, SLACK_PORT: String(downPort) },
        }).catch((e: { stdout: string; stderr: string; code: number }) => e);
        return `${r.stdout}\n${r.stderr}`;
      };
      const ok = await run(configBody);
      expect(ok).toMatch(/devices\.tcs-bad: connectionString/);
      const broken = await run(
        `${configBody}\n[devices.extra]\ndriver = "extron-sis"\nhost = "127.0.0.1"\npassword = ["\${EXTRON_PASSWORD}"]\n` +
          `\n[[agent.tokens]]\nname = "bad"\ntoken = ${toml(LITERAL_SECRETS.admin)}\nrole = "superuser"\n` +
          `\n[[agent.tokens]]\nname = "short"\ntoken = 12345\nrole = ["${LITERAL_SECRETS.operator.replaceAll('"', '')}"]\n`,
      );
      expect(broken).toMatch(/api\.toml:\d+: devices\.extra\.password: /);
      expect(broken).toMatch(/api\.toml:\d+: agent\.tokens\.4\.role: /);
      // Literal secrets in URL-valued keys, each malformed (issue 16 gaps, F8).
      const urls = await run(
        `[alerts]\nslack_webhook_url = ["https://hooks.slack.com/services/T0/B0/${LITERAL_URL_SECRETS.slackPath}"]\n` +
          `\n[mqtt]\nurl = "ftp://room:${LITERAL_URL_SECRETS.mqttUserinfo}@127.0.0.1/?access_token=${LITERAL_URL_SECRETS.queryToken}"\n` +
          `\n[devices.cal]\ndriver = "ics"\nurl = ["https://outlook.office365.com/owa/calendar/r@x.org/${LITERAL_URL_SECRETS.icsPath}/calendar.ics"]\n`,
      );
      expect(urls).toMatch(/api\.toml:\d+: alerts\.slack_webhook_url: /);
      expect(urls).toMatch(/api\.toml:\d+: mqtt\.url: /);
      expect(urls).toMatch(/api\.toml:\d+: devices\.cal\.url: /);
      expect(leaks(ok)).toEqual([]);
      expect(leaks(broken)).toEqual([]);
      expect(leaks(urls)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 200_000); // three check-config runs through tsx: each alone can take a minute on a loaded machine
});
