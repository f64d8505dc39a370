import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { BindingInterface } from '../../src/transport/serial.js';
import { KramerP3000Device, type KramerP3000Config } from './driver.js';
import { type P3kSimOptions, P3kSimulator } from './simulator.js';
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

const BASE: KramerP3000Config = {
  transport: 'tcp',
  port: 5000,
  baud_rate: 115_200,
  route_command: 'VID',
  route_layers: { video: 1, audio: 2 },
  disconnect_input: 'zero',
  audio: true,
  input_labels: [],
  output_labels: [],
  keepalive_ms: 30_000,
  request_timeout_ms: 1000,
};

async function startSim(opts: P3kSimOptions = {}) {
  const sim = new P3kSimulator(opts);
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}
async function startDriver(cfg: Partial<KramerP3000Config>, serialBinding?: BindingInterface) {
  const rec = recordingContext();
  const dev = new KramerP3000Device({ ...BASE, ...cfg }, rec, { serialBinding });
  await dev.start();
  cleanups.push(() => dev.stop());
  return { rec, dev };
}
const tcp = (sim: P3kSimulator, extra: Partial<KramerP3000Config> = {}) =>
  startDriver({ host: '127.0.0.1', port: sim.address.port, ...extra });

describe('kramer-p3000 driver over TCP', () => {
  it('handshakes, reads the I/O count and every route, then goes online', async () => {
    const sim = await startSim({ inputs: 4, outputs: 4 });
    sim.video[1] = 3;
    sim.audio[1] = 0;
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    expect(sim.received.slice(0, 4)).toEqual(['#', '#INFO-IO?', '#VID? 1', '#AUD? 1']);
    expect(rec.state.inputs).toBe(4);
    expect(routes(rec)).toEqual({ '1': 1, '2': 3, '3': 3, '4': 4 });
    expect(audio(rec)['2']).toBeNull();
  });

  it('routes per layer with #AV / #VID / #AUD, disconnects with input 0, and maps ERR codes', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim, { inputs: 12 }); // config claims more inputs than the unit has
    await waitStatus(rec, 'online');
    expect(await run(dev, 'route', { input: 3, output: 7 })).toEqual({ output: 7, layer: 'av', input: 3 });
    expect(sim.received).toContain('#AV 3>7');
    expect(audio(rec)['7']).toBe(3);
    await run(dev, 'route', { input: 5, output: 7, layer: 'video' });
    await run(dev, 'route', { input: 0, output: 7, layer: 'audio' });
    expect(sim.received.slice(-2)).toEqual(['#VID 5>7', '#AUD 0>7']);
    expect(routes(rec)['7']).toBe(5);
    expect(audio(rec)['7']).toBeNull();
    await expect(run(dev, 'route', { input: 10, output: 1 })).rejects.toThrow('device answered ERR003: parameter out of range');
    await expect(run(dev, 'preset.recall', { preset: 9 })).rejects.toThrow('ERR003');
    expect(rec.status).toBe('online');
  });

  it('uses #ROUTE with per-model layer numbers and the inputs+1 disconnect value', async () => {
    const model = { inputs: 4, outputs: 4, layers: { video: 0, audio: 1 }, disconnect: 'inputs_plus_one' as const };
    const sim = await startSim(model);
    const { rec, dev } = await tcp(sim, {
      route_command: 'ROUTE',
      route_layers: { video: 0, audio: 1 },
      disconnect_input: 'inputs_plus_one',
    });
    await waitStatus(rec, 'online');
    expect(sim.received).toContain('#ROUTE? 0,1');
    expect(sim.received).toContain('#ROUTE? 1,1');
    await run(dev, 'route', { input: 2, output: 3 });
    expect(sim.received.slice(-2)).toEqual(['#ROUTE 0,3,2', '#ROUTE 1,3,2']);
    await run(dev, 'route', { input: 0, output: 3, layer: 'video' });
    expect(sim.received.at(-1)).toBe('#ROUTE 0,3,5');
    expect(sim.video[2]).toBe(0);
    expect(routes(rec)['3']).toBeNull();
    expect(audio(rec)['3']).toBe(2);
  });

  it('follows device-initiated route lines (front panel, other clients)', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    sim.frontPanelRoute('av', 6, 2);
    await vi.waitFor(() => expect(routes(rec)['2']).toBe(6));
    expect(audio(rec)['2']).toBe(6);
    const other = net.connect(sim.address.port, '127.0.0.1');
    cleanups.push(() => other.destroy());
    await new Promise((r) => other.once('connect', r));
    other.write('#VID 8>1\r');
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(8));
  });

  it('stores and recalls presets, reading the routes back', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    await run(dev, 'route', { input: 8, output: 1 });
    expect(await run(dev, 'preset.save', { preset: 2 })).toEqual({ preset: 2 });
    await run(dev, 'route', { input: 1, output: 1 });
    const r = (await run(dev, 'preset.recall', { preset: 2 })) as { video: Record<string, number> };
    expect(r.video['1']).toBe(8);
    expect(routes(rec)['1']).toBe(8);
  });

  it('reads everything again when the device sends its start message', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    sim.video[4] = 2; // changed while "rebooting", no notice
    sim.powerOn();
    await vi.waitFor(() => expect(routes(rec)['5']).toBe(2));
    expect(rec.state.model).toBe('VS-88HN');
  });

  it('survives garbage (logged, no crash)', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    sim.sendRaw(Buffer.from([0xff, 0, 7, 13, 10]));
    sim.sendRaw('complete nonsense\r\n');
    await vi.waitFor(() => expect(rec.logs.filter((l) => /unreadable/.test(l.msg)).length).toBe(2));
    await run(dev, 'route', { input: 4, output: 4 });
    expect(routes(rec)['4']).toBe(4);
  });

  it('logs a flood of 1,000 garbage lines at most 5 times, then with the count left out, and keeps working', async () => {
    const sim = await startSim();
    const { rec, dev } = await tcp(sim);
    await waitStatus(rec, 'online');
    const window = movableNoiseWindow(rec);
    sim.sendRaw('complete nonsense\r\n'.repeat(1000));
    // The route's reply comes after the garbage on the same stream, so every garbage line has been read by then.
    await run(dev, 'route', { input: 4, output: 4 });
    expect(routes(rec)['4']).toBe(4);
    expect(warnLines(rec, /unreadable/)).toHaveLength(5);
    window.moveOn(61_000);
    sim.sendRaw('complete nonsense\r\n');
    await vi.waitFor(() => expect(warnLines(rec, /unreadable/)).toHaveLength(6));
    expect(warnLines(rec, /unreadable/)[5]).toMatchObject({ suppressed: 995, total: 1001 });
    expect(rec.status).toBe('online');
  });

  it('reconnects when the keep-alive handshake gets no answer', async () => {
    const sim = await startSim({ inputs: 2, outputs: 2 });
    const { rec } = await tcp(sim, { keepalive_ms: 1000, request_timeout_ms: 300 });
    await waitStatus(rec, 'online');
    sim.silent = true;
    await vi.waitFor(() => expect(rec.statuses.some((s) => /liveness probe/.test(s.message))).toBe(true), { timeout: 8000 });
    sim.silent = false;
    await waitStatus(rec, 'online');
  });

  it('returns online after the device is killed and restarted, and re-reads the routes', async () => {
    const sim = await startSim();
    const { rec } = await tcp(sim);
    await waitStatus(rec, 'online');
    await sim.stop();
    await waitStatus(rec, 'offline');
    sim.video[0] = 7;
    await sim.start();
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(7));
    sim.frontPanelRoute('video', 3, 3);
    await vi.waitFor(() => expect(routes(rec)['3']).toBe(3));
  });
});

describe('kramer-p3000 driver over RS-232 (binding-mock)', () => {
  it('handshakes, routes and follows front-panel lines', async () => {
    const sim = new P3kSimulator({ inputs: 4, outputs: 2, audio: false });
    const path = `/dev/kramer-test-${process.pid}`;
    const { rec, dev } = await startDriver({ transport: 'serial', path, audio: false }, sim.serialBinding(path));
    await waitStatus(rec, 'online');
    expect(sim.received).not.toContain('#AUD? 1');
    expect(rec.state.audio_routes).toBeUndefined();
    await run(dev, 'route', { input: 4, output: 2, layer: 'video' });
    expect(routes(rec)['2']).toBe(4);
    await expect(run(dev, 'route', { input: 1, output: 2, layer: 'audio' })).rejects.toThrow(/no audio layer/);
    sim.frontPanelRoute('video', 2, 1);
    await vi.waitFor(() => expect(routes(rec)['1']).toBe(2));
  });

  it('returns online after the serial adapter is unplugged and plugged back, and re-reads the routes', async () => {
    const sim = new P3kSimulator({ inputs: 4, outputs: 2 });
    const path = `/dev/kramer-unplug-${process.pid}`;
    const { rec } = await startDriver({ transport: 'serial', path }, sim.serialBinding(path));
    await waitStatus(rec, 'online');
    sim.unplugSerial();
    await waitStatus(rec, 'offline');
    sim.audio[0] = 3;
    sim.plugInSerial();
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(audio(rec)['1']).toBe(3));
    expect(sim.received.filter((c) => c === '#')).toHaveLength(2);
  });
});

/**
 * A unit that answers a set with the route alone, no " OK" — the VS-44DT and VS-62HA command
 * pages (VS-44DT manual p.65, VS-62HA p.68): `#VID 2>1` → `~01@VID 2>1`, `#ROUTE 1,1,2` → `~01@ROUTE 1,1,2`.
 * Written from those pages, not from the driver.
 */
async function unitWithoutOk() {
  const received: string[] = [];
  const routes = new Map<string, string>();
  const server = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\r'); i >= 0; i = buf.indexOf('\r')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        received.push(line);
        let m: RegExpExecArray | null;
        if (line === '#') s.write('~01@ OK\r\n');
        else if (line === '#INFO-IO?') s.write('~01@INFO-IO IN 2,OUT 2\r\n');
        else if ((m = /^#(VID|AUD)\? (\d+)$/.exec(line))) s.write(`~01@${m[1]} ${routes.get(`${m[1]}${m[2]}`) ?? 1}>${m[2]}\r\n`);
        else if ((m = /^#(VID|AUD|AV) (\d+)>(\d+)$/.exec(line))) {
          routes.set(`${m[1]}${m[3]}`, m[2]);
          s.write(`~01@${m[1]} ${m[2]}>${m[3]}\r\n`);
        } else if ((m = /^#ROUTE\? (\d+),(\d+)$/.exec(line))) s.write(`~01@ROUTE ${m[1]},${m[2]},1\r\n`);
        else if ((m = /^#ROUTE (\d+),(\d+),(\d+)$/.exec(line))) s.write(`~01@ROUTE ${m[1]},${m[2]},${m[3]}\r\n`);
        else s.write('~01@ERR 002\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { received, port: (server.address() as net.AddressInfo).port };
}

describe('kramer-p3000 sets answered without " OK" (VS-44DT, VS-62HA)', () => {
  it('#VID in>out answered by the route alone settles the route at once', async () => {
    const unit = await unitWithoutOk();
    const { rec, dev } = await startDriver({ host: '127.0.0.1', port: unit.port, request_timeout_ms: 1000 });
    await waitStatus(rec, 'online');
    expect(await run(dev, 'route', { input: 2, output: 1, layer: 'video' })).toEqual({ output: 1, layer: 'video', input: 2 });
    expect(routes(rec)['1']).toBe(2);
  });

  it('route_command = "ROUTE": the video #ROUTE answered without OK, then the audio #ROUTE is sent too', async () => {
    const unit = await unitWithoutOk();
    const { rec, dev } = await startDriver({
      host: '127.0.0.1',
      port: unit.port,
      route_command: 'ROUTE',
      request_timeout_ms: 1000,
    });
    await waitStatus(rec, 'online');
    await run(dev, 'route', { input: 2, output: 1 });
    expect(unit.received.slice(-2)).toEqual(['#ROUTE 1,1,2', '#ROUTE 2,1,2']);
    expect(routes(rec)['1']).toBe(2);
    expect(audio(rec)['1']).toBe(2);
  });
});
