// Issue 21 item 2: a config reload restarts only what changed. Real agent, real VISCA cameras
// (simulators on raw TCP) and a Shure microphone, each behind a relay that counts the
// connections the agent makes: an untouched camera's relay sees no new connection, a changed one
// reconnects to its new address. A changed [director] restarts the director alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type ShureSimulator, startShureSimulator } from '../drivers/shure-mic/index.js';
import { ViscaSimulator } from '../drivers/visca/simulator.js';
import { Agent } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config/load.js';
import type { ReloadReport } from '../src/config/reload.js';
import { createDirector } from '../src/director/index.js';
import { createAlerts } from '../src/sync/index.js';
import { createTracking } from '../src/tracking/index.js';
import { RpcTestClient, TOKENS, TOKENS_TOML } from './support/agent.js';
import { CountingRelay } from './support/tcp-relay.js';
import { until } from './support/wait.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function camera(): Promise<{ sim: ViscaSimulator; relay: CountingRelay }> {
  const sim = await new ViscaSimulator({ framing: 'raw-tcp', motionMs: 20 }).start();
  const relay = await CountingRelay.start({ port: sim.endpoint.port as number });
  cleanups.push(
    () => relay.close(),
    () => sim.stop(),
  );
  return { sim, relay };
}

async function microphone(): Promise<{ sim: ShureSimulator; relay: CountingRelay }> {
  const sim = await startShureSimulator();
  const relay = await CountingRelay.start({ port: sim.port });
  cleanups.push(
    () => relay.close(),
    () => sim.stop(),
  );
  return { sim, relay };
}

function cameraToml(id: string, port: number, extra = ''): string {
  return `
[devices.${id}]
driver = "visca"
framing = "raw-tcp"
host = "127.0.0.1"
port = ${port}
profile = "ptzoptics"
presets = { overview = 1, seat1 = 2, seat2 = 3 }
poll_interval_ms = 60000
${extra}
`;
}

function agentToml(body: string, agentKeys = 'watch_config = false'): string {
  return `[agent]\nroom_id = "reload-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n${agentKeys}\n\n${TOKENS_TOML}\n${body}\n`;
}

async function startAgent(toml: string, features = [createDirector, createAlerts, createTracking]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-reload-'));
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(file, toml);
  const agent = new Agent({ configFile: file, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), features });
  cleanups.push(() => agent.stop());
  const url = await agent.start();
  return { agent, file, dir, url };
}

/** Writes the file and applies it the way config.apply does (validated config in, report out). */
async function apply(agent: Agent, file: string, toml: string): Promise<ReloadReport> {
  fs.writeFileSync(file, toml);
  return agent.reconfigure(loadConfig(file, agent.drivers), { from: 'api', who: 'test' });
}

const online = (agent: Agent, ids: string[]) => () => ids.every((id) => agent.devices.get(id)?.status.status === 'online');

describe('hot reload: devices', () => {
  it('keeps an untouched camera connected, reconnects a changed one at its new address, stops a removed one, starts an added one', async () => {
    const a = await camera();
    const b = await camera();
    const bMoved = await camera();
    const c = await camera();
    const d = await camera();
    const before = agentToml(
      cameraToml('cam-a', a.relay.port) + cameraToml('cam-b', b.relay.port) + cameraToml('cam-c', c.relay.port),
    );
    const { agent, file, url } = await startAgent(before, []);
    await until(online(agent, ['cam-a', 'cam-b', 'cam-c']), 'cameras online');
    expect([a.relay.accepted, b.relay.accepted, c.relay.accepted]).toEqual([1, 1, 1]);

    // cam-a gets a state the reload must not lose: it was moved to a preset.
    const ws = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${TOKENS.operator}`);
    cleanups.push(async () => ws.close());
    await ws.call('device.action', { device: 'cam-a', action: 'preset.recall', params: { preset: 'seat1' } });
    const aStatusBefore = structuredClone(agent.devices.get('cam-a')!.status);
    const aStateBefore = structuredClone(agent.devices.get('cam-a')!.state);
    const aCommandsBefore = a.sim.received.length;
    expect(aStateBefore).not.toEqual({});

    const after = agentToml(
      cameraToml('cam-a', a.relay.port) + cameraToml('cam-b', bMoved.relay.port) + cameraToml('cam-d', d.relay.port),
    );
    const report = await apply(agent, file, after);

    expect(report).toMatchObject({
      ok: true,
      unchanged: false,
      devices: { restarted: ['cam-b'], added: ['cam-d'], removed: ['cam-c'], kept: ['cam-a'] },
      failed: [],
    });
    expect(report.to_version).toBe(agent.loaded.version);
    await until(online(agent, ['cam-a', 'cam-b', 'cam-d']), 'cameras online after the reload');
    // The untouched camera: no new connection, the old one still open, its state and status as they were,
    // and nothing sent to it by a (re)start (no homing, no re-read).
    expect(a.relay.accepted).toBe(1);
    expect(a.relay.open.size).toBe(1);
    expect(agent.devices.get('cam-a')!.status).toEqual(aStatusBefore);
    expect(agent.devices.get('cam-a')!.state).toEqual(aStateBefore);
    expect(a.sim.received.length).toBe(aCommandsBefore);
    // The changed camera left its old address and connected to the new one.
    await until(() => b.relay.open.size === 0, 'the old cam-b connection closed');
    expect(b.relay.accepted).toBe(1);
    expect(bMoved.relay.accepted).toBe(1);
    // Removed: disconnected and gone from the API; added: connected.
    await until(() => c.relay.open.size === 0, 'cam-c disconnected');
    expect(agent.devices.get('cam-c')).toBeUndefined();
    expect(await ws.request('device.action', { device: 'cam-c', action: 'preset.recall', params: { preset: 1 } })).toMatchObject({
      error: { message: expect.stringContaining('no device "cam-c"') },
    });
    expect(d.relay.accepted).toBe(1);
    // The restarted camera works at its new address.
    await ws.call('device.action', { device: 'cam-b', action: 'preset.recall', params: { preset: 'seat2' } });
    expect(bMoved.sim.presetRecalls()).toHaveLength(1);
    expect(b.sim.presetRecalls()).toEqual([]);
    expect(agent.health()).toMatchObject({
      api: true,
      config_version: report.to_version,
      devices: { 'cam-a': 'online', 'cam-b': 'online', 'cam-d': 'online' },
      reloading: false,
    });
  }, 60_000);

  it('refuses a change the running agent cannot take (listen address), naming file, line and key; nothing changes', async () => {
    const a = await camera();
    const { agent, file } = await startAgent(agentToml(cameraToml('cam-a', a.relay.port)), []);
    await until(online(agent, ['cam-a']), 'camera online');
    const running = agent.loaded.version;
    const moved = agentToml(cameraToml('cam-a', a.relay.port, 'name = "renamed"')).replace(
      'listen = "127.0.0.1:0"',
      'listen = "127.0.0.1:1"',
    );
    const err = await apply(agent, file, moved).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      expect.objectContaining({ file, line: 3, key: 'agent.listen', message: expect.stringContaining('restart the agent') }),
    ]);
    expect(agent.loaded.version).toBe(running);
    expect(a.relay.accepted).toBe(1);
    expect(agent.devices.get('cam-a')!.name).toBe('cam-a');
  }, 30_000);
});

describe('hot reload: features', () => {
  it('a changed [director] restarts the director only: devices keep their connections, other features keep running', async () => {
    const a = await camera();
    const b = await camera();
    const mic = await microphone();
    const director = (override: number) => `
[devices.mic]
driver = "shure-mic"
host = "127.0.0.1"
port = ${mic.relay.port}

[director]
overview = { camera = "cam-a", preset = 1 }
override_s = ${override}

[[director.sources]]
device = "mic"
channel = 1
camera = "cam-a"
preset = 2

[[director.sources]]
device = "mic"
channel = 2
camera = "cam-b"
preset = 3

[tracking]

[alerts]
`;
    const body = (override: number) => cameraToml('cam-a', a.relay.port) + cameraToml('cam-b', b.relay.port) + director(override);
    const { agent, file, url } = await startAgent(agentToml(body(30)));
    await until(online(agent, ['cam-a', 'cam-b', 'mic']), 'devices online');
    const tracking = agent.feature('tracking');
    const alerts = agent.feature('alerts');
    const oldDirector = agent.feature('director');
    expect(oldDirector).toBeDefined();
    const ws = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${TOKENS.admin}`);
    cleanups.push(async () => ws.close());
    await ws.call('subscribe', { topics: ['director'] });

    const report = await apply(agent, file, agentToml(body(45)));

    expect(report.features).toEqual({
      restarted: ['director'],
      started: [],
      stopped: [],
      kept: expect.arrayContaining(['tracking', 'alerts']),
    });
    expect(report.devices.restarted).toEqual([]);
    expect(report.devices.kept).toEqual(['cam-a', 'cam-b', 'mic']);
    expect([a.relay.accepted, b.relay.accepted, mic.relay.accepted]).toEqual([1, 1, 1]);
    expect(agent.feature('director')).not.toBe(oldDirector);
    expect(agent.feature('tracking')).toBe(tracking);
    expect(agent.feature('alerts')).toBe(alerts);
    expect(agent.health().features).toMatchObject({ director: 'started', tracking: 'started', alerts: 'started' });
    // The same WS client, still connected, reaches the new director (its methods were registered again) …
    const status = await ws.call<{ mode: string }>('director.status');
    expect(status.mode).toBeDefined();
    // … and hears it on the topic it subscribed to before the reload.
    ws.events.length = 0;
    await ws.call('director.set', { mode: 'paused' });
    await ws.waitFor((n) => n.topic === 'director');
    // The tracking HTTP routes still answer (they were not touched).
    const r = await fetch(`${url}/api/meetings`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
  }, 60_000);
});
