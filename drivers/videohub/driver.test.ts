import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { VideohubDevice } from './driver.js';
import { VideohubSimulator } from './simulator.js';
import {
  cleanupAfterEach,
  movableNoiseWindow,
  recordingContext,
  runAction as run,
  waitStatus,
  warnLines,
} from '../../test/support/driver-harness.js';

const cleanups = cleanupAfterEach();

async function startSim(opts: ConstructorParameters<typeof VideohubSimulator>[0] = {}) {
  const sim = new VideohubSimulator(opts);
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

async function startDriver(port: number, extra: Record<string, number> = {}) {
  const rec = recordingContext();
  const dev = new VideohubDevice(
    {
      host: '127.0.0.1',
      port,
      ping_interval_ms: 15_000,
      request_timeout_ms: 1000,
      prelude_timeout_ms: 3000,
      ...extra,
    },
    rec,
  );
  await dev.start();
  cleanups.push(() => dev.stop());
  return { rec, dev };
}

describe('videohub driver', () => {
  it('reads the connect dump, then reports online with 1-based routes, labels and locks', async () => {
    const sim = await startSim({ inputLabels: ['Cam A'], outputLabels: ['Projector'] });
    sim.routes[7] = 2; // output 8 <- input 3
    const { rec } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    expect(rec.state.model).toBe('Smart Videohub 8x8');
    expect(rec.state.inputs).toBe(8);
    expect((rec.state.routes as Record<string, number>)['8']).toBe(3);
    expect((rec.state.routes as Record<string, number>)['1']).toBe(1);
    expect((rec.state.input_labels as Record<string, string>)['1']).toBe('Cam A');
    expect((rec.state.output_labels as Record<string, string>)['1']).toBe('Projector');
    expect((rec.state.locks as Record<string, string>)['1']).toBe('unlocked');
  });

  it('also completes the dump on firmware without END PRELUDE', async () => {
    const sim = await startSim({ endPrelude: false });
    const { rec } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    expect(Object.keys(rec.state.routes as object)).toHaveLength(8);
  });

  it('reports an error status when the Videohub says no device is present', async () => {
    const sim = await startSim({ devicePresent: 'false' });
    const { rec } = await startDriver(sim.address.port);
    await waitStatus(rec, 'error');
    expect(rec.statuses.at(-1)?.message).toMatch(/Device present: false/);
  });

  it('routes with 0-based indexes on the wire and takes state from the status block', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    const result = await run(dev, 'route', { input: 3, output: 8, layer: 'video' });
    expect(sim.received).toContain('VIDEO OUTPUT ROUTING:\n7 2');
    expect(result).toEqual({ output: 8, input: 3, layer: 'video' });
    expect((rec.state.routes as Record<string, number>)['8']).toBe(3);
  });

  it('never takes state from its own request: a merged change reported by the device wins', async () => {
    // A scripted Videohub that ACKs our route but reports that another client's change won.
    const server = net.createServer((s) => {
      s.write(
        'PROTOCOL PREAMBLE:\nVersion: 2.3\n\nVIDEOHUB DEVICE:\nDevice present: true\nVideo inputs: 4\nVideo outputs: 4\n\n',
      );
      s.write('VIDEO OUTPUT ROUTING:\n0 0\n1 1\n2 2\n3 3\n\nEND PRELUDE:\n\n');
      s.on('data', (d) => {
        const t = d.toString();
        if (t.includes('PING:')) s.write('ACK\n\n');
        if (t.startsWith('VIDEO OUTPUT ROUTING:\n0 2')) s.write('ACK\n\nVIDEO OUTPUT ROUTING:\n0 3\n\n');
        if (t.startsWith('VIDEO OUTPUT ROUTING:\n1 2')) s.write('NAK\n\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const { rec, dev } = await startDriver((server.address() as net.AddressInfo).port);
    await waitStatus(rec, 'online');
    expect(await run(dev, 'route', { input: 3, output: 1 })).toEqual({ output: 1, input: 4, layer: 'video' });
    expect((rec.state.routes as Record<string, number>)['1']).toBe(4);
    await expect(run(dev, 'route', { input: 3, output: 2 })).rejects.toThrow(/NAK/);
    expect((rec.state.routes as Record<string, number>)['2']).toBe(2);
  });

  it('updates state from unsolicited blocks (front panel or another client)', async () => {
    const sim = await startSim();
    const { rec } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    sim.route(4, 6);
    await vi.waitFor(() => expect((rec.state.routes as Record<string, number>)['5']).toBe(7));
  });

  it('reports locks (owned / locked by another) and refuses to route a locked output', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    sim.lockByOther(2);
    await vi.waitFor(() => expect((rec.state.locks as Record<string, string>)['3']).toBe('locked'));
    await expect(run(dev, 'route', { input: 1, output: 3 })).rejects.toThrow(/locked by another client/);
    // Our own lock request on a locked output is NAKed by the device.
    await expect(run(dev, 'lock', { output: 3, state: 'lock' })).rejects.toThrow(/NAK/);
    expect(await run(dev, 'lock', { output: 3, state: 'force_unlock' })).toEqual({ output: 3, lock: 'unlocked' });
    expect(await run(dev, 'lock', { output: 3, state: 'lock' })).toEqual({ output: 3, lock: 'owned' });
    await run(dev, 'route', { input: 1, output: 3 });
    expect((rec.state.routes as Record<string, number>)['3']).toBe(1);
  });

  it('sets labels and reads the whole table on request', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    expect(await run(dev, 'label.set', { kind: 'output', index: 2, label: 'Confidence' })).toEqual({
      kind: 'output',
      index: 2,
      label: 'Confidence',
    });
    expect(sim.outputLabels[1]).toBe('Confidence');
    const table = (await run(dev, 'routes')) as { video: Record<string, number> };
    expect(sim.received).toContain('VIDEO OUTPUT ROUTING:');
    expect(table.video['2']).toBe(2);
    await expect(run(dev, 'route', { input: 9, output: 1 })).rejects.toThrow(/input 9 does not exist/);
    await expect(run(dev, 'route', { input: 1, output: 1, layer: 'audio' })).rejects.toThrow(/no separate audio layer/);
  });

  it('sends PING: as the liveness probe and reconnects when the device goes silent', async () => {
    const sim = await startSim();
    const { rec } = await startDriver(sim.address.port, { ping_interval_ms: 100, request_timeout_ms: 300 });
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect(sim.received.filter((r) => r === 'PING:').length).toBeGreaterThan(2));
    sim.silent = true;
    await vi.waitFor(
      () => expect(rec.statuses.some((s) => s.status === 'offline' && /liveness probe/.test(s.message))).toBe(true),
      {
        timeout: 5000,
      },
    );
    sim.silent = false;
    await waitStatus(rec, 'online');
  });

  it('survives garbage from the device (logged, no crash)', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    sim.sendRaw(Buffer.from([0, 255, 13, 10, 0x41, 0x42, 10, 10]));
    sim.sendRaw('random words here\n\n');
    await vi.waitFor(() => expect(rec.logs.some((l) => /ignored a line/.test(l.msg))).toBe(true));
    await run(dev, 'route', { input: 2, output: 1 });
    expect(rec.status).toBe('online');
    expect((rec.state.routes as Record<string, number>)['1']).toBe(2);
  });

  it('logs a flood of 1,000 garbage lines at most 5 times, then with the count left out, and keeps working', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    const window = movableNoiseWindow(rec);
    sim.sendRaw('random words here\n'.repeat(1000));
    // The route's ACK comes after the garbage on the same stream, so every garbage line has been read by then.
    await run(dev, 'route', { input: 2, output: 1 });
    expect((rec.state.routes as Record<string, number>)['1']).toBe(2);
    expect(warnLines(rec, /ignored a line/)).toHaveLength(5);
    window.moveOn(61_000);
    sim.sendRaw('one more\n');
    await vi.waitFor(() => expect(warnLines(rec, /ignored a line/)).toHaveLength(6));
    expect(warnLines(rec, /ignored a line/)[5]).toMatchObject({ suppressed: 995, total: 1001 });
    expect(rec.status).toBe('online');
  });

  it('logs bytes dropped for having no line end (over 8 KiB) at most 5 times a minute, then with the count left out', async () => {
    const sim = await startSim();
    const { rec, dev } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    const window = movableNoiseWindow(rec);
    // 1,000 chunks of 9,000 bytes with no line end: each passes the 8,192-byte line limit.
    for (let i = 0; i < 1000; i++) sim.sendRaw('x'.repeat(9000));
    sim.sendRaw('\n');
    // The route's ACK comes after the flood on the same stream.
    await run(dev, 'route', { input: 2, output: 1 });
    expect((rec.state.routes as Record<string, number>)['1']).toBe(2);
    const dropped = () => warnLines(rec, /dropped bytes with no line end/);
    expect(dropped()).toHaveLength(5);
    expect(dropped()[0]).toMatchObject({ limit: 8192 });
    window.moveOn(61_000);
    sim.sendRaw('y'.repeat(9000));
    await vi.waitFor(() => expect(dropped()).toHaveLength(6));
    expect((dropped()[5] as { suppressed?: number }).suppressed).toBeGreaterThan(0);
    expect(rec.status).toBe('online');
  });

  it('returns online after the simulator is killed and restarted, and re-reads the state', async () => {
    const sim = await startSim();
    const { rec } = await startDriver(sim.address.port);
    await waitStatus(rec, 'online');
    await sim.stop();
    await waitStatus(rec, 'offline');
    sim.routes[0] = 5; // changed while we were away
    await sim.start();
    await waitStatus(rec, 'online');
    await vi.waitFor(() => expect((rec.state.routes as Record<string, number>)['1']).toBe(6));
    sim.route(1, 4); // the new session gets unsolicited updates again
    await vi.waitFor(() => expect((rec.state.routes as Record<string, number>)['2']).toBe(5));
  });
});
