// The host's backstop (issue 16, "Secrets: a status message, error or log line never contains a
// config value of a secret key or any part of it"): a driver that echoes its own secrets — whole,
// inside its URL, URL-encoded, a piece of a malformed connection string — in its status, reported
// errors, action errors (message and data) and log lines (debug included, children too) has every
// one of them replaced by the name of its key before a client, an alert or the log sees it.
// Through the real agent over WebSocket, with the secret from `${ENV}` and as a literal.
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../src/config/schema.js';
import { secretString } from '../src/config/secret-schema.js';
import { defineDriver } from '../src/host/contract.js';
import { DriverRegistry } from '../src/host/registry.js';
import { deviceSecrets, secretScrubber } from '../src/host/secret-scrub.js';
import { DeviceError } from '../src/util/errors.js';
import { createLogger } from '../src/util/logger.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { until } from './support/wait.js';

// Each unlike any text the agent writes: any 4 characters of one found is a leak.
const PASSWORD = 'Qz7;Wm@4%Rt"Üv9Kp'; // from ${LEAK_PASSWORD}: ; @ % a quote, unicode
const URL_PASSWORD = 'Hb5Nc8Vd2Xs';
const PATH_KEY = 'Jr6Tf3Ym9Pw';
const QUERY_TOKEN = 'Lk4Gs7Dq1Zn';
const CONN_PIECE = 'Bv8Nm5Ty'; // the tail of an unquoted password holding ';' (issue 16, finding 5)
const CONN_PASSWORD = `Cx2;${CONN_PIECE}`;
const SECRETS = [PASSWORD, URL_PASSWORD, PATH_KEY, QUERY_TOKEN, CONN_PASSWORD];
const FEED = `https://svc:${URL_PASSWORD}@feeds.example.org/k/${PATH_KEY}/live.json?token=${QUERY_TOKEN}&limit=10`;
const CONN = `server=https://tcs.example.org; user=room1; password=${CONN_PASSWORD}; client_id=room_agent`;

function leaks(text: string): string[] {
  const found = new Set<string>();
  for (const s of SECRETS)
    for (let i = 0; i + 4 <= s.length; i++) if (text.includes(s.slice(i, i + 4))) found.add(s.slice(i, i + 4));
  return [...found];
}

/** Every string in a value (parsed JSON), one a line: quotes and unicode compared as the client sees them. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  }
  return out;
}

interface LeakyConfig {
  password: string;
  feed: string;
  connectionString: string;
}

/** A careless driver: it quotes its secrets everywhere it writes text. */
const leakyDriver = defineDriver({
  name: 'leaky-test',
  kind: 'other',
  description: 'Test device whose driver echoes its secrets.',
  config: Type.Object(
    {
      password: secretString(),
      feed: secretString({ description: 'Feed URL; its path and query are credentials.' }),
      connectionString: secretString(),
    },
    { additionalProperties: false },
  ),
  create(raw, ctx) {
    const c = raw as LeakyConfig;
    const pathKey = new URL(c.feed).pathname.split('/')[2];
    return {
      actions: {
        fail: {
          description: 'Throws a DeviceError quoting the secrets in its message and data.',
          params: Type.Object({}),
          allowOffline: true,
          async run() {
            throw new DeviceError(`login refused for ${c.password} at ${c.feed}`, 'DEVICE_ERROR', {
              url: c.feed,
              tried: [c.password, encodeURIComponent(c.password)],
              nested: { key: pathKey, token: new URL(c.feed).searchParams.get('token') },
            });
          },
        },
        crash: {
          description: 'Throws a plain Error quoting a piece of the connection string password.',
          params: Type.Object({}),
          allowOffline: true,
          async run() {
            const tail = c.connectionString.split(';')[3]?.trim();
            throw new Error(`connectionString: expected key=value near "${tail}"`);
          },
        },
        noise: {
          description: 'Logs, reports and sets a status quoting the secrets.',
          params: Type.Object({}),
          allowOffline: true,
          async run() {
            ctx.logger.debug('trying password %s on %s', c.password, c.feed);
            ctx.logger.info({ seen: { url: c.feed, list: [pathKey], parsed: new URL(c.feed) } }, `feed key ${pathKey}`);
            ctx.logger.error(new Error(`stack holds ${c.password}`));
            ctx.logger.warn({ err: new Error(`wrapped ${c.connectionString}`) }, 'bad connection string');
            ctx.logger.child({ part: 'session', url: c.feed }).warn(`child logger: ${c.password}`);
            ctx.logger.child({ part: 'wire' }, { level: 'debug' }).debug(`child with its own level: ${c.password}`);
            ctx.deviceNoise.warn('garbage', { line: c.password }, `garbage after ${new URL(c.feed).password}`);
            ctx.reportError(`token ${new URL(c.feed).searchParams.get('token')} rejected`);
            ctx.setStatus('error', `auth failed with ${c.password} (${c.connectionString})`);
            return { ok: true };
          },
        },
      },
      async start() {
        ctx.logger.debug({ url: c.feed }, `connecting to ${c.feed}`);
        ctx.setStatus('offline', `cannot reach ${c.feed} with password ${c.password}`);
      },
      async stop() {},
    };
  },
});

describe('the host scrubs what a driver writes: no secret of its config, whole or a piece', () => {
  let t: TestAgent;
  let ws: RpcTestClient;
  const logged: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged.push(chunk.toString());
        cb();
      },
    });
    const body =
      `[alerts]\ndevice_offline_after_s = 0\n\n` +
      `[devices.leak]\ndriver = "leaky-test"\npassword = "\${LEAK_PASSWORD}"\nfeed = "${FEED}"\nconnectionString = "${CONN}"\n`;
    t = await startTestAgent(body, {
      drivers: [leakyDriver],
      logger: createLogger('debug', sink),
      env: { ...process.env, LEAK_PASSWORD: PASSWORD },
    });
    ws = await t.connect(TOKENS.admin);
    await until(() => t.agent.devices.get('leak')?.status.status === 'offline', 'leak reports offline');
  }, 30_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('the status (devices.list) and the device_offline alert name the key, not the value', async () => {
    const list = await ws.call<{ id: string; status: { message?: string } }[]>('devices.list', {});
    const leak = list.find((d) => d.id === 'leak');
    expect(leak?.status.message).toContain('«secret devices.leak.feed»');
    expect(leak?.status.message).toContain('«secret devices.leak.password»');
    let alerts: { kind: string; key: string }[] = [];
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      alerts = await ws.call<{ kind: string; key: string }[]>('alerts.list', {});
      if (alerts.some((a) => a.kind === 'device_offline' && a.key === 'leak')) break;
    }
    expect(alerts.some((a) => a.kind === 'device_offline' && a.key === 'leak')).toBe(true);
    expect(strings(alerts).join('\n')).toContain('«secret devices.leak.password»');
    expect(leaks(strings(list).join('\n'))).toEqual([]);
    expect(leaks(strings(alerts).join('\n'))).toEqual([]);
  }, 20_000);

  it('an action error answer (message and data) hides the secrets; a plain Error quoting a piece too', async () => {
    const failed = await ws.request('device.action', { device: 'leak', action: 'fail', params: {} });
    expect(failed.error?.message).toContain('«secret devices.leak.password»');
    expect(failed.error?.message).toContain('login refused for'); // no more than the secrets is hidden
    const crashed = await ws.request('device.action', { device: 'leak', action: 'crash', params: {} });
    expect(crashed.error?.message).toContain('«secret devices.leak.connectionString»');
    expect(leaks(strings([failed, crashed]).join('\n'))).toEqual([]);
  });

  it('status, reported errors and every log line (debug, children, deviceNoise, errors) hide the secrets', async () => {
    const answer = await ws.call<{ ok: boolean }>('device.action', { device: 'leak', action: 'noise', params: {} });
    expect(answer.ok).toBe(true);
    await until(() => logged.join('').includes('child with its own level'), 'the last line logged', 10_000);
    const list = await ws.call<unknown>('devices.list', {});
    const lines = logged.map((l) => JSON.parse(l) as unknown);
    const text = strings(lines).join('\n');
    expect(text).toContain('trying password «secret devices.leak.password»');
    expect(text).toContain('garbage after «secret devices.leak.feed»');
    expect(leaks(text)).toEqual([]);
    const feedLine = lines.find((l) => (l as { msg?: string }).msg?.startsWith('feed key')) as { seen: { parsed: unknown } };
    expect(feedLine.seen.parsed).toBe('«secret devices.leak.feed»'); // a URL object logged as its text, scrubbed
    expect(leaks(strings(list).join('\n'))).toEqual([]);
    expect(strings(list).join('\n')).toContain('«secret devices.leak.connectionString»');
  }, 20_000);
});

describe('deviceSecrets: what counts as a secret of a device', () => {
  new DriverRegistry([leakyDriver]); // declares the driver's secret keys
  const config = { driver: 'leaky-test', password: PASSWORD, feed: FEED, connectionString: CONN } as unknown as DeviceConfig;

  it('whole values, URL parts (decoded and encoded) and connection-string pieces; never the host or plain words', () => {
    const found = deviceSecrets('leak', config);
    for (const s of [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      FEED,
      URL_PASSWORD,
      PATH_KEY,
      QUERY_TOKEN,
      CONN,
      CONN_PASSWORD,
      CONN_PIECE,
    ])
      expect(found.has(s), s).toBe(true);
    expect(found.get(PATH_KEY)).toBe('devices.leak.feed');
    for (const s of ['feeds.example.org', 'live.json', 'room1', 'https://tcs.example.org']) expect(found.has(s), s).toBe(false);
  });

  it('a URL with a password under an innocent key counts; a device without secrets gets no scrubber', () => {
    const cam = { driver: 'other', stream: 'rtsp://admin:Wd3Rk8Lp@cam.local/live?token=Zt6Yh2Ja' } as unknown as DeviceConfig;
    expect([...deviceSecrets('cam', cam).keys()].sort()).toEqual(['Wd3Rk8Lp', 'Zt6Yh2Ja']);
    expect(secretScrubber('plain', { driver: 'other', host: '10.0.0.5', label: 'x' } as unknown as DeviceConfig)).toBeNull();
  });
});
