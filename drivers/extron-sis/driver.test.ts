import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { BindingInterface } from '../../src/transport/serial.js';
import { ExtronSisDevice, type ExtronSisConfig } from './driver.js';
import { type SisSimOptions, SisSimulator } from './simulator.js';
import {
  audioRoutes as audio,
  cleanupAfterEach,
  movableNoiseWindow,
  recordingContext,
  routes,
  runAction as run,
  waitStatus,
  warnLines,
} from '../../test/support/driver-harness.js';

const cleanups = cleanupAfterEach();

const BASE: ExtronSisConfig = {
  transport: 'tcp',
  port: 23,
  baud_rate: 9600,
  input_labels: [],
  output_labels: [],
  keepalive_ms: 60_000,
  request_timeout_ms: 1000,
};

async function startSim(opts: SisSimOptions = {}) {
  const sim = new SisSimulator(opts);
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

async function startDriver(cfg: Partial<ExtronSisConfig>, serialBinding?: BindingInterface) {
  const rec = recordingContext();
  const dev = new ExtronSisDevice({ ...BASE, ...cfg }, rec, { serialBinding });
  await dev.start();
  cleanups.push(() => dev.stop());
  return { rec, dev };
}
const tcp = (sim: SisSimulator, extra: Partial<ExtronSisConfig> = {}) =>
  startDriver({ host: '127.0.0.1', port: sim.address.port, ...extra });

describe('extron-sis driver over Telnet', () => {
  it('refuses Telnet options, sets verbose mode 3, reads size and every tie, then goes online', async () => {
    const sim = await startSim();
    sim.video[2] = 5;
    sim.audio[2] = 6;
    const { rec } = await tcp(sim, { input_labels: ['Camera'] });
    await waitStatus(rec, 'online');
    const replies = Buffer.concat(sim.telnetReplies);
    expect(replies.includes(Buffer.from([255, 254, 1]))).toBe(true); // WILL ECHO → DONT
    expect(replies.includes(Buffer.from([255, 252, 31]))).toBe(true); // DO NAWS → WONT
    expect(sim.received.slice(0, 3)).toEqual(['\x1b3CV', 'I', 'Q']);
    expect(rec.state.model).toBe('DXP 88 HDMI');
    expect(rec.state.inputs).toBe(8);
    expect(routes(rec)['3']).toBe(5);
    expect(audio(rec)['3']).toBe(6);
    expect((rec.state.input_labels as Record<string, string>)['1']).toBe('Camera');
  });

  it('accepts 3-digit padding (Matrix 12800)', async () => {
    const sim = await startSim({ pad: 3, inputs: 12, outputs: 4 });
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    expect(await run(dev, 'route', { input: 11, output: 2 })).toEqual({ output: 2, input: 11, layer: 'av' });
    expect(routes(rec)['2']).toBe(11);
  });

  it('logs in with the password and never logs the password', async () => {
    const sim = await startSim({ password: 's3cret-pass' });
    const { rec } = await tcp(sim, { password: 's3cret-pass' });
    await waitStatus(rec, 'online');
    expect(JSON.stringify(rec.logs)).not.toContain('s3cret-pass');
    expect(JSON.stringify(rec.statuses)).not.toContain('s3cret-pass');
  });

  it('reports auth_failure for a wrong or missing password, without retrying at once', async () => {
    const sim = await startSim({ password: 'right' });
    const wrong = await tcp(sim, { password: 'wrong' });
    await waitStatus(wrong.rec, 'auth_failure');
    expect(wrong.rec.statuses.at(-1)?.message).toMatch(/rejected the password/);
    const none = await tcp(sim);
    await waitStatus(none.rec, 'auth_failure');
    expect(none.rec.statuses.at(-1)?.message).toMatch(/set "password"/);
    await vi.waitFor(() => expect(sim.clientCount).toBe(0));
  });

  it('ties on each layer, unties with input 0, and maps E-codes to readable errors', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim, { inputs: 16 }); // config claims more inputs than the switcher has
    await waitStatus(rec, 'online');
    expect(await run(dev, 'route', { input: 4, output: 2, layer: 'video' })).toEqual({ output: 2, input: 4, layer: 'video' });
    expect(sim.received).toContain('4*2%');
    await run(dev, 'route', { input: 6, output: 2, layer: 'audio' });
    expect(routes(rec)['2']).toBe(4);
    expect(audio(rec)['2']).toBe(6);
    await run(dev, 'route', { input: 0, output: 2, layer: 'av' });
    expect(routes(rec)['2']).toBeNull();
    await expect(run(dev, 'route', { input: 12, output: 1 })).rejects.toThrow('switcher answered E01: invalid input number');
    await expect(run(dev, 'preset.recall', { preset: 7 })).rejects.toThrow('E11: invalid preset number');
    expect(rec.status).toBe('online');
  });

  it('re-reads every tie after a front-panel Qik, and follows ties made from other ports', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    const before = sim.received.length;
    sim.frontPanelTie(7, 1, 'av');
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(7));
    // The re-read is sequential: output 1's answer can land before the last reads are sent.
    await vi.waitFor(() => expect(sim.received.length - before).toBe(16)); // 8 outputs × video + audio
    const other = net.connect(sim.address.port, '127.0.0.1');
    cleanups.push(() => other.destroy());
    await new Promise((r) => other.once('connect', r));
    other.write('3*8$');
    await vi.waitFor(() => expect(audio(rec)['8']).toBe(3));
    expect(rec.patches.at(-1)?.cause).toBeUndefined(); // attributed by the host (device or the action in flight)
  });

  it('saves and recalls presets, and re-reads after a front-panel recall', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    await run(dev, 'route', { input: 8, output: 1 });
    expect(await run(dev, 'preset.save', { preset: 3 })).toEqual({ preset: 3 });
    await run(dev, 'route', { input: 2, output: 1 });
    const r = (await run(dev, 'preset.recall', { preset: 3 })) as { video: Record<string, number> };
    expect(r.video['1']).toBe(8);
    expect(routes(rec)['1']).toBe(8);
    await run(dev, 'route', { input: 5, output: 1 });
    sim.frontPanelPresetRecall(3);
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(8));
  });

  it('keeps the session alive with Q under the idle timeout', async () => {
    const sim = await startSim({ idleTimeoutMs: 1500 });
    const { rec } = await tcp(sim, { keepalive_ms: 1000 });
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(sim.received.filter((c) => c === 'Q').length).toBeGreaterThanOrEqual(4), { timeout: 8000 });
    expect(rec.statuses.filter((s) => s.status === 'offline')).toEqual([]);
  });

  it('reconnects when the keep-alive gets no answer', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim, { keepalive_ms: 1000, request_timeout_ms: 300 });
    await waitStatus(rec, 'online');
    sim.silent = true;
    await vi.waitFor(() => expect(rec.statuses.some((s) => /liveness probe/.test(s.message))).toBe(true), { timeout: 8000 });
    sim.silent = false;
    await waitStatus(rec, 'online');
  });

  it('survives garbage (logged, no crash)', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    sim.sendRaw(Buffer.from([1, 2, 3, 0x80, 0x9f, 13, 10]));
    await vi.waitFor(() => expect(rec.logs.some((l) => /unreadable/.test(l.msg))).toBe(true));
    await run(dev, 'route', { input: 3, output: 3 });
    expect(routes(rec)['3']).toBe(3);
  });

  it('logs a flood of 1,000 garbage lines at most 5 times, then with the count left out, and keeps working', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    const window = movableNoiseWindow(rec);
    sim.sendRaw('\x01\x02 line noise\r\n'.repeat(1000));
    // The route's reply comes after the garbage on the same stream, so every garbage line has been read by then.
    await run(dev, 'route', { input: 3, output: 3 });
    expect(routes(rec)['3']).toBe(3);
    expect(warnLines(rec, /unreadable/)).toHaveLength(5);
    window.moveOn(61_000);
    sim.sendRaw('\x01\x02 line noise\r\n');
    await vi.waitFor(() => expect(warnLines(rec, /unreadable/)).toHaveLength(6));
    expect(warnLines(rec, /unreadable/)[5]).toMatchObject({ suppressed: 995, total: 1001 });
    expect(rec.status).toBe('online');
  });

  it('returns online after the switcher is killed and restarted, sets verbose again and re-reads', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    await sim.stop();
    await waitStatus(rec, 'offline');
    sim.video[0] = 4;
    await sim.start();
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(4));
    expect(sim.received.filter((c) => c === '\x1b3CV')).toHaveLength(2);
    sim.frontPanelTie(6, 2, 'video'); // notices reach the new session: verbose was set again
    await vi.waitFor(() => expect(routes(rec)['2']).toBe(6));
  });

  it('sets verbose mode again when the switcher restarts under a live session (banner)', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    sim.powerCycle();
    await vi.waitFor(() => expect(sim.received.filter((c) => c === '\x1b3CV')).toHaveLength(2));
    sim.frontPanelTie(5, 5, 'av');
    await vi.waitFor(() => expect(routes(rec)['5']).toBe(5));
  });
});

describe('extron-sis driver over RS-232 (binding-mock)', () => {
  it('sets up without a banner, routes and follows front-panel changes', async () => {
    const sim = new SisSimulator({ inputs: 4, outputs: 4 });
    const path = `/dev/extron-test-${process.pid}`;
    const binding = sim.serialBinding(path);
    const { rec, dev } = await startDriver({ transport: 'serial', path }, binding);
    await waitStatus(rec, 'online');
    expect(sim.received[0]).toBe('\x1b3CV');
    expect(await run(dev, 'route', { input: 2, output: 4 })).toEqual({ output: 4, input: 2, layer: 'av' });
    sim.frontPanelTie(3, 1, 'audio');
    await vi.waitFor(() => expect(audio(rec)['1']).toBe(3));
    expect(routes(rec)['1']).toBe(1);
  });

  it('a switcher restarting on RS-232 sends the copyright line without the date (LAN only): verbose is set again', async () => {
    const sim = new SisSimulator({ inputs: 4, outputs: 4 });
    const path = `/dev/extron-restart-${process.pid}`;
    const { rec } = await startDriver({ transport: 'serial', path }, sim.serialBinding(path));
    await waitStatus(rec, 'online');
    sim.powerCycle();
    await vi.waitFor(() => expect(sim.received.filter((c) => c === '\x1b3CV')).toHaveLength(2));
    sim.frontPanelTie(2, 3, 'av');
    await vi.waitFor(() => expect(routes(rec)['3']).toBe(2));
    expect(rec.statuses.at(-1)?.status).toBe('online');
  });

  it('returns online after the serial adapter is unplugged and plugged back, and re-reads the ties', async () => {
    const sim = new SisSimulator({ inputs: 4, outputs: 2 });
    const path = `/dev/extron-unplug-${process.pid}`;
    const { rec } = await startDriver({ transport: 'serial', path }, sim.serialBinding(path));
    await waitStatus(rec, 'online');
    sim.unplugSerial();
    await waitStatus(rec, 'offline');
    sim.video[1] = 4;
    sim.plugInSerial();
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(routes(rec)['2']).toBe(4));
    expect(sim.received.filter((c) => c === '\x1b3CV')).toHaveLength(2);
  });
});
