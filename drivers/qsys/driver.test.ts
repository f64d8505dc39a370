import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceInstance } from '../../src/host/contract.js';
import { type RecordingContext, recordingContext, runAction } from '../../test/support/driver-harness.js';
import { createQsys, type QsysConfig } from './driver.js';
import { type QrcSimulatorOptions, QrcSimulator } from './simulator.js';
import { until as poll } from '../../test/support/wait.js';

const SECRET = 'pin-8472-secret';
let sim: QrcSimulator;
let dev: DeviceInstance | null = null;

const DESIGN: QrcSimulatorOptions = {
  chunked: true,
  user: 'control',
  password: SECRET,
  named: { ProgramGain: { value: -20, kind: 'gain' }, MicMute: { value: 0, kind: 'boolean' } },
  components: { Mixer: { 'input.1.gain': { value: -6, kind: 'gain' }, 'input.1.mute': { value: 1, kind: 'boolean' } } },
  snapshots: { Snapshots: { 1: { ProgramGain: -30, 'Mixer/input.1.gain': -12 } } },
};

const CONTROLS: QsysConfig['controls'] = {
  'program-level': { control: 'ProgramGain', type: 'level' },
  'mic-mute': { control: 'MicMute', type: 'mute' },
  'lectern-level': { component: 'Mixer', control: 'input.1.gain', type: 'level' },
  'lectern-mute': { component: 'Mixer', control: 'input.1.mute', type: 'mute' },
};

async function setup(cfg: Partial<QsysConfig> = {}, design: QrcSimulatorOptions = DESIGN, waitOnline = true) {
  sim = new QrcSimulator(design);
  const port = await sim.start();
  const ctx = recordingContext('audio');
  const config: QsysConfig = {
    host: '127.0.0.1',
    port,
    user: 'control',
    password: SECRET,
    controls: CONTROLS,
    snapshot_bank: 'Snapshots',
    poll_rate_s: 0.05,
    keepalive_ms: 20_000,
    request_timeout_ms: 1000,
    ...cfg,
  };
  dev = createQsys(config, ctx);
  await dev.start();
  if (waitOnline) await ctx.until((c) => c.status === 'online', 'online');
  return ctx;
}

const run = (action: string, params: Record<string, unknown> = {}) => runAction(dev!, action, params);

afterEach(async () => {
  await dev?.stop();
  dev = null;
  await sim?.stop();
});

function noSecret(ctx: RecordingContext): void {
  expect(JSON.stringify([ctx.logs, ctx.statuses, ctx.errors, ctx.state])).not.toContain(SECRET);
}

describe('qsys driver against the QRC simulator', () => {
  it('logs on, reads every configured control, subscribes with AutoPoll, and goes online from EngineStatus', async () => {
    const ctx = await setup();
    expect(sim.received.map((r) => r.method)).toEqual([
      'Logon',
      'StatusGet',
      'ChangeGroup.AddControl',
      'Control.Get',
      'ChangeGroup.AddComponentControl',
      'Component.Get',
      'ChangeGroup.AutoPoll',
    ]);
    expect(ctx.state).toMatchObject({
      'program-level': -20,
      'mic-mute': false,
      'lectern-level': -6,
      'lectern-mute': true,
      engine: { state: 'Active', design: 'Room Agent Demo' },
    });
    expect(ctx.statuses.at(-1)?.message).toContain('Core active');
    noSecret(ctx);
  });

  it('level, mute and preset.recall reach the Core; state follows the AutoPoll pushes', async () => {
    const ctx = await setup();
    await run('level', { control: 'program-level', db: -12.5 });
    await ctx.until((c) => c.state['program-level'] === -12.5, 'level pushed');
    await run('mute', { control: 'lectern-mute', on: false });
    await ctx.until((c) => c.state['lectern-mute'] === false, 'mute pushed');
    await run('preset.recall', { id: 1 });
    await ctx.until((c) => c.state['program-level'] === -30 && c.state['lectern-level'] === -12, 'snapshot values');
    expect(sim.received).toContainEqual({ method: 'Control.Set', params: { Name: 'ProgramGain', Value: -12.5 } });
    expect(sim.received).toContainEqual({
      method: 'Component.Set',
      params: { Name: 'Snapshots', Controls: [{ Name: 'load.1', Value: 1 }] },
    });
  });

  it('state is what the Core reports, not our echo: a ramped level changes only when the Core says so', async () => {
    const ctx = await setup();
    await run('level', { control: 'lectern-level', db: 0, ramp: 0.4 });
    expect(ctx.state['lectern-level']).toBe(-6);
    await ctx.until((c) => c.state['lectern-level'] === 0, 'ramp end reported');
    sim.setControl('MicMute', 1);
    await ctx.until((c) => c.state['mic-mute'] === true, 'a change made on the Core');
  });

  it('maps QRC errors: unknown component (7) on a preset bank, unknown control (8) in config', async () => {
    await setup({ snapshot_bank: 'NoSuchBank' });
    await expect(run('preset.recall', { id: 1 })).rejects.toThrow(/unknown component \(7\)/);
    await expect(run('mute', { control: 'program-level', on: true })).rejects.toThrow(/is a level control/);
    await expect(run('level', { control: 'nope', db: 0 })).rejects.toThrow(/unknown control "nope"/);
    await dev!.stop();
    await sim.stop();
    const ctx = await setup({ controls: { ...CONTROLS, ghost: { control: 'NotInDesign', type: 'level' } } }, DESIGN, false);
    await ctx.until((c) => c.status === 'bad_config', 'bad_config status');
    expect(ctx.statuses.at(-1)?.message).toMatch(/unknown control \(8\): Unknown control "NotInDesign"/);
    // Issue 17 §2: retried at the longest interval (60 s), not hammered.
    expect(ctx.statuses.at(-1)?.message).toMatch(/next attempt in 60 s/);
  });

  it('a wrong password is an auth_failure (logon required, 10) and the password never appears', async () => {
    const ctx = await setup({ password: 'wrong-password-1' }, DESIGN, false);
    await ctx.until((c) => c.status === 'auth_failure', 'auth failure');
    expect(ctx.statuses.at(-1)?.message).toContain('user "control"');
    expect(JSON.stringify(ctx.logs)).not.toContain('wrong-password-1');
    noSecret(ctx);
  });

  it('EngineStatus pushes are reflected in the device status', async () => {
    const ctx = await setup();
    sim.setEngineState('Standby');
    await ctx.until((c) => c.status === 'offline', 'standby');
    expect(ctx.statuses.at(-1)?.message).toContain('Standby');
    expect(ctx.state.engine).toMatchObject({ state: 'Standby' });
    sim.setEngineState('Active');
    await ctx.until((c) => c.status === 'online', 'active again');
  });

  it('NoOp keeps the socket alive past the Core idle timeout', async () => {
    const ctx = await setup({ keepalive_ms: 1000, controls: {} }, { ...DESIGN, idleTimeoutMs: 1500 });
    await poll(() => sim.received.filter((r) => r.method === 'NoOp').length >= 2, 'two NoOps');
    expect(ctx.statuses.filter((s) => s.status === 'offline')).toEqual([]);
  });

  it('a Core that stops answering is detected by the keep-alive and the link re-opened', async () => {
    const ctx = await setup({ keepalive_ms: 1000, request_timeout_ms: 300 });
    sim.silent = true;
    await ctx.until((c) => c.status === 'offline', 'offline');
    sim.silent = false;
    await ctx.until((c) => c.status === 'online', 'online again');
    expect(ctx.statuses.some((st) => st.status === 'offline' && /liveness probe/.test(st.message))).toBe(true);
  });

  it('reconnects after the Core goes away, re-subscribes and re-reads values', async () => {
    const ctx = await setup();
    const port = sim.listeningPort;
    await sim.stop();
    await ctx.until((c) => c.status === 'offline', 'offline');
    sim.setControl('ProgramGain', -3);
    await sim.start(port);
    await ctx.until((c) => c.status === 'online' && c.state['program-level'] === -3, 'online with re-read value');
    expect(sim.received.filter((r) => r.method === 'ChangeGroup.AutoPoll').length).toBe(2);
    sim.setControl('MicMute', 1);
    await ctx.until((c) => c.state['mic-mute'] === true, 'AutoPoll on the new session');
  });

  it('bytes with no NUL within 4 MiB are dropped and logged (rate limited), and the Core keeps working', async () => {
    const ctx = await setup();
    sim.injectRaw(Buffer.alloc(5 * 1024 * 1024, 0x61));
    sim.injectRaw('\0');
    await ctx.until((c) => c.logs.some((l) => String(l.msg).includes('dropped bytes with no NUL')), 'overflow logged', 20_000);
    const line = ctx.logs.find((l) => String(l.msg).includes('dropped bytes with no NUL'));
    expect(line).toMatchObject({ level: 40, limit: 4 * 1024 * 1024 });
    expect((line as unknown as { dropped_bytes: number }).dropped_bytes).toBeGreaterThan(4 * 1024 * 1024);
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'still working');
  });

  it('garbage from the Core is logged and ignored', async () => {
    const ctx = await setup();
    sim.injectRaw(Buffer.from([0x01, 0xff, 0x7b, 0x00]));
    sim.injectRaw('this is not json\0');
    await ctx.until((c) => c.logs.filter((l) => String(l.msg).includes('not JSON-RPC')).length >= 2, 'garbage logged');
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'still working');
  });
});
