// End to end: a real agent with three simulated cameras (Sony UDP, raw TCP,
// binding-mock serial), driven over the WebSocket JSON-RPC API.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent, TOKENS } from '../../test/support/agent.js';
import { runningViscaSimulators } from './serial-sim.js';
import { until } from './test-support.js';

// The demo cameras exactly as api.toml declares them (checked below).
const CAMERAS = `
[devices.cam-1]
driver = "visca"
simulated = true
framing = "sony-udp"
host = "192.168.10.21"
profile = "sony"
presets = { down = 10, overview = 1 }
sim_motion_ms = 100
poll_interval_ms = 300

[devices.cam-2]
driver = "visca"
simulated = true
framing = "raw-tcp"
host = "192.168.10.22"
profile = "ptzoptics"
presets = { down = 10, overview = 1 }
sim_motion_ms = 100

[devices.cam-3]
driver = "visca"
simulated = true
framing = "serial"
path = "/dev/ttyUSB0"
address = 1
profile = "sony"
presets = { down = 10, overview = 1 }
sim_motion_ms = 100
`;

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent(CAMERAS);
  const ids = ['cam-1', 'cam-2', 'cam-3'];
  await until(() => ids.every((id) => t.agent.devices.get(id)?.status.status === 'online'), 'cameras online', 10_000);
});
afterAll(async () => {
  await t?.stop();
});

describe('VISCA cameras through the agent', () => {
  it('preset.recall {preset: "down"} on every framing answers after the move; the simulator saw preset 10', async () => {
    const c = await t.connect(TOKENS.operator);
    for (const id of ['cam-1', 'cam-2', 'cam-3']) {
      const r = await c.call('device.action', { device: id, action: 'preset.recall', params: { preset: 'down' } });
      expect(r).toEqual({ preset: 10, name: 'down' });
      const sim = runningViscaSimulators.get(id)!;
      expect(sim.presetRecalls()).toEqual([10]);
      expect(sim.model.busySockets).toBe(0);
      const state = t.agent.devices.get(id)!.state;
      expect(state.last_preset.value).toBe(10);
      expect(state.moving.value).toBe(false);
      expect(state.last_preset.cause).toMatchObject({ kind: 'api' });
    }
    // The serial camera was opened on its binding-mock port, not /dev/ttyUSB0.
    expect(runningViscaSimulators.get('cam-3')!.endpoint).toEqual({ path: '/dev/ROBOT-sim-cam-3' });
  });

  it('validates params against the camera profile (speed range) before sending', async () => {
    const c = await t.connect(TOKENS.operator);
    const r = await c.request('device.action', {
      device: 'cam-2',
      action: 'move',
      params: { direction: 'up', tilt_speed: 0x17 },
    });
    expect(r.error?.code).toBe(-32602);
  });

  it('an offline camera refuses actions at once, and comes back online', async () => {
    const c = await t.connect(TOKENS.operator);
    const sim = runningViscaSimulators.get('cam-1')!;
    sim.setSilent(true);
    await until(() => t.agent.devices.get('cam-1')?.status.status === 'offline', 'cam-1 offline', 10_000);
    const before = sim.received.length;
    const r = await c.request('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 1 } });
    expect(r.error?.code).toBe(4102); // DEVICE_OFFLINE
    expect(sim.received.length).toBe(before);
    sim.setSilent(false);
    await until(() => t.agent.devices.get('cam-1')?.status.status === 'online', 'cam-1 online', 10_000);
    await c.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 'overview' } });
    expect(sim.lastPreset).toBe(1);
  });

  it('the demo api.toml declares the same three cameras with a "down" preset', () => {
    const demo = fs.readFileSync(new URL('../../api.toml', import.meta.url), 'utf8');
    for (const id of ['cam-1', 'cam-2', 'cam-3']) expect(demo).toContain(`[devices.${id}]`);
    expect(demo.match(/presets = \{ down = 10, overview = 1 \}/g)?.length).toBe(3);
  });
});
