// The driver against the simulator over raw TCP and over a serial port opened
// through @serialport/binding-mock.
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaSimulator } from './simulator.js';
import { type Pair, startPair, until } from './test-support.js';

let pair: Pair | null = null;
const extra: ViscaSimulator[] = [];
afterEach(async () => {
  await pair?.stop();
  pair = null;
  for (const s of extra.splice(0)) await s.stop();
});

const fast = { reply_timeout_ms: 300, retries: 1, poll_interval_ms: 60_000, busy_retry_ms: 50 };
/** Polls often, so a camera that answers again is seen online quickly. */
const recovering = { ...fast, poll_interval_ms: 200 };
let serialN = 0;
const serialPath = () => `/dev/ROBOT-visca-test-${process.pid}-${++serialN}`;

describe('raw VISCA over TCP (raw-tcp, PTZOptics profile)', () => {
  it('recall, position and the absolute move with the PTZOptics tilt-speed byte', async () => {
    pair = await startPair({ framing: 'raw-tcp', motionMs: 50, profile: 'ptzoptics' }, { ...fast, profile: 'ptzoptics' });
    expect(await pair.act('preset.recall', { preset: 10 })).toEqual({ preset: 10, name: null });
    expect(pair.sim.received.find((r) => r.request.kind === 'preset')!.hex).toBe('81 01 04 3F 02 0A FF');
    await pair.act('goto', { pan: -100, tilt: 50, tilt_speed: 7, pan_speed: 9 });
    expect(pair.sim.received.at(-1)!.hex).toBe('81 01 06 02 09 07 0F 0F 09 0C 00 00 03 02 FF');
    expect(await pair.act('position')).toEqual({ pan: -100, tilt: 50, zoom: pair.sim.position.zoom });
  });

  it('replies written byte by byte with garbage between them still correlate', async () => {
    pair = await startPair({ framing: 'raw-tcp', motionMs: 0, profile: 'ptzoptics' }, { ...fast, profile: 'ptzoptics' });
    pair.sim.setGarbage('prefix');
    pair.sim.setSplitWrites(true);
    for (const preset of [1, 2, 3]) await pair.act('preset.recall', { preset });
    expect(pair.sim.presetRecalls()).toEqual([1, 2, 3]);
    expect(pair.cam.session.stats.garbageBytes).toBeGreaterThan(0);
  });

  it('connection lost: offline and pending commands fail; reconnects and comes back online', async () => {
    pair = await startPair({ framing: 'raw-tcp', motionMs: 400, profile: 'ptzoptics' }, { ...fast, profile: 'ptzoptics' });
    const port = pair.sim.endpoint.port as number;
    const recall = pair.act('preset.recall', { preset: 4 });
    await until(() => pair!.sim.model.busySockets === 1, 'move started');
    await pair.sim.stop();
    await expect(recall).rejects.toMatchObject({ code: 'DEVICE_OFFLINE' });
    await until(() => pair!.ctx.status === 'offline', 'offline');
    const again = await new ViscaSimulator({ framing: 'raw-tcp', port, motionMs: 0, profile: 'ptzoptics' }).start();
    extra.push(again);
    await until(() => pair!.ctx.status === 'online', 'online after reconnect', 10_000);
    await pair.act('preset.recall', { preset: 5 });
    expect(again.presetRecalls()).toEqual([5]);
  });

  it('camera silent on an open connection: timeout → wait (no resend over TCP) → offline → online', async () => {
    pair = await startPair({ framing: 'raw-tcp', motionMs: 0, profile: 'ptzoptics' }, { ...recovering, profile: 'ptzoptics' });
    pair.sim.setSilent(true);
    // A poll inquiry may be the message that times out first: either way the camera is not answering.
    await expect(pair.act('home')).rejects.toMatchObject({ code: expect.stringMatching(/DEVICE_TIMEOUT|DEVICE_OFFLINE/) });
    // The action's timeout is counted; the probe finds the silent camera (lifecycle rules).
    await until(() => pair!.ctx.status === 'offline', 'offline by the probe');
    // TCP delivered it: the camera is waited for `retries` more reply timeouts, never sent the message twice.
    expect(pair.cam.session.stats.timeouts).toBeGreaterThanOrEqual(2);
    expect(pair.cam.session.stats.resent).toBe(0);
    pair.sim.setSilent(false);
    await until(() => pair!.ctx.status === 'online', 'online again');
  });

  it('network change on an IP link is ignored', async () => {
    pair = await startPair({ framing: 'raw-tcp', motionMs: 0, profile: 'ptzoptics' }, { ...fast, profile: 'ptzoptics' });
    const before = pair.sim.received.length;
    pair.sim.sendNetworkChange();
    await pair.act('home');
    expect(pair.sim.received.slice(before).map((r) => r.request.kind)).toEqual(['home']);
  });
});

describe('VISCA over RS-232 (serial via binding-mock)', () => {
  it('sends AddressSet and IF_Clear broadcasts before anything else, then works', async () => {
    const path = serialPath();
    pair = await startPair({ framing: 'serial', path, motionMs: 30 }, { ...fast, presets: { down: 10 } });
    expect(pair.sim.received.slice(0, 2).map((r) => r.hex)).toEqual(['88 30 01 FF', '88 01 00 01 FF']);
    expect(await pair.act('preset.recall', { preset: 'down' })).toEqual({ preset: 10, name: 'down' });
    expect(pair.sim.presetRecalls()).toEqual([10]);
    expect(await pair.act('position')).toEqual(pair.sim.position);
  });

  it('camera 3 on a chain of three is addressed as 83 and answers as B0', async () => {
    const path = serialPath();
    pair = await startPair({ framing: 'serial', path, motionMs: 0, chainPosition: 3, chainLength: 3 }, { ...fast, address: 3 });
    await pair.act('preset.recall', { preset: 2 });
    expect(pair.sim.received.find((r) => r.request.kind === 'preset')!.hex).toBe('83 01 04 3F 02 01 FF');
  });

  it('an address beyond the chain is a config fault (bad_config, retried at the longest interval)', async () => {
    const path = serialPath();
    pair = await startPair({ framing: 'serial', path, motionMs: 0 }, { ...fast, address: 2 }, false);
    await until(() => pair!.ctx.status === 'bad_config', 'bad_config status');
    expect(pair.ctx.statuses.at(-1)!.message).toMatch(/address 2 is not on the chain/);
  });

  it('re-addresses the chain after a network change', async () => {
    const path = serialPath();
    pair = await startPair({ framing: 'serial', path, motionMs: 0 }, { ...fast });
    const before = pair.sim.received.length;
    pair.sim.sendNetworkChange();
    await until(() => pair!.sim.received.slice(before).some((r) => r.request.kind === 'address-set'), 'AddressSet again');
    await until(() => pair!.sim.received.slice(before).some((r) => r.request.kind === 'if-clear'), 'IF_Clear again');
    await pair.act('home');
  });

  it('a silent camera on the serial line goes offline and comes back', async () => {
    const path = serialPath();
    pair = await startPair({ framing: 'serial', path, motionMs: 0 }, { ...recovering });
    pair.sim.setSilent(true);
    await expect(pair.act('preset.recall', { preset: 1 })).rejects.toMatchObject({
      code: expect.stringMatching(/DEVICE_TIMEOUT|DEVICE_OFFLINE/),
    });
    await until(() => pair!.ctx.status === 'offline', 'offline by the probe');
    pair.sim.setSilent(false);
    await until(() => pair!.ctx.status === 'online', 'online again');
  });
});
