// `check-config` reports every refusal `start` can make, with file, line and
// key (issue 19 item 8), in readable words for enums, and echoes no secret
// (issue 16 finding 8). `start` refuses the same files with the same lines.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../src/app.js';
import { main } from '../src/cli.js';
import { ConfigError, formatIssue } from '../src/config/load.js';
import { KNOWN_SCHEMAS } from '../src/store/schemas.js';
import { startTestAgent } from './support/agent.js';

let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const HEAD = `[agent]
room_id = "r1"
listen = "127.0.0.1:0"
data_dir = "data"
`;

// A room with two cameras, a microphone and a director over them (line numbers matter below).
const ROOM = `${HEAD}
[devices.cam-1]
driver = "visca"
host = "10.0.0.11"

[devices.cam-2]
driver = "visca"
host = "10.0.0.12"

[devices.mxa]
driver = "shure-mic"
host = "10.0.0.20"

[director]
overview = { camera = "cam-1", preset = 1 }

[[director.sources]]
device = "mxa"
channel = 1
camera = "cam-2"
preset = 2
`;

async function checkConfig(text: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(file, text);
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  const saved = { ...process.env };
  Object.assign(process.env, env);
  console.log = (m: string) => lines.push(String(m));
  console.error = (m: string) => lines.push(String(m));
  try {
    const code = await main(['check-config', file]);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

/** What `start` says about the same file: its ConfigError issues, or '' when it would start. */
async function startRefusal(text: string): Promise<string> {
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(file, text);
  let agent: Agent | null = null;
  try {
    agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }), features: [] });
    await agent.start();
    return '';
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue).join('\n');
    throw e;
  } finally {
    await agent?.stop();
  }
}

describe('check-config reports what start refuses', () => {
  it('the room as written is OK for both', async () => {
    expect(await checkConfig(ROOM)).toEqual({ code: 0, out: 'OK' });
  });

  it('[director] naming an unknown camera and an unknown microphone: file, line, key', async () => {
    const text = ROOM.replace('camera = "cam-2"', 'camera = "cam-9"').replace('device = "mxa"', 'device = "mxa-2"');
    const r = await checkConfig(text);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /api\.toml:22: director\.sources\.0\.device: microphone "mxa-2" is not a device; devices: cam-1, cam-2, mxa/,
    );
    expect(r.out).toMatch(/api\.toml:24: director\.sources\.0\.camera: camera "cam-9" is not a device/);
    // start refuses with the same lines, not a bare message.
    const refused = await startRefusal(text);
    expect(refused).toContain('api.toml:22: director.sources.0.device: microphone "mxa-2" is not a device');
    expect(refused).toContain('api.toml:24: director.sources.0.camera: camera "cam-9" is not a device');
  });

  it('[director] mapping one microphone channel twice', async () => {
    const text = `${ROOM}\n[[director.sources]]\ndevice = "mxa"\nchannel = 1\ncamera = "cam-1"\npreset = 3\n`;
    const r = await checkConfig(text);
    expect(r.out).toMatch(/api\.toml:27: director\.sources\.1: microphone mxa\/1 is mapped twice \(also sources\.0\)/);
  });

  it('listen port out of range: check-config and start both name file, line and key', async () => {
    const text = HEAD.replace('127.0.0.1:0', '127.0.0.1:80800');
    const r = await checkConfig(text);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/api\.toml:3: agent\.listen: port "80800" is out of range \(expected 0–65535\)/);
    expect(await startRefusal(text)).toMatch(/api\.toml:3: agent\.listen: port "80800" is out of range/);
  });

  it('a listen address in use: start names the key instead of a raw Node error', async () => {
    const blocker = await startRefusalHolder();
    try {
      const text = HEAD.replace('127.0.0.1:0', `127.0.0.1:${blocker.port}`);
      expect(await startRefusal(text)).toMatch(
        new RegExp(`api\\.toml:3: agent\\.listen: cannot listen on 127\\.0\\.0\\.1:${blocker.port}: the address is in use`),
      );
    } finally {
      await blocker.close();
    }
  });

  it('a listen address another program holds: check-config says so with file, line and key', async () => {
    const blocker = await startRefusalHolder();
    try {
      const r = await checkConfig(HEAD.replace('127.0.0.1:0', `127.0.0.1:${blocker.port}`));
      expect(r.code).toBe(1);
      expect(r.out).toMatch(
        new RegExp(`api\\.toml:3: agent\\.listen: cannot listen on 127\\.0\\.0\\.1:${blocker.port}: the address is in use`),
      );
    } finally {
      await blocker.close();
    }
  });

  it('a listen address a running room-agent holds is OK (a restart frees it first)', async () => {
    const running = await startTestAgent();
    try {
      const port = new URL(running.url).port;
      expect(await checkConfig(HEAD.replace('127.0.0.1:0', `127.0.0.1:${port}`))).toEqual({ code: 0, out: 'OK' });
    } finally {
      await running.stop();
    }
  });

  it('a database written by a newer agent: check-config and start name data_dir and the module', async () => {
    const { Store } = await import('../src/store/db.js');
    const store = new Store(path.join(dir, 'data', 'room-agent.db'));
    const now = new Date().toISOString();
    const known = KNOWN_SCHEMAS.get('tracking')!;
    store.db.prepare('INSERT INTO schema_version (module, version, applied_at) VALUES (?, ?, ?)').run('tracking', known + 1, now);
    store.db.prepare('INSERT INTO schema_version (module, version, applied_at) VALUES (?, ?, ?)').run('holograms', 1, now);
    store.db.close();
    const r = await checkConfig(HEAD);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      new RegExp(
        `api\\.toml:4: agent\\.data_dir: .*room-agent\\.db: module "tracking" is at schema version ${known + 1}, this agent knows only ${known}: it was written by a newer room-agent`,
      ),
    );
    expect(r.out).toMatch(/api\.toml:4: agent\.data_dir: .*module "holograms" .* that this agent does not know/);
    expect(await startRefusal(HEAD)).toMatch(/api\.toml:4: agent\.data_dir: .*module "tracking" is at schema version/);
  });

  it('a database this agent wrote is OK', async () => {
    const running = await startTestAgent('[tracking]\n', { dir });
    await running.stop();
    expect(fs.existsSync(path.join(dir, 'data', 'room-agent.db'))).toBe(true);
    expect(await checkConfig(HEAD)).toEqual({ code: 0, out: 'OK' });
  });

  it('[calendar] source that is not a calendar device, unknown zone', async () => {
    const text = `${HEAD}\n[devices.cam-1]\ndriver = "visca"\nhost = "10.0.0.11"\n\n[calendar]\nsources = ["cam-1"]\ntime_zone = "Mars/Olympus"\n`;
    const r = await checkConfig(text);
    expect(r.out).toMatch(/api\.toml:11: calendar\.sources\.0: "cam-1" is not a calendar device; calendar devices: none/);
    expect(r.out).toMatch(/api\.toml:12: calendar\.time_zone: unknown time zone "Mars\/Olympus"/);
    expect(await startRefusal(text)).toMatch(/api\.toml:11: calendar\.sources\.0/);
  });

  it('a token file holding a short token', async () => {
    fs.writeFileSync(path.join(dir, 'admin.token'), 'short\n');
    const text = `${HEAD}\n[[agent.tokens]]\nname = "admin"\ntoken_file = "admin.token"\nrole = "admin"\n`;
    const r = await checkConfig(text);
    expect(r.out).toMatch(/api\.toml:8: agent\.tokens\.0\.token_file: the token in .*admin\.token is shorter than 16 characters/);
    expect(r.out).not.toContain('short\n');
    expect(await startRefusal(text)).toMatch(/agent\.tokens\.0\.token_file/);
  });

  it('data_dir that is a file', async () => {
    fs.writeFileSync(path.join(dir, 'data'), '');
    const r = await checkConfig(HEAD);
    expect(r.out).toMatch(/api\.toml:4: agent\.data_dir: .*data exists and is not a directory/);
  });

  it('a device config its driver refuses (the agent starts; the device would stay in error)', async () => {
    const text = `${HEAD}\n[devices.tcs]\ndriver = "tcs"\nconnectionString = "server=https://tcs.test; user=room; password=\${TCS_PASSWORD}"\n`;
    const r = await checkConfig(text, { TCS_PASSWORD: 'Kq7;semiZx9vWp2R' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/api\.toml:6: devices\.tcs: connectionString: after the value of "password": expected key=value/);
    for (const fragment of ['Kq7;', 'semi', 'Zx9v', 'Wp2R']) expect(r.out).not.toContain(fragment);
  });
});

describe('readable errors', () => {
  it('an enum says "expected one of", not Ajv\'s anyOf/const noise', async () => {
    const r = await checkConfig(
      `${HEAD}log_level = "loud"\n\n[devices.cam]\ndriver = "visca"\nhost = "10.0.0.1"\nframing = "sony-udpp"\n`,
    );
    expect(r.out).toContain(
      'api.toml:5: agent.log_level: expected one of "fatal", "error", "warn", "info", "debug", "trace", found string "loud"',
    );
    expect(r.out).toContain(
      'api.toml:10: devices.cam.framing: expected one of "sony-udp", "raw-tcp", "raw-udp", "serial", found string "sony-udpp"',
    );
    expect(r.out).not.toMatch(/anyOf|equal to constant/);
  });

  it('a literal of the wrong type in a union says which types', async () => {
    const r = await checkConfig(`${ROOM}\n[director.mixer]\ndevice = "cam-1"\ninputs = { cam-1 = true }\n`);
    expect(r.out).toMatch(/director\.mixer\.inputs\.cam-1: expected integer or string, found boolean true/);
  });
});

describe('check-config prints no secret (issue 16 finding 8)', () => {
  const SECRET = 'Zq9-Pw;"é@%x';
  it.each([
    ['${ENV} inside an array', `[devices.x]\ndriver = "extron-sis"\nhost = "h"\npassword = ["\${EXTRON_PASSWORD}"]\n`],
    ['a literal password of the wrong type', `[devices.x]\ndriver = "extron-sis"\nhost = "h"\npassword = ["Zq9-Pw;\\"é@%x"]\n`],
    ['a literal API token too short', `[[agent.tokens]]\nname = "a"\ntoken = "Zq9-Pw;\\"é@%x"\nrole = "admin"\n`],
    ['a literal token in a table of the wrong shape', `[agent]\ntokens = "Zq9-Pw;\\"é@%x"\n`],
    ['a literal QRC password as a number', `[devices.q]\ndriver = "qsys"\nhost = "h"\npassword = 31415926\n`],
    ['a ${ENV} MQTT password of the wrong type', `[mqtt]\nurl = "mqtt://b"\npassword = ["\${EXTRON_PASSWORD}"]\n`],
  ])('%s', async (_name, body) => {
    const text = body.startsWith('[agent]') ? body.replace('[agent]', `${HEAD.trim()}`) : `${HEAD}\n${body}`;
    const r = await checkConfig(text, { EXTRON_PASSWORD: SECRET });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/api\.toml:\d+: /);
    for (const s of [SECRET, '31415926']) {
      for (let i = 0; i + 4 <= s.length; i++) expect(r.out).not.toContain(s.slice(i, i + 4));
    }
  });

  // Literal secrets held in URL-valued keys (issue 16 gaps, F8): the key, a URL's userinfo or query,
  // or the calendar's path is the credential. Each error names the key, never a 4+-char fragment.
  const URL_SECRET = 'Uk7Qw3Zr9Xp2';
  it.each([
    [
      'a Slack webhook URL failing its pattern',
      `[alerts]\nslack_webhook_url = "hooks.slack.com/services/T0/B0/${URL_SECRET}"\n`,
      'alerts.slack_webhook_url',
    ],
    [
      'a Slack webhook URL of the wrong type',
      `[alerts]\nslack_webhook_url = ["https://hooks.slack.com/services/T0/B0/${URL_SECRET}"]\n`,
      'alerts.slack_webhook_url',
    ],
    ['an MQTT URL with a password in its userinfo', `[mqtt]\nurl = "ftp://user:${URL_SECRET}@host"\n`, 'mqtt.url'],
    ['an MQTT URL with a token in its query', `[mqtt]\nurl = "http://host/mqtt?access_token=${URL_SECRET}"\n`, 'mqtt.url'],
    [
      'an ICS calendar URL given as an array',
      `[devices.cal]\ndriver = "ics"\nurl = ["https://outlook.office365.com/owa/calendar/ab@x.org/${URL_SECRET}/calendar.ics"]\n`,
      'devices.cal.url',
    ],
  ])('%s', async (_name, body, key) => {
    const r = await checkConfig(`${HEAD}\n${body}`);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`api.toml:`);
    expect(r.out).toContain(`${key}: `);
    for (let i = 0; i + 4 <= URL_SECRET.length; i++) expect(r.out).not.toContain(URL_SECRET.slice(i, i + 4));
    // start and a reload refuse it with the same (secret-free) words
    const refusal = await startRefusal(`${HEAD}\n${body}`);
    expect(refusal).toContain(`${key}: `);
    for (let i = 0; i + 4 <= URL_SECRET.length; i++) expect(refusal).not.toContain(URL_SECRET.slice(i, i + 4));
  });

  it('config.validate and config.apply of a running agent refuse the same texts without a fragment of the secret', async () => {
    const t = await startTestAgent('');
    try {
      const c = await t.connect();
      const onDisk = fs.readFileSync(path.join(t.dir, 'api.toml'), 'utf8');
      const running = await c.call<{ version: string }>('config.get', {});
      const bodies = [
        `[alerts]\nslack_webhook_url = ["https://hooks.slack.com/services/T0/B0/${URL_SECRET}"]\n`,
        `[mqtt]\nurl = "ftp://user:${URL_SECRET}@host"\n`,
        `[devices.cal]\ndriver = "ics"\nurl = ["https://outlook.office365.com/owa/calendar/ab@x.org/${URL_SECRET}/calendar.ics"]\n`,
      ];
      for (const body of bodies) {
        const v = await c.call<{ ok: boolean; errors: string[] }>('config.validate', { toml: `${onDisk}\n${body}` });
        const a = await c.request('config.apply', {
          toml: `${onDisk}\n${body}`,
          base_version: running.version,
          why: 'leak test',
        });
        expect(v.ok).toBe(false);
        expect(a.error?.code).toBe(-32602);
        const shown = `${v.errors.join('\n')}\n${JSON.stringify(a.error)}`;
        expect(shown).toMatch(/api\.toml:\d+: (alerts\.slack_webhook_url|mqtt\.url|devices\.cal\.url): /);
        for (let i = 0; i + 4 <= URL_SECRET.length; i++) expect(shown).not.toContain(URL_SECRET.slice(i, i + 4));
      }
    } finally {
      await t.stop();
    }
  }, 30_000);
});

async function startRefusalHolder(): Promise<{ port: number; close: () => Promise<void> }> {
  const net = await import('node:net');
  // A program that holds the port and reads what comes, answering nothing (not HTTP).
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the schema versions check-config knows', () => {
  it('lists every module that migrates tables in room-agent.db', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const modules = new Set<string>();
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
          for (const m of fs.readFileSync(p, 'utf8').matchAll(/\.migrate\(\s*'([^']+)'/g)) modules.add(m[1]!);
        }
      }
    };
    walk(path.join(root, 'src'));
    walk(path.join(root, 'drivers'));
    expect([...modules].sort()).toEqual([...KNOWN_SCHEMAS.keys()].sort());
  });
});
