// Secrets are declared where the key is defined (issue 16, "Secrets"): a config schema property
// carries `'x-secret': true` (src/config/secret-schema.ts) and every place that shows config text
// hides it — check-config errors, config.validate, config.get / config.history, the log. Every
// registered driver and agent section declares each key whose NAME looks like a secret (so a new
// driver cannot forget), and a driver holding a secret under an innocent name (`feed`) has it hidden
// without anyone editing a list elsewhere.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/index.js';
import { ConfigError, formatIssue, loadConfig } from '../src/config/load.js';
import { ConfigSchema } from '../src/config/schema.js';
import { isSecretKey, nameIsSecret } from '../src/config/secret-rule.js';
import { SECRET_KEYWORD, schemaMarksSecret, schemaProperties, secretString } from '../src/config/secret-schema.js';
import { defineDriver } from '../src/host/contract.js';
import { DriverRegistry } from '../src/host/registry.js';
import { AJV_OPTIONS, sharedAjv } from '../src/util/ajv.js';
import { createLogger } from '../src/util/logger.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { until } from './support/wait.js';

/** A device whose config holds a secret under a name no rule would guess: a feed URL with its key in the path. */
const feedDriver = defineDriver({
  name: 'feed-test',
  kind: 'other',
  description: 'Test device reading a feed whose URL is its credential.',
  config: Type.Object(
    {
      feed: secretString({ pattern: '^https://', description: 'Feed URL; its path is the credential.' }),
      label: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
  create(_config, ctx) {
    return {
      actions: {},
      async start() {
        ctx.setStatus('offline', 'feed not reachable (test device)');
      },
      async stop() {},
    };
  },
});

const SECRET_PART = 'Fd7Kq2Wz9Lm4Xr'; // unlike any text the agent writes: any 4 characters of it found is a leak
const FEED = `https://feeds.example.org/s/${SECRET_PART}/live.json`;
const OTHER_PART = 'Pv3Jn8Tc5Hy1Bq';
const OTHER_FEED = `https://feeds.example.org/s/${OTHER_PART}/live.json`;

function leaks(text: string, secrets = [SECRET_PART, OTHER_PART]): string[] {
  const found = new Set<string>();
  for (const s of secrets)
    for (let i = 0; i + 4 <= s.length; i++) if (text.includes(s.slice(i, i + 4))) found.add(s.slice(i, i + 4));
  return [...found];
}

describe('secret keys are declared on the schema', () => {
  const schemas = [
    { where: 'api.toml', schema: ConfigSchema as unknown },
    ...builtinDrivers.map((d) => ({ where: `driver ${d.name}`, schema: d.config as unknown })),
  ];

  it('every key whose name looks like a secret says whether it is one (agent sections and every driver)', () => {
    const undeclared: string[] = [];
    let named = 0;
    for (const { where, schema } of schemas) {
      for (const p of schemaProperties(schema)) {
        if (!nameIsSecret(p.name)) continue;
        named++;
        if (typeof p.schema[SECRET_KEYWORD] !== 'boolean') undeclared.push(`${where}: ${p.path.join('.')}`);
      }
    }
    expect(named).toBeGreaterThan(8);
    expect(undeclared, "add 'x-secret': true (or false for e.g. a file path) to these properties").toEqual([]);
  });

  it('the secrets of the agent and of the drivers are marked where they are defined', () => {
    const driver = (name: string) => builtinDrivers.find((d) => d.name === name)?.config;
    const marked: [unknown, string[]][] = [
      [driver('ics'), ['url']],
      [driver('tcs'), ['connectionString']],
      [driver('extron-sis'), ['password']],
      [driver('qsys'), ['password']],
      [ConfigSchema, ['agent', 'tokens', '0', 'token']],
      [ConfigSchema, ['mqtt', 'password']],
      [ConfigSchema, ['mqtt', 'key']],
      [ConfigSchema, ['alerts', 'slack_webhook_url']],
      [ConfigSchema, ['twilio', 'auth_token']],
      [ConfigSchema, ['twilio', 'dial_in_pin']],
      [ConfigSchema, ['identity', 'smtp', 'password']],
      [ConfigSchema, ['tracking', 'zoom_secret_token']],
    ];
    for (const [schema, p] of marked) expect(schemaMarksSecret(schema, p), p.join('.')).toBe(true);
    const plain: [unknown, string[]][] = [
      [driver('tcs'), ['token_path']],
      [driver('tcs'), ['user_id']],
      [ConfigSchema, ['agent', 'tokens', '0', 'name']],
      [ConfigSchema, ['agent', 'tokens', '0', 'token_file']],
      [ConfigSchema, ['mqtt', 'url']], // a password in its userinfo is caught by the URL rule
    ];
    for (const [schema, p] of plain) expect(schemaMarksSecret(schema, p), p.join('.')).toBe(false);
  });

  it('the keyword changes no validation, and Ajv knows it (strict mode accepts it)', () => {
    const schema = Type.Object({ feed: secretString({ minLength: 3 }) });
    const validate = sharedAjv().compile(schema);
    expect(validate({ feed: 'abc' })).toBe(true);
    expect(validate({ feed: 'ab' })).toBe(false);
    expect(validate({ feed: 3 })).toBe(false);
    const strict = new Ajv({ ...AJV_OPTIONS, strict: true });
    expect(() => strict.compile(schema)).not.toThrow();
    expect(() => new Ajv({ ...AJV_OPTIONS, keywords: [], strict: true }).compile(schema)).toThrow(/x-secret/);
  });

  it('a value inside a marked table or list is secret too (tables, arrays, unions)', () => {
    const schema = Type.Object({
      streams: Type.Record(Type.String(), Type.Object({ main: secretString(), name: Type.String() })),
      feeds: Type.Array(secretString()),
      either: Type.Union([secretString(), Type.Integer()]),
      creds: Type.Object({ user: Type.String() }, { [SECRET_KEYWORD]: true }),
    });
    expect(schemaMarksSecret(schema, ['streams', 'cam-1', 'main'])).toBe(true);
    expect(schemaMarksSecret(schema, ['streams', 'cam-1', 'name'])).toBe(false);
    expect(schemaMarksSecret(schema, ['feeds'])).toBe(true);
    expect(schemaMarksSecret(schema, ['feeds', '2'])).toBe(true);
    expect(schemaMarksSecret(schema, ['either'])).toBe(true);
    expect(schemaMarksSecret(schema, ['creds', 'user'])).toBe(true);
    expect(schemaMarksSecret(schema, ['nope'])).toBe(false);
  });
});

describe('a driver declaring a secret under an innocent name', () => {
  let dir = '';
  let t: TestAgent;
  let ws: RpcTestClient;
  const logged: string[] = [];
  const body = `[devices.cam]\ndriver = "feed-test"\nfeed = "${FEED}"\nlabel = "lobby"\n`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-schema-'));
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged.push(chunk.toString());
        cb();
      },
    });
    t = await startTestAgent(body, { drivers: [feedDriver], logger: createLogger('debug', sink) });
    ws = await t.connect(TOKENS.admin);
    await until(() => t.agent.devices.get('cam')?.status.status === 'offline', 'cam reports offline');
  }, 30_000);
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the secret rule knows the key once the driver is registered', () => {
    const tree = { devices: { cam: { driver: 'feed-test', feed: FEED } } };
    expect(isSecretKey(['devices', 'cam', 'feed'], tree)).toBe(true);
    expect(isSecretKey(['devices', 'cam', 'feed', '0'], tree)).toBe(true);
    expect(isSecretKey(['devices', 'cam', 'label'], tree)).toBe(false);
  });

  it('check-config errors name the key and hide the value (wrong type, wrong pattern, inside a list)', () => {
    const registry = new DriverRegistry([...builtinDrivers, feedDriver]);
    const file = path.join(dir, 'api.toml');
    fs.writeFileSync(
      file,
      `[agent]\nroom_id = "r"\nlisten = "127.0.0.1:0"\n\n[devices.a]\ndriver = "feed-test"\nfeed = ["${FEED}"]\n\n` +
        `[devices.b]\ndriver = "feed-test"\nfeed = "${OTHER_FEED.replace('https', 'http')}"\n`,
    );
    let out = '';
    try {
      loadConfig(file, registry, {});
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out = e.issues.map(formatIssue).join('\n');
    }
    expect(out).toMatch(/api\.toml:7: devices\.a\.feed: .*value hidden/);
    expect(out).toMatch(/api\.toml:11: devices\.b\.feed: .*value hidden/);
    expect(leaks(out)).toEqual([]);
  });

  it('config.get and config.history show a placeholder, config.validate hides a malformed value', async () => {
    const got = await ws.call<{ text: string; version: string }>('config.get', {});
    expect(got.text).toContain('feed = "(redacted: devices.cam.feed)"');
    expect(got.text).toContain('label = "lobby"');
    const history = await ws.call<{ versions: { version: string }[] }>('config.history', {});
    expect(history.versions.length).toBeGreaterThan(0);
    for (const v of history.versions) {
      const old = await ws.call<{ text: string }>('config.get', { version: v.version });
      expect(old.text).toContain('(redacted: devices.cam.feed)');
      expect(leaks(old.text)).toEqual([]);
    }
    const checked = await ws.call<{ ok: boolean; errors: string[] }>('config.validate', {
      toml: got.text.replace(/feed = .*/, `feed = ["${OTHER_FEED}"]`),
    });
    expect(checked.ok).toBe(false);
    expect(checked.errors.join('\n')).toMatch(/devices\.cam\.feed: /);
    expect(leaks(`${JSON.stringify(history)}\n${got.text}\n${JSON.stringify(checked)}`)).toEqual([]);
  });

  it('a refused config file is logged with the key, not the value', async () => {
    const file = path.join(t.dir, 'api.toml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/feed = .*/, `feed = ["${OTHER_FEED}"]`));
    await until(() => logged.join('').includes('devices.cam.feed'), 'the refusal logged', 20_000);
    const log = logged.join('');
    expect(log).toMatch(/config file refused/);
    expect(leaks(log)).toEqual([]);
  }, 30_000);
});
