// Issue 21 item 2, features: a feature restarts when a key it read changed and only then (the
// agent records reads per [agent] key and per device key); a feature whose section goes away
// stops (its methods go, its HTTP routes answer 404) and comes back when the section does; one
// with HTTP routes cannot be turned on live (refused, naming the section); a feature that fails
// to start on the new config is reported, and the agent runs on. Removed tokens lose their
// open WebSockets. Real agent, fake-free: the test features are real features of the agent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../src/app.js';
import type { FeatureFactory } from '../src/app-context.js';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load.js';
import { changedKeys, type ReloadReport } from '../src/config/reload.js';
import { DriverRegistry } from '../src/host/registry.js';
import { builtinDrivers } from '../drivers/index.js';
import { createTracking } from '../src/tracking/index.js';
import { createCalendar } from '../src/calendar/index.js';
import { createScenarios } from '../src/scenarios/index.js';
import type { AlertSink } from '../src/sync/alerts.js';
import { createAlerts, createSync } from '../src/sync/index.js';
import { createAedes, mqttToml, Subscriber } from './sync-support.js';
import type { Feature } from '../src/app-context.js';
import { until } from './support/wait.js';
import { RpcTestClient, TOKENS, TOKENS_TOML } from './support/agent.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Starts counted per feature name; what each start saw. */
const starts: { name: string; saw: unknown }[] = [];

/** Reads cam-a's driver and [agent] name (a probe of what restarts a feature). */
const createProbe: FeatureFactory = (ctx) => {
  const driver = ctx.config.devices['cam-a']?.driver;
  return {
    name: 'probe',
    async start() {
      starts.push({ name: 'probe', saw: { driver, name: ctx.config.agent.name } });
    },
    async stop() {},
  };
};

/** Fails to start when [agent] name is "break". */
const createFragile: FeatureFactory = (ctx) => ({
  name: 'fragile',
  async start() {
    starts.push({ name: 'fragile', saw: ctx.config.agent.name });
    if (ctx.config.agent.name === 'break') throw new Error('fragile cannot run with the name "break"');
  },
  async stop() {},
});

const camera = (port: number) => `
[devices.cam-a]
driver = "visca"
framing = "raw-tcp"
host = "127.0.0.1"
port = ${port}
poll_interval_ms = 60000
`;

const toml = (name: string, body: string, tokens = TOKENS_TOML) =>
  `[agent]\nroom_id = "features-room"\nname = "${name}"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nwatch_config = false\n\n${tokens}\n${body}\n`;

/** `beforeStart`: e.g. listen to events from the start on (an alert may be raised before start returns). */
async function startAgent(text: string, features: FeatureFactory[], beforeStart?: (agent: Agent) => void) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-features-'));
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(file, text);
  const agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }), features });
  cleanups.push(() => agent.stop());
  beforeStart?.(agent);
  const url = await agent.start();
  const apply = (next: string): Promise<ReloadReport> => {
    fs.writeFileSync(file, next);
    return agent.reconfigure(loadConfig(file, agent.drivers), { from: 'api' });
  };
  return { agent, file, url, apply };
}

describe('what restarts a feature', () => {
  it('changedKeys tells [agent] keys and device keys apart; a device added or removed changes the id list', () => {
    const drivers = new DriverRegistry(builtinDrivers);
    const load = (text: string) => parseConfig(text, 'api.toml', drivers, {});
    const before = load(toml('Room', camera(5000)));
    expect([...changedKeys(before, load(toml('Room', camera(5001))))]).toEqual(['devices.cam-a.port']);
    expect([...changedKeys(before, load(toml('Other', camera(5000))))]).toEqual(['agent.name']);
    expect([...changedKeys(before, load(toml('Room', '')))].sort()).toEqual(
      [
        'devices.*',
        'devices.cam-a',
        'devices.cam-a.*',
        'devices.cam-a.driver',
        'devices.cam-a.framing',
        'devices.cam-a.host',
        'devices.cam-a.poll_interval_ms',
        'devices.cam-a.port',
        // schema defaults filled in count as the device's keys too
        ...Object.keys(before.config.devices['cam-a'])
          .filter((k) => !['driver', 'framing', 'host', 'poll_interval_ms', 'port'].includes(k))
          .map((k) => `devices.cam-a.${k}`),
      ].sort(),
    );
    expect(changedKeys(before, load(toml('Room', camera(5000)))).size).toBe(0);
  });

  it('a feature restarts when a key it read changed, not when another key of the same device did', async () => {
    starts.length = 0;
    const { agent, apply } = await startAgent(toml('Room', camera(1)), [createProbe]);
    const probe = agent.feature('probe');
    expect(starts).toEqual([{ name: 'probe', saw: { driver: 'visca', name: 'Room' } }]);

    const moved = await apply(toml('Room', camera(2)));
    expect(moved.devices.restarted).toEqual(['cam-a']);
    expect(moved.features).toMatchObject({ restarted: [], kept: ['probe'] });
    expect(agent.feature('probe')).toBe(probe);

    const renamed = await apply(toml('Renamed', camera(2)));
    expect(renamed.features).toMatchObject({ restarted: ['probe'], kept: [] });
    expect(renamed.devices.kept).toEqual(['cam-a']);
    expect(renamed.live).toEqual(['agent.name']);
    expect(starts.at(-1)).toEqual({ name: 'probe', saw: { driver: 'visca', name: 'Renamed' } });
    expect(agent.info()).toMatchObject({ name: 'Renamed' });
  }, 30_000);

  it('a feature that fails to start on the new config is reported; the agent and the other features run on', async () => {
    starts.length = 0;
    const { agent, url, apply } = await startAgent(toml('Room', ''), [createFragile, createProbe]);
    const report = await apply(toml('break', ''));
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual([{ part: 'feature:fragile', error: 'fragile cannot run with the name "break"' }]);
    expect(agent.health()).toMatchObject({ api: true, features: { fragile: 'failed', probe: 'started' } });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // The next good config brings it back.
    const fixed = await apply(toml('Room', ''));
    expect(fixed.ok).toBe(true);
    expect(agent.health().features).toMatchObject({ fragile: 'started' });
  }, 30_000);
});

describe('features with HTTP routes', () => {
  it('[tracking] removed: its methods go and its routes answer 404; back again: both work; never running at start: refused', async () => {
    const { agent, url, apply } = await startAgent(toml('Room', '[tracking]\n'), [createTracking]);
    const ws = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${TOKENS.admin}`);
    cleanups.push(async () => ws.close());
    const meetings = () => fetch(`${url}/api/meetings`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect((await meetings()).status).toBe(200);
    expect(await ws.call('meetings.list', {})).toBeDefined();

    // A [tracking] key that does not shape its routes: tracking restarts, its routes serve the new instance.
    const tracking = agent.feature('tracking');
    const changed = await apply(toml('Room', '[tracking]\nmax_batch = 10\n'));
    expect(changed.features).toMatchObject({ restarted: ['tracking'] });
    expect(agent.feature('tracking')).not.toBe(tracking);
    const hook = await fetch(`${url}/hooks/conference`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 11 }, () => ({}))),
    });
    expect(hook.status).toBe(400);
    expect(await hook.text()).toContain('10');
    // One that does: refused, tracking untouched.
    const body = await apply(toml('Room', '[tracking]\nmax_batch = 10\nmax_body_bytes = 2048\n')).catch((e: unknown) => e);
    expect((body as ConfigError).issues).toEqual([expect.objectContaining({ key: 'tracking.max_body_bytes' })]);

    const off = await apply(toml('Room', ''));
    expect(off.features).toMatchObject({ stopped: ['tracking'] });
    expect(agent.health().features).toEqual({});
    const r = await meetings();
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'tracking is off in the running config' });
    expect(await ws.request('meetings.list', {})).toMatchObject({ error: { code: -32601 } });

    const on = await apply(toml('Room', '[tracking]\n'));
    expect(on.features).toMatchObject({ started: ['tracking'] });
    expect((await meetings()).status).toBe(200);
    expect(await ws.call('meetings.list', {})).toBeDefined();

    // An agent that started without [tracking] cannot add its routes to a listening server.
    const bare = await startAgent(toml('Room', ''), [createTracking]);
    const version = bare.agent.loaded.version;
    const err = await bare.apply(toml('Room', '[tracking]\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatchObject({
      key: 'tracking',
      message: expect.stringContaining('restart the agent'),
    });
    expect(bare.agent.loaded.version).toBe(version);
    expect((await fetch(`${bare.url}/api/meetings`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).status).toBe(404);
  }, 60_000);
});

describe('tokens', () => {
  it('a token removed from the config no longer opens a connection, and its open WebSocket is closed with 4401', async () => {
    const { url, apply } = await startAgent(toml('Room', ''), []);
    const open = (token: string) => new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token}`);
    const operator = open(TOKENS.operator);
    await new Promise((r) => operator.once('open', r));
    const admin = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${TOKENS.admin}`);
    cleanups.push(async () => admin.close());
    const closed = new Promise<number>((r) => operator.once('close', (code) => r(code)));

    const withoutOperator = TOKENS_TOML.split('\n\n')
      .filter((t) => !t.includes(TOKENS.operator))
      .join('\n\n');
    const report = await apply(toml('Room', '', withoutOperator));
    expect(report.live).toContain('agent.tokens');
    expect(await closed).toBe(4401);
    expect(await admin.call('system.info')).toMatchObject({ room_id: 'features-room' });
    const again = open(TOKENS.operator);
    expect(await new Promise<number>((r) => again.once('close', (code) => r(code)))).toBe(4401);
  }, 30_000);
});

/** Every alert event from the start on, as "type kind key" (the debounce is 0: the first may come before start returns). */
const watchAlerts = (seen: string[]) => (agent: Agent) =>
  agent.events.on((e) => {
    if (e.type.startsWith('alert.')) seen.push(`${e.type} ${e.data.kind} ${e.data.key}`);
  });

describe('alerts across a reload', () => {
  it('a restarted [alerts] keeps its active alerts (no second raise); a removed device has its alert cleared', async () => {
    // Nothing listens on port 1: the camera stays down and is alerted at once.
    const alertsToml = (after: number, body: string) => `[alerts]\ndevice_offline_after_s = ${after}\n${body}`;
    const seen: string[] = [];
    const { agent, apply } = await startAgent(toml('Room', alertsToml(0, camera(1))), [createAlerts], watchAlerts(seen));
    const alerts = () => agent.feature<AlertSink & Feature>('alerts');
    await until(() => alerts()?.isActive('device_offline', 'cam-a') === true, 'cam-a alerted');
    const first = alerts();

    const changed = await apply(toml('Room', alertsToml(0.5, camera(1))));
    expect(changed.features).toMatchObject({ restarted: ['alerts'] });
    expect(alerts()).not.toBe(first);
    expect(alerts()?.isActive('device_offline', 'cam-a')).toBe(true);

    const removed = await apply(toml('Room', alertsToml(0.5, '')));
    expect(removed.devices.removed).toEqual(['cam-a']);
    expect(alerts()?.isActive('device_offline', 'cam-a')).toBe(false);
    expect(seen.filter((l) => l.endsWith('device_offline cam-a'))).toEqual([
      'alert.raised device_offline cam-a',
      'alert.cleared device_offline cam-a',
    ]);
  }, 30_000);
  it('a device disabled by a reload has its device_offline alert cleared and is not alerted again; /metrics says enabled 0', async () => {
    // Nothing listens on port 1: the camera stays down and is alerted at once.
    const alertsToml = '[alerts]\ndevice_offline_after_s = 0\n';
    const seen: string[] = [];
    const { agent, apply, url } = await startAgent(toml('Room', alertsToml + camera(1)), [createAlerts], watchAlerts(seen));
    const alerts = () => agent.feature<AlertSink & Feature>('alerts');
    await until(() => alerts()?.isActive('device_offline', 'cam-a') === true, 'cam-a alerted');

    await apply(toml('Room', `${alertsToml}${camera(1)}enabled = false\n`));
    await until(() => agent.devices.get('cam-a')?.status.message === 'disabled in config', 'cam-a disabled');
    await until(() => alerts()?.isActive('device_offline', 'cam-a') === false, 'the alert cleared');
    // The debounce is 0: a raise for the disabled device would be due at once.
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts()?.isActive('device_offline', 'cam-a')).toBe(false);
    expect(seen.filter((l) => l.endsWith('device_offline cam-a'))).toEqual([
      'alert.raised device_offline cam-a',
      'alert.cleared device_offline cam-a',
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^room_agent_device_enabled\{device="cam-a"\} 0$/m);
  }, 30_000);
});

describe('[mqtt] across a reload', () => {
  it('a changed [mqtt] restarts sync alone: it reconnects, and each room event reaches the broker once (no listener left behind)', async () => {
    const broker = await createAedes();
    cleanups.push(() => broker.close());
    const sub = await Subscriber.connect(broker, ['rooms/features-room/events', 'rooms/features-room/status']);
    cleanups.push(() => sub.close());
    const body = (keepalive: number) => `${mqttToml(broker, `keepalive_s = ${keepalive}`)}\n[alerts]\n[tracking]\n`;
    const simCamera = '[devices.cam-s]\ndriver = "visca"\nsimulated = true\nframing = "raw-tcp"\nhost = "127.0.0.1"\n';
    const { agent, apply } = await startAgent(toml('Room', body(30) + simCamera), [createAlerts, createTracking, createSync]);
    await sub.waitFor(() => sub.last('rooms/features-room/status')?.state === 'online', 10_000, 'online');
    await until(() => agent.devices.get('cam-s')?.status.status === 'online', 'cam-s online');
    const emit = (type: string) => agent.events.emit({ type, at: new Date().toISOString(), data: {} });
    emit('test.before');
    await sub.waitFor(() => sub.json('rooms/features-room/events').some((e) => e.type === 'test.before'), 10_000, 'test.before');

    // The same reload removes a device: its last status is emitted while sync restarts and must not be lost.
    // (alerts restarts too: it took the device list when it started; sync holds alerts.)
    const both = await apply(toml('Room', body(40)));
    expect(both.features).toMatchObject({ restarted: ['alerts', 'sync'], kept: ['tracking'] });
    expect(both.devices.removed).toEqual(['cam-s']);
    await sub.waitFor(
      () =>
        sub
          .json<{ type: string; data: { device?: string; message?: string } }>('rooms/features-room/events')
          .some((e) => e.type === 'device.status' && e.data.device === 'cam-s' && e.data.message === 'removed from the config'),
      10_000,
      'the removed device event',
    );
    emit('test.between');
    await sub.waitFor(
      () => sub.json('rooms/features-room/events').some((e) => e.type === 'test.between'),
      10_000,
      'test.between',
    );

    // [mqtt] alone: sync alone.
    const report = await apply(toml('Room', body(50)));
    expect(report.features).toMatchObject({ restarted: ['sync'], kept: ['alerts', 'tracking'] });
    emit('test.after');
    await sub.waitFor(() => sub.json('rooms/features-room/events').some((e) => e.type === 'test.after'), 10_000, 'test.after');
    emit('test.last');
    await sub.waitFor(() => sub.json('rooms/features-room/events').some((e) => e.type === 'test.last'), 10_000, 'test.last');
    const types = sub.json<{ type: string }>('rooms/features-room/events').map((e) => e.type);
    expect(types.filter((t) => t.startsWith('test.'))).toEqual(['test.before', 'test.between', 'test.after', 'test.last']);
    expect(sub.last('rooms/features-room/status')).toMatchObject({ state: 'online', config_version: report.to_version });

    // Without [mqtt] sync stops and says so on its retained status.
    const off = await apply(toml('Room', '[alerts]\n[tracking]\n'));
    expect(off.features).toMatchObject({ stopped: ['sync'] });
    await sub.waitFor(() => sub.last('rooms/features-room/status')?.state === 'offline', 10_000, 'offline');
  }, 60_000);
});

describe('a feature that took the device list', () => {
  it('calendar (sources: every calendar device) restarts when a calendar device is added, and so does scenarios, which holds it', async () => {
    const ics = path.resolve(import.meta.dirname, '../drivers/ics/sample/room.ics');
    const calendar = (id: string) => `[devices.${id}]\ndriver = "ics"\nsimulated = true\nurl = "${ics}"\n`;
    const features = [createCalendar, createScenarios];
    const { agent, url, apply } = await startAgent(toml('Room', calendar('outlook')), features);
    const report = await apply(toml('Room', calendar('outlook') + calendar('outlook2')));
    expect(report.devices).toMatchObject({ added: ['outlook2'], kept: ['outlook'] });
    expect(report.features).toMatchObject({ restarted: ['calendar', 'scenarios'] });
    expect(agent.health().features).toMatchObject({ calendar: 'started', scenarios: 'started' });
    const r = await fetch(`${url}/api/calendar`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
    // A key of a calendar device that the calendar did not read: the device restarts, the features do not.
    const renamed = await apply(
      toml('Room', calendar('outlook') + calendar('outlook2').replace('simulated', 'name = "Second"\nsimulated')),
    );
    expect(renamed.devices.restarted).toEqual(['outlook2']);
    expect(renamed.features.restarted).toEqual([]);
  }, 30_000);
});
