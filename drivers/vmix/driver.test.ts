import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeviceInstance } from '../../src/host/contract.js';
import { createVmix } from './driver.js';
import { VmixSimulator } from './simulator.js';
import { recordingContext, runAction } from '../../test/support/driver-harness.js';

let sim: VmixSimulator;
let dev: DeviceInstance | null = null;

async function setup(cfg: { request_timeout_ms?: number; poll_interval_ms?: number } = {}) {
  sim = new VmixSimulator({ chunked: true });
  const port = await sim.start();
  const ctx = recordingContext('mixer');
  dev = createVmix({ host: '127.0.0.1', port, request_timeout_ms: 1000, poll_interval_ms: 10_000, ...cfg }, ctx);
  await dev.start();
  await ctx.until((c) => c.status === 'online', 'online');
  return ctx;
}

const run = (action: string, params: Record<string, unknown> = {}) => runAction(dev!, action, params);

afterEach(async () => {
  await dev?.stop();
  dev = null;
  await sim?.stop();
});

describe('vmix driver against the simulator', () => {
  it('subscribes to tally and reads program, preview, tally and input names on connect', async () => {
    const ctx = await setup();
    expect(sim.received.slice(0, 3)).toEqual(['SUBSCRIBE TALLY', 'XML', 'TALLY']);
    expect(ctx.state).toMatchObject({
      program: 1,
      preview: 2,
      tally: ['program', 'preview', 'off', 'off'],
      version: '27.0.0.49',
    });
    expect((ctx.state.inputs as { title: string }[]).map((i) => i.title)).toEqual([
      'Camera 1 – Präsentator',
      'Camera 2 – Room',
      'Laptop HDMI',
      'Logo & Lower third',
    ]);
  });

  it('cut, preview, program, auto and aux reach vMix; state follows the tally it pushes', async () => {
    const ctx = await setup();
    await run('cut');
    await ctx.until((c) => c.state.program === 2 && c.state.preview === 1, 'program 2 after cut');
    await run('preview', { input: 3 });
    await ctx.until((c) => c.state.preview === 3, 'preview 3');
    await run('program', { input: 'Logo & Lower third' });
    await ctx.until((c) => c.state.program === 4, 'program 4 by title');
    await run('auto', { duration_ms: 500 });
    await ctx.until((c) => c.state.program === 3 && c.state.preview === 4, 'after fade');
    await run('aux', { bus: 2, input: 1 });
    expect(sim.outputs.get(2)).toBe(1);
    expect(sim.received).toContain('FUNCTION CutDirect Input=Logo%20%26%20Lower%20third');
    expect(sim.received).toContain('FUNCTION Fade Duration=500');
    expect(sim.received).toContain('FUNCTION SetOutput2 Value=Input&Input=1');
  });

  it('an ER answer becomes an error and changes no state', async () => {
    const ctx = await setup();
    const before = ctx.patches.length;
    await expect(run('preview', { input: 42 })).rejects.toThrow(/vMix refused FUNCTION: Input not found/);
    expect(ctx.patches.length).toBe(before);
    expect(ctx.state.preview).toBe(2);
  });

  it('state comes from the device, not from our echo: a change made at the console is followed', async () => {
    const ctx = await setup();
    sim.setProgram(3);
    await ctx.until((c) => c.state.program === 3, 'console change');
    // An OK without a tally change (the device did nothing visible) leaves program as reported.
    sim.silentTally = true;
    await run('program', { input: 1 });
    expect(sim.program).toBe(1);
    expect(ctx.state.program).toBe(3);
  });

  it('garbage from the device is logged and ignored; the session goes on', async () => {
    const ctx = await setup();
    sim.injectRaw(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d, 0x0a]));
    sim.injectRaw('Welcome, this is not a response\r\n');
    await ctx.until((c) => c.logs.filter((l) => String(l.msg).includes('not a response')).length >= 2, 'garbage logged');
    await run('cut');
    await ctx.until((c) => c.state.program === 2, 'cut after garbage');
    expect(ctx.status).toBe('online');
  });

  it('reconnects after vMix goes away, re-subscribes and re-reads state', async () => {
    const ctx = await setup();
    const port = sim.listeningPort;
    await sim.stop();
    await ctx.until((c) => c.status === 'offline', 'offline');
    await expect(run('cut')).rejects.toThrow();
    sim.program = 4;
    sim.preview = 1;
    await sim.start(port);
    await ctx.until((c) => c.status === 'online' && c.state.program === 4, 'online again with new state');
    expect(sim.received.filter((l) => l === 'SUBSCRIBE TALLY').length).toBe(2);
    sim.setProgram(2);
    await ctx.until((c) => c.state.program === 2, 'tally push on the new session');
  });

  it('a vMix that stops answering is detected by the XML poll and the link is re-opened', async () => {
    const ctx = await setup({ request_timeout_ms: 200, poll_interval_ms: 1000 });
    sim.silent = true;
    await ctx.until((c) => c.status === 'offline', 'offline after poll timeout');
    sim.silent = false;
    await ctx.until((c) => c.status === 'online', 'online again');
    expect(ctx.statuses.some((st) => st.status === 'offline' && /liveness probe/.test(st.message))).toBe(true);
  });
});

/**
 * A vMix written from its TCP API notes (vmix.com/help28/TCPAPI.html): `VERSION OK` on connect, and `ER`
 * answers are to be expected for any command, e.g. `XML ER Not ready`. Not from the driver.
 */
async function notReadyVmix(greetAfterMs: number) {
  const received: { line: string; beforeGreeting: boolean }[] = [];
  let greeted = false;
  let xmlAsked = 0;
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    setTimeout(() => {
      greeted = true;
      s.write('VERSION OK 27.0.0.49\r\n');
    }, greetAfterMs);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\r\n'); i >= 0; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        received.push({ line, beforeGreeting: !greeted });
        if (line === 'SUBSCRIBE TALLY') s.write('SUBSCRIBE OK TALLY\r\n');
        else if (line === 'TALLY') s.write('TALLY OK 12\r\n');
        else if (line === 'XML') {
          xmlAsked++;
          s.write('XML ER Not ready\r\n');
        } else s.write(`${line.split(' ')[0]} ER Unknown\r\n`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    xmlAsked: () => xmlAsked,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('vmix driver against a vMix that is not ready (issue 17 §5)', () => {
  it('waits for VERSION OK before subscribing, reporting connecting meanwhile', async () => {
    const unit = await notReadyVmix(300);
    const ctx = recordingContext('mixer');
    dev = createVmix({ host: '127.0.0.1', port: unit.port, request_timeout_ms: 1000, poll_interval_ms: 10_000 }, ctx);
    try {
      await dev.start();
      await ctx.until((c) => c.status === 'online', 'online');
      expect(unit.received.length).toBeGreaterThan(0);
      expect(unit.received.filter((r) => r.beforeGreeting)).toEqual([]);
      expect(ctx.statuses[0].status).toBe('connecting');
    } finally {
      await dev.stop();
      dev = null;
      await unit.stop();
    }
  });

  it('`XML ER Not ready` to the keep-alive is an answer: the link stays online', async () => {
    const unit = await notReadyVmix(0);
    const ctx = recordingContext('mixer');
    dev = createVmix({ host: '127.0.0.1', port: unit.port, request_timeout_ms: 500, poll_interval_ms: 1000 }, ctx);
    try {
      await dev.start();
      await ctx.until((c) => c.status === 'online', 'online');
      await vi.waitFor(() => expect(unit.xmlAsked()).toBeGreaterThanOrEqual(3), { timeout: 5000 });
      expect(ctx.statuses.map((st) => st.status)).toEqual(['connecting', 'connecting', 'online']);
      expect(ctx.state.tally).toEqual(['program', 'preview']);
    } finally {
      await dev.stop();
      dev = null;
      await unit.stop();
    }
  });
});
