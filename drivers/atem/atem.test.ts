import { Atem } from 'atem-connection';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceInstance } from '../../src/host/contract.js';
import { recordingContext, runAction } from '../../test/support/driver-harness.js';
import { type AtemLike, setAtemFactory } from './backend.js';
import { createAtem } from './driver.js';
import { FakeAtem, sampleAtemState } from './fake-atem.js';
import { mixerStateFromAtem, resolveAtemInput, touchesMixerState } from './protocol.js';
import { atemDriver } from './index.js';

let fake: FakeAtem;
let dev: DeviceInstance | null = null;

async function setup(reachable = true) {
  fake = new FakeAtem();
  fake.reachable = reachable;
  setAtemFactory(async () => fake);
  const ctx = recordingContext('atem');
  dev = createAtem(
    { host: '10.0.0.20', port: 9910, me: 0, worker_thread: true, connect_timeout_ms: 10_000, probe_interval_ms: 2000 },
    ctx,
  );
  await dev.start();
  if (reachable) await ctx.until((c) => c.status === 'online', 'online');
  return ctx;
}

const run = (action: string, params: Record<string, unknown> = {}) => runAction(dev!, action, params);

afterEach(async () => {
  await dev?.stop();
  dev = null;
  setAtemFactory(null);
});

describe('ATEM state mapping', () => {
  it('maps program, preview, names, aux (1-based), tally and macro', () => {
    const s = sampleAtemState();
    s.macro.macroPlayer = { isRunning: true, macroIndex: 4 };
    expect(mixerStateFromAtem(s, 0)).toEqual({
      program: 1,
      preview: 2,
      in_transition: false,
      inputs: [
        { number: 0, title: 'Black', short: 'BLK' },
        { number: 1, title: 'Camera 1', short: 'CAM1' },
        { number: 2, title: 'Camera 2', short: 'CAM2' },
        { number: 3, title: 'Laptop', short: 'LAP' },
        { number: 1000, title: 'Color Bars', short: 'BARS' },
        { number: 3010, title: 'Media Player 1', short: 'MP1' },
      ],
      aux: { '1': 1, '2': 3 },
      tally: { '1': 'program', '2': 'preview' },
      macro_running: 5,
    });
    expect(mixerStateFromAtem(s, 2)).toMatchObject({ program: null, preview: null, tally: {} });
  });

  it('filters stateChanged paths and resolves input names', () => {
    expect(touchesMixerState(['video.mixEffects.0.programInput'], 0)).toBe(true);
    expect(touchesMixerState(['video.mixEffects.1.programInput'], 0)).toBe(false);
    expect(touchesMixerState(['inputs.3.longName'], 0)).toBe(true);
    expect(touchesMixerState(['settings.multiViewers.0'], 0)).toBe(false);
    expect(resolveAtemInput(sampleAtemState(), 'Laptop')).toBe(3);
    expect(resolveAtemInput(sampleAtemState(), 'MP1')).toBe(3010);
    expect(resolveAtemInput(sampleAtemState(), '1000')).toBe(1000);
    expect(resolveAtemInput(sampleAtemState(), 'nope')).toBeNull();
  });

  it('the real library exposes what the fake stands in for, and its empty state maps', async () => {
    const real = new Atem({ disableMultithreaded: true });
    // Type-level: the real class is assignable to the slice the fake implements.
    const asLike: Pick<
      AtemLike,
      'changeProgramInput' | 'changePreviewInput' | 'cut' | 'autoTransition' | 'setAuxSource' | 'macroRun'
    > = real;
    for (const m of ['changeProgramInput', 'changePreviewInput', 'cut', 'autoTransition', 'setAuxSource', 'macroRun'] as const) {
      expect(typeof asLike[m]).toBe('function');
    }
    expect(mixerStateFromAtem(real.state!, 0)).toMatchObject({ program: null, preview: null, inputs: [], aux: {} });
    await real.destroy();
  });

  it('has no simulator, so `simulated = true` is refused by the config check', () => {
    expect(atemDriver.simulate).toBeUndefined();
  });
});

describe('atem driver against a fake of the library class', () => {
  it('goes online on `connected` and publishes the full state', async () => {
    const ctx = await setup();
    expect(fake.connectedTo).toEqual({ address: '10.0.0.20', port: 9910 });
    expect(ctx.state).toMatchObject({
      program: 1,
      preview: 2,
      aux: { '1': 1, '2': 3 },
      tally: { '1': 'program', '2': 'preview' },
    });
    expect((ctx.state.inputs as unknown[]).length).toBe(6);
  });

  it('program, preview, cut, auto, aux and macro call the library with M/E and 0-based bus/macro', async () => {
    const ctx = await setup();
    await run('preview', { input: 'Laptop' });
    await run('cut');
    expect(ctx.state).toMatchObject({ program: 3, preview: 1 });
    await run('program', { input: 1000 });
    await run('auto');
    await run('aux', { bus: 2, input: 'CAM2' });
    await run('macro.run', { macro: 3 });
    expect(fake.calls.filter((c) => c.method !== 'connect')).toEqual([
      { method: 'changePreviewInput', args: [3, 0] },
      { method: 'cut', args: [0] },
      { method: 'changeProgramInput', args: [1000, 0] },
      { method: 'autoTransition', args: [0] },
      { method: 'setAuxSource', args: [2, 1] },
      { method: 'macroRun', args: [2] },
    ]);
    expect(ctx.state).toMatchObject({ program: 1, preview: 1000, aux: { '2': 2 }, macro_running: 3 });
    await expect(run('program', { input: 'No Such Input' })).rejects.toThrow(/no ATEM input named/);
  });

  it('a rejected command becomes an error; an ack without a state change leaves state as reported', async () => {
    const ctx = await setup();
    fake.failNext = 'Command timed out';
    await expect(run('cut')).rejects.toThrow(/ATEM cut failed: Command timed out/);
    fake.ackWithoutChange = true;
    await run('program', { input: 3 });
    expect(ctx.state.program).toBe(1);
    fake.panel((s) => (s.video.mixEffects[0].programInput = 2), ['video.mixEffects.0.programInput']);
    await ctx.until((c) => c.state.program === 2, 'panel change');
  });

  it('reports offline on `disconnected` and, when the switcher is back, online with state re-read', async () => {
    const ctx = await setup();
    fake.drop();
    await ctx.until((c) => c.status === 'offline', 'offline');
    fake.switcher.video.mixEffects[0].programInput = 3;
    fake.switcher.inputs[3].longName = 'Lectern laptop';
    fake.comeBack();
    await ctx.until((c) => c.status === 'online' && c.state.program === 3, 'online again');
    expect((ctx.state.inputs as { title: string }[]).find((i) => i.title === 'Lectern laptop')).toBeTruthy();
  });

  it('stop ends the session and destroys the library instance', async () => {
    await setup();
    await dev!.stop();
    dev = null;
    expect(fake.destroyed).toBe(true);
    expect(fake.status).toBe(0);
  });

  it('library errors are recorded', async () => {
    const ctx = await setup();
    fake.emit('error', 'socket error: EHOSTUNREACH');
    expect(ctx.errors).toContain('atem-connection: socket error: EHOSTUNREACH');
  });
});
