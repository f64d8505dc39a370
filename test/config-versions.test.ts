// Versioned config over WebSocket and over MQTT (issue 21 item 1): a real agent with a real
// SQLite file, a real TCP device and a real broker (aedes in-process). Apply, reject (invalid:
// exactly check-config's errors), stale base (no lost update), rollback, history, redacted get,
// and every change audited.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { configVersion } from '../src/config/load.js';
import { createAlerts, createSync } from '../src/sync/index.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { LineSimulator, lineDriver } from './support/line-driver.js';
import { until } from './support/wait.js';
import { createAedes, mqttToml, Subscriber, type TestBroker } from './sync-support.js';

const BASE = 'rooms/test-room';
let broker: TestBroker;
let sim: LineSimulator;
let t: TestAgent;
let ws: RpcTestClient;
let sub: Subscriber;
let file: string;

interface Got {
  version: string;
  text: string;
}
interface Applied {
  version: string;
  previous_version: string;
  outcome: string;
}
interface History {
  running: string;
  versions: { version: string; who: string; why: string; from: string; action: string; outcome: string }[];
}

beforeAll(async () => {
  broker = await createAedes();
  sim = new LineSimulator();
  const port = await sim.start();
  const body = `[devices.box]\ndriver = "line-test"\nport = ${port}\n\n${mqttToml(broker)}`;
  t = await startTestAgent(body, { features: [createAlerts, createSync], drivers: [lineDriver] });
  file = path.join(t.dir, 'api.toml');
  ws = await t.connect(TOKENS.admin);
  sub = await Subscriber.connect(broker, [`${BASE}/cmd/+/reply`, `${BASE}/status`]);
  await until(() => t.agent.devices.get('box')?.status.status === 'online', 'box online');
}, 60_000);
afterAll(async () => {
  await sub?.close();
  await t?.stop();
  await sim?.stop();
  await broker?.close();
});

let transaction = 0;
/** Runs a config method as an MQTT command with the admin token; resolves with the reply. */
async function mqttCall(
  method: string,
  params: unknown,
): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const tx = `t${++transaction}`;
  const topic = `${BASE}/cmd/${method}/reply`;
  await sub.client.publishAsync(`${BASE}/cmd/${method}`, JSON.stringify({ params, transaction: tx, token: TOKENS.admin }), {
    qos: 1,
  });
  await sub.waitFor(() => sub.json(topic).some((r) => r.transaction === tx), 30_000, `${method} reply`);
  return sub.json(topic).find((r) => r.transaction === tx) as never;
}

/** The text with `[agent] name` set (right after data_dir, where the test agent's table ends). */
const edit = (text: string, name: string) =>
  text.replace(/data_dir = "data"\n(name = .*\n)?/, `data_dir = "data"\nname = "${name}"\n`);

describe('versioned config over WebSocket', () => {
  it('the file read at start is the running version; config.get shows it without literal secrets', async () => {
    const got = await ws.call<Got & { from: string; action: string }>('config.get', {});
    expect(got.version).toBe(configVersion(fs.readFileSync(file, 'utf8')));
    expect(got).toMatchObject({ from: 'file', action: 'start' });
    for (const token of Object.values(TOKENS)) expect(got.text).not.toContain(token);
    expect(got.text).toContain('token = "(redacted: agent.tokens.0.token)"');
    const info = await ws.call<{ config_version: string }>('system.info', {});
    expect(info.config_version).toBe(got.version);
  });

  it('config.validate gives exactly the errors check-config prints for the same text', async () => {
    // Without the test-only device (check-config knows the built-in drivers only), plus two mistakes.
    const withoutBox = (text: string) => text.replace(/\[devices\.box\][^[]*/, '');
    const mistakes = '\n[devices.cam]\ndriver = "visca"\nframing = "sony-udpp"\nhots = "x"\n';
    const { text } = await ws.call<Got>('config.get', {});
    const r = await ws.call<{ ok: boolean; errors: string[] }>('config.validate', { toml: withoutBox(text) + mistakes });
    expect(r.ok).toBe(false);
    // check-config on a file holding the same text (the secrets as in the running file): same lines, same file name.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-validate-'));
    const copy = path.join(dir, 'api.toml');
    fs.writeFileSync(copy, withoutBox(fs.readFileSync(file, 'utf8')) + mistakes);
    fs.mkdirSync(path.join(dir, 'data'));
    const printed: string[] = [];
    const err = console.error;
    console.error = (...a: unknown[]) => printed.push(a.join(' '));
    try {
      expect(await main(['check-config', copy])).toBe(1);
    } finally {
      console.error = err;
    }
    expect(r.errors).toEqual(printed.map((l) => l.replaceAll(copy, file)));
    expect(r.errors.join('\n')).toMatch(/api\.toml:\d+: devices\.cam\.framing: expected one of/);
    expect(r.errors.join('\n')).toMatch(/api\.toml:\d+: devices\.cam\.hots: unknown key/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('apply: stored, written atomically, running; stale base refused; invalid refused with nothing written', async () => {
    const before = await ws.call<Got>('config.get', {});
    const next = edit(before.text, 'Board room');
    const r = await ws.call<Applied>('config.apply', { toml: next, base_version: before.version, why: 'rename', wait: true });
    expect(r).toMatchObject({ previous_version: before.version, outcome: 'running' });
    const onDisk = fs.readFileSync(file, 'utf8');
    expect(r.version).toBe(configVersion(onDisk));
    expect(onDisk).toContain('name = "Board room"');
    for (const token of Object.values(TOKENS)) expect(onDisk).toContain(token); // the placeholders were restored
    expect(fs.readdirSync(t.dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await ws.call<{ config_version: string }>('system.info', {})).config_version).toBe(r.version);

    // Stale: based on the version before, which no longer runs.
    const stale = await ws.request('config.apply', {
      toml: edit(before.text, 'Lost'),
      base_version: before.version,
      why: 'late',
    });
    expect(stale.error).toMatchObject({ code: 4009, data: { running_version: r.version } });
    expect(stale.error?.message).toMatch(/changed since you read it/);

    // Invalid: check-config's errors, file untouched, history unchanged.
    const historyBefore = await ws.call<History>('config.history', {});
    const invalid = await ws.request('config.apply', {
      toml: `${onDisk}\n[devices.cam]\ndriver = "visca"\nport = 70000\n`,
      base_version: r.version,
      why: 'typo',
    });
    expect(invalid.error?.code).toBe(-32602);
    expect((invalid.error?.data as { errors: string[] } | undefined)?.errors?.join('\n')).toMatch(
      /api\.toml:\d+: devices\.cam\.port: /,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(onDisk);
    expect((await ws.call<History>('config.history', {})).versions).toEqual(historyBefore.versions);
  });

  it('rollback to an older version; history lists every version with who, why, from and outcome', async () => {
    const history = await ws.call<History>('config.history', {});
    const first = history.versions[history.versions.length - 1]!;
    const r = await ws.call<Applied>('config.rollback', { version: first.version, why: 'back to the start', wait: true });
    expect(r).toMatchObject({ version: first.version, outcome: 'running' });
    expect(configVersion(fs.readFileSync(file, 'utf8'))).toBe(first.version);
    const after = await ws.call<History>('config.history', { limit: 3 });
    expect(after.running).toBe(first.version);
    expect(after.versions.map((v) => [v.action, v.from, v.who, v.outcome])).toEqual([
      ['rollback', 'ws', 'admin-client', 'running'],
      ['apply', 'ws', 'admin-client', 'replaced'],
      ['start', 'file', 'file', 'replaced'],
    ]);
    expect(after.versions[1]?.why).toBe('rename');
  });

  it('only admin tokens may use config.*', async () => {
    const op = await t.connect(TOKENS.operator);
    for (const m of ['config.get', 'config.history', 'config.validate', 'config.apply', 'config.rollback']) {
      expect((await op.request(m, {})).error?.code, m).toBe(4003);
    }
  });
});

describe('versioned config from the file', () => {
  it('an edit of the file on disk (the file watch) becomes a version from "file" through the same path', async () => {
    const onDisk = fs.readFileSync(file, 'utf8');
    const edited = edit(onDisk, 'Edited by hand');
    // As an editor saves: a new file renamed over the old one.
    fs.writeFileSync(`${file}.edit`, edited);
    fs.renameSync(`${file}.edit`, file);
    await until(() => t.agent.configVersions.running().version === configVersion(edited), 'the edited file running', 30_000);
    const history = await ws.call<History>('config.history', { limit: 1 });
    expect(history.versions[0]).toMatchObject({ version: configVersion(edited), from: 'file', who: 'file', action: 'apply' });
    // config.get's placeholders pasted into the file are refused (the file would not hold what runs).
    const pasted = edit((await ws.call<Got>('config.get', {})).text, 'Pasted');
    fs.writeFileSync(`${file}.edit`, pasted);
    fs.renameSync(`${file}.edit`, file);
    await until(() => t.agent.fileReloader.last?.status === 'refused', 'the pasted file refused', 30_000);
    const refusal = t.agent.fileReloader.last as { issues: { key: string; message: string }[] };
    expect(refusal.issues[0]).toMatchObject({
      key: 'agent.tokens.0.token',
      message: expect.stringMatching(/redaction placeholder/),
    });
    expect(t.agent.configVersions.running().version).toBe(configVersion(edited));
    // Back to what ran, so the audit test below sees only API changes.
    fs.writeFileSync(`${file}.edit`, onDisk);
    fs.renameSync(`${file}.edit`, file);
    await until(() => t.agent.configVersions.running().version === configVersion(onDisk), 'the file back', 30_000);
  }, 90_000);
});

describe('versioned config over MQTT', () => {
  it('apply, stale base, invalid and rollback as cmd/config.*, replies with the transaction', async () => {
    const got = (await mqttCall('config.get', {})).result as Got;
    const next = edit(got.text, 'Via MQTT');
    const ok = await mqttCall('config.apply', { toml: next, base_version: got.version, why: 'from the centre', wait: true });
    expect(ok.result).toMatchObject({ previous_version: got.version, outcome: 'running' });
    const applied = (ok.result as Applied).version;
    // The retained status names the running version.
    await sub.waitFor(() => sub.last(`${BASE}/status`)?.config_version === applied, 10_000, 'status with the new version');

    const stale = await mqttCall('config.apply', { toml: edit(got.text, 'x'), base_version: got.version, why: 'late' });
    expect(stale.error).toMatchObject({ code: 4009 });
    const invalid = await mqttCall('config.apply', { toml: '[agent]\nroom_id = 5\n', base_version: applied, why: 'bad' });
    expect(invalid.error?.code).toBe(-32602);
    expect((invalid.error?.data as { errors: string[] } | undefined)?.errors[0]).toMatch(
      /api\.toml:2: agent\.room_id: expected string/,
    );

    const back = await mqttCall('config.rollback', { version: got.version, wait: true });
    expect(back.result).toMatchObject({ version: got.version, outcome: 'running' });
    const history = (await mqttCall('config.history', { limit: 2 })).result as History;
    expect(history.versions.map((v) => [v.action, v.from, v.outcome])).toEqual([
      ['rollback', 'mqtt', 'running'],
      ['apply', 'mqtt', 'replaced'],
    ]);
  });
});

describe('audit', () => {
  it('every apply and rollback, accepted or refused, is in the audit log with who and where from', async () => {
    const rows = await ws.call<
      { cause: { kind: string; name?: string }; action: string; ok: boolean; error: string | null; params: unknown }[]
    >('audit.list', { device: 'config' });
    const seen = rows.map((r) => `${r.cause.kind}:${r.cause.name}:${r.action}:${r.ok}`).reverse();
    expect(seen).toEqual([
      'api:admin-client:config.apply:true',
      'api:admin-client:config.apply:false', // stale
      'api:admin-client:config.apply:false', // invalid
      'api:admin-client:config.rollback:true',
      'mqtt:admin-client:config.apply:true',
      'mqtt:admin-client:config.apply:false',
      'mqtt:admin-client:config.apply:false',
      'mqtt:admin-client:config.rollback:true',
    ]);
    // The text (and the tokens in it) never goes into the audit log.
    const all = JSON.stringify(rows);
    for (const token of Object.values(TOKENS)) expect(all).not.toContain(token);
  });
});
