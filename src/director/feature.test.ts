// The director inside a real agent (real sockets, real SQLite), with a tiny
// fake camera driver and the Shure simulator as microphone: the WS API, the
// decision log, audit causes, manual override, offline cameras, config errors.
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinDrivers } from '../../drivers/index.js';
import { type ShureSimulator, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { startTestAgent, type TestAgent, TOKENS } from '../../test/support/agent.js';
import { type ActionDefinition, type DeviceKind, type DriverContext, defineAction, defineDriver } from '../host/contract.js';
import type { DirectorStatus, StoredDecision } from './types.js';
import { until } from '../../test/support/wait.js';

/** Recalls the fake cameras received: "cam-1:2". */
const recalls: string[] = [];

/** A test driver that is online at once, with the actions `actions` builds for each device. */
function fakeDriver<C extends TObject>(
  name: string,
  kind: DeviceKind,
  config: C,
  actions: (config: Static<C>, ctx: DriverContext) => Record<string, ActionDefinition>,
): void {
  const def = defineDriver({
    name,
    kind,
    description: name,
    config,
    create(cfg, ctx) {
      return {
        async start() {
          ctx.setStatus('online', 'fake');
        },
        async stop() {},
        actions: actions(cfg, ctx),
      };
    },
  });
  builtinDrivers.push(def);
}

/** A camera whose preset.recall resolves after move_ms. */
fakeDriver(
  'test-fake-camera',
  'camera',
  Type.Object({ move_ms: Type.Integer({ default: 20 }) }, { additionalProperties: false }),
  (config, ctx) => ({
    'preset.recall': defineAction({
      description: 'recall',
      params: Type.Object({ preset: Type.Integer() }),
      async run({ preset }) {
        recalls.push(`${ctx.id}:${preset}`);
        await new Promise((r) => setTimeout(r, config.move_ms ?? 20));
        ctx.setState({ last_preset: preset });
        return { preset };
      },
    }),
  }),
);

/** A matrix with a `route {input, output}` action, like videohub / extron-sis / kramer-p3000. */
fakeDriver('test-fake-matrix', 'matrix', Type.Object({}, { additionalProperties: false }), () => ({
  route: defineAction({
    description: 'route',
    params: Type.Object({ input: Type.Integer(), output: Type.Integer() }, { additionalProperties: false }),
    async run({ input, output }) {
      recalls.push(`route ${input}→${output}`);
      return { input, output };
    },
  }),
}));

/** An audio processor whose far-end flag a test can set. */
fakeDriver('test-fake-dsp', 'audio', Type.Object({}, { additionalProperties: false }), (_config, ctx) => ({
  'far_end.set': defineAction({
    description: 'set the far-end flag',
    params: Type.Object({ active: Type.Boolean() }),
    async run({ active }) {
      ctx.setState({ far_end_active: active });
      return { active };
    },
  }),
}));

let agent: TestAgent | null = null;
let sim: ShureSimulator | null = null;
afterEach(async () => {
  await agent?.stop();
  await sim?.stop();
  agent = sim = null;
  recalls.length = 0;
});

function roomToml(port: number, extra = '', cam2 = ''): string {
  return `
[devices.mic]
driver = "shure-mic"
host = "127.0.0.1"
port = ${port}

[devices.cam-1]
driver = "test-fake-camera"
[devices.cam-2]
driver = "test-fake-camera"
${cam2}
[devices.cam-3]
driver = "test-fake-camera"

[director]
overview = { camera = "cam-3", preset = 0 }
trigger_s = 0
gap_s = 0
min_dwell_s = 0
silence_s = 0.2
${extra}
[[director.sources]]
device = "mic"
channel = 1
camera = "cam-1"
preset = 1
name = "seat 1"

[[director.sources]]
device = "mic"
channel = 2
camera = "cam-2"
preset = 2
name = "seat 2"
`;
}

async function room(extra = '', cam2 = '', dir?: string) {
  sim ??= await startShureSimulator();
  agent = await startTestAgent(roomToml(sim.port, extra, cam2), { dir });
  const a = agent;
  await until(() => a.agent.devices.get('mic')?.status.status === 'online' && recalls.includes('cam-3:0'), 'start-up');
  const ws = await a.connect(TOKENS.admin);
  return { a, ws, sim };
}

describe('director feature', () => {
  it('points the camera at the talker, explains why, logs the decision and audits the cause', async () => {
    const { ws, sim } = await room();
    await ws.call('subscribe', { topics: ['director'] });
    sim.setGate(1, true);
    await until(() => recalls.includes('cam-1:1'), 'cam-1 preset 1');
    const status = await ws.call<DirectorStatus>('director.status');
    expect(status.mode).toBe('auto');
    expect(status.shot).toMatchObject({ kind: 'speaker', camera: 'cam-1', preset: 1, rule: 'speaker', mic: 'mic/1' });
    expect(status.shot?.reason).toMatch(/seat 1 \(mic\/1\) speaking since/);
    const pushed = await ws.waitFor(
      (n) => n.topic === 'director' && (n.data as { decision?: StoredDecision }).decision?.rule === 'speaker',
    );
    expect((pushed.data as { decision: StoredDecision }).decision.shot).toEqual({ kind: 'speaker', camera: 'cam-1', preset: 1 });
    const { decisions } = await ws.call<{ decisions: StoredDecision[] }>('director.decisions', { limit: 5 });
    expect(decisions.map((d) => d.rule)).toEqual(['speaker', 'start']);
    // The camera action is audited with the director as cause (once the Completion came).
    await ws.waitFor(
      (n) => n.topic === 'director' && (n.data as { status?: DirectorStatus }).status?.cameras['cam-1']?.preset === 1,
    );
    const audit = await ws.call<{ cause: unknown }[]>('audit.list', { device: 'cam-1' });
    expect(audit[0].cause).toEqual({ kind: 'director', name: 'speaker', detail: 'microphone mic/1 (seat 1)' });
    // Silence: back to the overview camera, which already sits at its preset (no recall).
    sim.setGate(1, false);
    await ws.waitFor((n) => (n.data as { decision?: StoredDecision }).decision?.rule === 'silence');
    expect(recalls).toEqual(['cam-3:0', 'cam-1:1']);
  });

  it('director.set pauses and resumes; a viewer may read but not set', async () => {
    const { a, ws, sim } = await room();
    const viewer = await a.connect(TOKENS.viewer);
    expect((await viewer.call<DirectorStatus>('director.status')).mode).toBe('auto');
    const denied = await viewer.request('director.set', { mode: 'off' });
    expect(denied.error?.message).toMatch(/needs role operator/);
    const paused = await ws.call<DirectorStatus>('director.set', { mode: 'paused' });
    expect(paused.mode).toBe('paused');
    sim.setGate(2, true);
    await new Promise((r) => setTimeout(r, 100));
    expect(recalls).toEqual(['cam-3:0']);
    await ws.call('director.set', { mode: 'auto' });
    await until(() => recalls.includes('cam-2:2'), 'cam-2 after auto');
    const { decisions } = await ws.call<{ decisions: StoredDecision[] }>('director.decisions', {});
    expect(decisions.find((d) => d.rule === 'mode')?.reason).toMatch(/admin-client set mode auto/);
  });

  it('an operator action on a camera pauses the director for override_s', async () => {
    const { a, ws, sim } = await room('override_s = 600');
    const op = await a.connect(TOKENS.operator);
    await op.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 7 } });
    const st = await ws.call<DirectorStatus>('director.status');
    expect(st.mode).toBe('paused');
    expect(st.paused_until).not.toBeNull();
    sim.setGate(2, true);
    await new Promise((r) => setTimeout(r, 100));
    expect(recalls).toEqual(['cam-3:0', 'cam-1:7']);
    const { decisions } = await ws.call<{ decisions: StoredDecision[] }>('director.decisions', {});
    expect(decisions[0]).toMatchObject({ rule: 'override' });
    expect(decisions[0].reason).toMatch(/api operator-client ran cam-1.preset.recall/);
  });

  it('a camera that is offline is skipped and the decision says so', async () => {
    const { ws, sim } = await room('', 'enabled = false');
    await ws.call('subscribe', { topics: ['director'] });
    sim.setGate(2, true);
    await until(() => recalls.length === 1, 'settle');
    const got = await ws.waitFor((n) => (n.data as { decision?: StoredDecision }).decision?.rule === 'camera_offline');
    expect((got.data as { decision: StoredDecision }).decision.reason).toMatch(/skipped seat 2: camera cam-2 offline/);
    expect(recalls).toEqual(['cam-3:0']);
  });

  it('the decision log survives a restart and keeps only decision_log_size rows', async () => {
    const { a, sim } = await room('decision_log_size = 10\nping_pong_switches = 100');
    for (let i = 0; i < 12; i++) {
      sim.setGate(1, i % 2 === 0);
      await until(() => (a.agent.devices.values('mic').active as number[]).length === (i % 2 === 0 ? 1 : 0), 'gate');
      await new Promise((r) => setTimeout(r, 250));
    }
    const dir = a.dir;
    await a.stop();
    agent = null;
    const again = await room('decision_log_size = 10\nping_pong_switches = 100', '', dir);
    const { decisions } = await again.ws.call<{ decisions: StoredDecision[] }>('director.decisions', { limit: 100 });
    expect(decisions.length).toBe(10);
    expect(decisions.some((d) => d.rule === 'silence')).toBe(true);
    expect(decisions[0].id).toBeGreaterThan(10);
  });

  it('hides the move through any matrix: route params filled in, cut back after the Completion', async () => {
    sim = await startShureSimulator();
    const toml = roomToml(sim.port, '', '[devices.matrix]\ndriver = "test-fake-matrix"\n').replace(
      '[[director.sources]]',
      `[director.mixer]
device = "matrix"
action = "route"
params = { input = "{input}", output = 1 }
inputs = { cam-1 = 1, cam-2 = 2, cam-3 = 3 }

[[director.sources]]`,
    );
    agent = await startTestAgent(toml);
    const a = agent;
    await until(() => recalls.includes('route 3→1') && a.agent.devices.get('mic')?.status.status === 'online', 'overview on air');
    sim.setGate(1, true);
    await until(() => recalls.includes('route 1→1'), 'cam-1 on air');
    // cam-1 was off air: it moves first, and is cut to only after its Completion.
    expect(recalls).toEqual(['cam-3:0', 'route 3→1', 'cam-1:1', 'route 1→1']);
    const ws = await a.connect(TOKENS.viewer);
    expect((await ws.call<DirectorStatus>('director.status')).program).toBe(1);
  });

  it('far-end speech from an audio-processor state brings the overview', async () => {
    const { ws, sim } = await room(
      '[director.far_end]\ndevice = "dsp"\nstate = "far_end_active"\ndelay_s = 0.1\n',
      '[devices.dsp]\ndriver = "test-fake-dsp"\n',
    );
    await ws.call('subscribe', { topics: ['director'] });
    sim.setGate(1, true);
    await until(() => recalls.includes('cam-1:1'), 'seat 1');
    await ws.call('device.action', { device: 'dsp', action: 'far_end.set', params: { active: true } });
    const d = await ws.waitFor((n) => (n.data as { decision?: StoredDecision }).decision?.rule === 'far_end');
    expect((d.data as { decision: StoredDecision }).decision.shot).toEqual({ kind: 'overview', camera: 'cam-3', preset: 0 });
    expect((await ws.call<DirectorStatus>('director.status')).far_end).toBe(true);
    await ws.call('device.action', { device: 'dsp', action: 'far_end.set', params: { active: false } });
    const farId = (d.data as { decision: StoredDecision }).decision.id;
    await ws.waitFor((n) => {
      const x = (n.data as { decision?: StoredDecision }).decision;
      return x?.rule === 'speaker' && x.id > farId;
    });
    expect((await ws.call<DirectorStatus>('director.status')).shot).toMatchObject({ camera: 'cam-1', preset: 1 });
  });

  it('a [director] naming an unknown device fails with the name', async () => {
    sim = await startShureSimulator();
    await expect(startTestAgent(roomToml(sim.port).replace('camera = "cam-2"', 'camera = "cam-9"'))).rejects.toThrow(
      /director\.sources\.\d+\.camera: camera "cam-9" is not a device/,
    );
  });
});
