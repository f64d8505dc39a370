// Issue 21 item 2: SIGHUP and a changed file on disk re-read the config; an invalid file is
// refused and reported, the running config stays. An in-process agent for the file watch (an
// editor's write-and-rename, then an in-place write), the real CLI in a child process for SIGHUP.
// Devices sit behind relays that count the agent's connections.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaSimulator } from '../drivers/visca/simulator.js';
import { Agent } from '../src/app.js';
import type { Feature } from '../src/app-context.js';
import { configVersion } from '../src/config/load.js';
import type { AlertSink } from '../src/sync/alerts.js';
import { createAlerts } from '../src/sync/index.js';
import { TOKENS_TOML } from './support/agent.js';
import { startChildAgent } from './support/child-agent.js';
import { CountingRelay } from './support/tcp-relay.js';
import { until } from './support/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function camera(): Promise<CountingRelay> {
  const sim = await new ViscaSimulator({ framing: 'raw-tcp', motionMs: 20 }).start();
  const relay = await CountingRelay.start({ port: sim.endpoint.port as number });
  cleanups.push(
    () => relay.close(),
    () => sim.stop(),
  );
  return relay;
}

const cameraToml = (id: string, port: number) => `
[devices.${id}]
driver = "visca"
framing = "raw-tcp"
host = "127.0.0.1"
port = ${port}
poll_interval_ms = 60000
`;

const toml = (agentKeys: string, body: string) =>
  `[agent]\nroom_id = "disk-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n${agentKeys}\n\n${TOKENS_TOML}\n[alerts]\n${body}\n`;

/** How an editor saves: a new file renamed over the old one. */
function saveByRename(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.swp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

describe('config file watch', () => {
  it('refuses an invalid file (file, line, key; alert raised; nothing changes), then applies a valid one', async () => {
    const a = await camera();
    const b = await camera();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-watch-'));
    const file = path.join(dir, 'api.toml');
    const first = toml('reload_debounce_ms = 100', cameraToml('cam-a', a.port));
    fs.writeFileSync(file, first);
    const agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }), features: [createAlerts] });
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(() => agent.devices.get('cam-a')?.status.status === 'online', 'cam-a online');
    const running = agent.loaded.version;
    const alerts = () => agent.feature<AlertSink & Feature>('alerts');

    // A device table with a wrong type, saved the way an editor saves.
    saveByRename(file, `${first}${cameraToml('cam-b', b.port)}`.replace(`port = ${b.port}`, 'port = "not a port"'));
    await until(() => agent.fileReloader.last?.status === 'refused', 'the invalid file refused');
    const refused = agent.fileReloader.last as { status: 'refused'; issues: { file: string; line?: number; key: string }[] };
    expect(refused.issues).toEqual([expect.objectContaining({ file, key: 'devices.cam-b.port', line: expect.any(Number) })]);
    expect(agent.loaded.version).toBe(running);
    expect(alerts()?.isActive('config_refused', 'file')).toBe(true);
    expect(agent.devices.get('cam-b')).toBeUndefined();
    expect(a.accepted).toBe(1);

    // Fixed, written in place this time.
    const fixed = `${first}${cameraToml('cam-b', b.port)}`;
    fs.writeFileSync(file, fixed);
    await until(() => agent.loaded.version === configVersion(fixed), 'the fixed file applied');
    expect(agent.fileReloader.last).toMatchObject({
      status: 'applied',
      report: { devices: { added: ['cam-b'], kept: ['cam-a'] }, cause: { from: 'file' } },
    });
    await until(() => agent.devices.get('cam-b')?.status.status === 'online', 'cam-b online');
    expect(alerts()?.isActive('config_refused', 'file')).toBe(false);
    expect([a.accepted, b.accepted]).toEqual([1, 1]);
  }, 60_000);
});

describe('SIGHUP', () => {
  it('re-reads the file in a real agent process: a valid change applies, an invalid file is refused and the agent runs on', async () => {
    const a = await camera();
    const b = await camera();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-hup-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'api.toml');
    // No file watch: only the signal may trigger the reload.
    const first = toml('watch_config = false', cameraToml('cam-a', a.port));
    fs.writeFileSync(file, first);
    const child = await startChildAgent(file);
    cleanups.push(() => child.kill('SIGKILL'));
    await until(() => a.accepted === 1, 'cam-a connected', 30_000);

    const second = `${first}${cameraToml('cam-b', b.port)}`;
    fs.writeFileSync(file, second);
    child.proc.kill('SIGHUP');
    await until(() => child.output().includes('"msg":"config applied"'), 'the reload applied', 30_000);
    await until(() => b.accepted === 1, 'cam-b connected', 30_000);
    expect(a.accepted).toBe(1);
    const health = await (await fetch(`${child.url}/healthz`)).json();
    expect(health).toMatchObject({ devices: { 'cam-a': expect.any(String), 'cam-b': expect.any(String) } });

    fs.writeFileSync(file, `${second}\n[devices.broken\n`);
    child.proc.kill('SIGHUP');
    await until(() => child.output().includes('config file refused'), 'the invalid file refused', 30_000);
    const refusal = child
      .output()
      .split('\n')
      .find((l) => l.includes('config file refused'));
    expect(refusal).toContain(`${file}:`);
    expect(refusal).toContain('TOML syntax error');
    // Still running the second config.
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
    expect(child.proc.exitCode).toBeNull();
    expect([a.accepted, b.accepted]).toEqual([1, 1]);
    expect(await child.kill('SIGTERM')).toBe(0);
  }, 120_000);
});
