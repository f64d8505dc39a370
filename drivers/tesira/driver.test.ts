import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceInstance } from '../../src/host/contract.js';
import { recordingContext, runAction } from '../../test/support/driver-harness.js';
import { until } from '../../test/support/wait.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { createTesira, type TesiraConfig } from './driver.js';
import { TTP_BANNER, TesiraSimulator, type TesiraSimulatorOptions } from './simulator.js';
import { NEGOTIATION_ROUNDS } from './simulator-codec.js';

let sim: TesiraSimulator;
let dev: DeviceInstance | null = null;
const servers: net.Server[] = [];

const DESIGN: TesiraSimulatorOptions = {
  blocks: {
    ProgramLevel: { kind: 'level', channels: { 1: -12 } },
    MicMutes: { kind: 'mute', channels: { 1: false, 2: true } },
  },
  presets: { 1001: { 'ProgramLevel/1': -30, 'MicMutes/1': true } },
};
const CONTROLS: TesiraConfig['controls'] = {
  'program-level': { instance: 'ProgramLevel', type: 'level', channel: 1 },
  'mic-mute': { instance: 'MicMutes', type: 'mute', channel: 1 },
  'lectern-mute': { instance: 'MicMutes', type: 'mute', channel: 2 },
};

async function setup(cfg: Partial<TesiraConfig> = {}, design: TesiraSimulatorOptions = DESIGN, waitOnline = true) {
  sim = new TesiraSimulator(design);
  const port = await sim.start();
  const ctx = recordingContext('audio');
  dev = createTesira(
    { transport: 'telnet', host: '127.0.0.1', port, controls: CONTROLS, request_timeout_ms: 1000, ...cfg } as TesiraConfig,
    ctx,
  );
  await dev.start();
  if (waitOnline) await ctx.until((c) => c.status === 'online', 'online');
  return ctx;
}

const run = (action: string, params: Record<string, unknown> = {}) => runAction(dev!, action, params);

afterEach(async () => {
  await dev?.stop();
  dev = null;
  await sim?.stop();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('Tesira simulator Telnet negotiation', () => {
  it('starts the session only after every option was refused', async () => {
    sim = new TesiraSimulator(DESIGN);
    const port = await sim.start();
    const sock = net.createConnection({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    sock.on('data', (d) => (received = Buffer.concat([received, d])));
    // The rounds of the Telnet page's example negotiation (simulator-codec.ts).
    const ask = (round: readonly (readonly [number, number])[]) => round.flatMap(([verb, opt]) => [255, verb, opt]);
    const refuse = (round: readonly (readonly [number, number])[]) =>
      round.flatMap(([verb, opt]) => [255, verb === 253 ? 252 : 254, opt]);
    const first = ask(NEGOTIATION_ROUNDS[0] ?? []);
    // Waited for, not given a fixed 100 ms (or 50 ms a round): on a loaded machine the answer can come later.
    await until(() => received.length >= first.length, 'the first negotiation round');
    expect([...received]).toEqual(first);
    // Accepting (WILL to DO) is not a refusal: no next round, no banner; commands are ignored.
    sock.write(Buffer.from([255, 251, 24]));
    sock.write('Level1 get level 1\n');
    await new Promise((r) => setTimeout(r, 100));
    expect([...received]).toEqual(first);
    for (const [i, round] of NEGOTIATION_ROUNDS.entries()) {
      const before = received.length;
      sock.write(Buffer.from(refuse(round)));
      await until(() => received.length > before, `the answer to refusal round ${i + 1}`);
    }
    await until(() => received.toString('latin1').includes(`\r\n${TTP_BANNER}\r\n`), 'the banner');
    expect(sim.received).toEqual([]);
    sock.destroy();
  });
});

describe('tesira driver over Telnet', () => {
  it('refuses every option, waits for the banner, subscribes with labels and gets the values', async () => {
    const ctx = await setup();
    expect(sim.startedSessions).toBe(1);
    expect(sim.received).toEqual([
      'SESSION set verbose true',
      'ProgramLevel subscribe level 1 program-level 250',
      'MicMutes subscribe mute 1 mic-mute 250',
      'MicMutes subscribe mute 2 lectern-mute 250',
    ]);
    expect(ctx.state).toEqual({ 'program-level': -12, 'mic-mute': false, 'lectern-mute': true });
  });

  it('set, toggle, get and preset recall; state follows the publishes', async () => {
    const ctx = await setup();
    await run('level', { control: 'program-level', db: -6.5 });
    await ctx.until((c) => c.state['program-level'] === -6.5, 'level publish');
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'mute publish');
    await run('mute.toggle', { control: 'lectern-mute' });
    await ctx.until((c) => c.state['lectern-mute'] === false, 'toggle publish');
    await expect(run('read', { control: 'program-level' })).resolves.toEqual({ value: -6.5 });
    await run('preset.recall', { id: 1001 });
    await ctx.until((c) => c.state['program-level'] === -30 && c.state['mic-mute'] === true, 'preset values');
    expect(sim.received).toContain('ProgramLevel set level 1 -6.5');
    expect(sim.received).toContain('MicMutes toggle mute 2');
    expect(sim.received).toContain('DEVICE recallPreset 1001');
    await expect(run('level', { control: 'program-level', db: 0, ramp: 2 })).rejects.toThrow(/cannot ramp/);
  });

  it('state comes from the device: a wall-panel change is followed, an unacknowledged set is not assumed', async () => {
    const ctx = await setup({}, { ...DESIGN, echo: true });
    sim.setValue('ProgramLevel', 1, -40);
    await ctx.until((c) => c.state['program-level'] === -40, 'panel change');
    await expect(run('preset.recall', { id: 77 })).rejects.toThrow(/-ERR preset not found/);
    expect(ctx.state['program-level']).toBe(-40);
    // With echo on, every command comes back first; echoes are recognised, not treated as noise.
    expect(ctx.logs.some((l) => l.msg === 'Tesira echoed the command')).toBe(true);
    expect(ctx.logs.some((l) => String(l.msg).includes('not TTP'))).toBe(false);
  });

  it("a control the device does not know is bad_config with the device's words, retried at the longest interval", async () => {
    const ghost = { ...CONTROLS, ghost: { instance: 'NoSuchBlock', type: 'level' as const, channel: 1 } };
    const ctx = await setup({ controls: ghost }, DESIGN, false);
    await ctx.until((c) => c.status === 'bad_config', 'bad_config');
    expect(ctx.statuses.at(-1)?.message).toMatch(/ghost \(NoSuchBlock\): .*-ERR address not found/);
    expect(ctx.statuses.at(-1)?.message).toMatch(/next attempt in 60 s/);
  });

  it('bytes with no line end within 64 KiB are dropped and logged, and the device keeps working', async () => {
    const ctx = await setup();
    sim.injectRaw('z'.repeat(70 * 1024));
    sim.injectRaw('\r\n');
    await ctx.until((c) => c.logs.some((l) => String(l.msg).includes('dropped bytes with no line end')), 'overflow logged');
    const line = ctx.logs.find((l) => String(l.msg).includes('dropped bytes with no line end'));
    expect(line).toMatchObject({ level: 40, limit: 64 * 1024 });
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'still working');
  });

  it('garbage lines are logged and ignored', async () => {
    const ctx = await setup();
    sim.injectRaw(Buffer.from([0x00, 0xc3, 0x28, 0x0a]));
    sim.injectRaw('!!! not a publish\r\n');
    await ctx.until(
      (c) => c.logs.filter((l) => l.msg === 'Tesira sent a line that is not TTP; ignored').length >= 2,
      'garbage logged',
    );
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'still working');
  });

  it('reconnects after the device goes away and re-subscribes on the new session', async () => {
    const ctx = await setup();
    const port = sim.listeningPort;
    await sim.stop();
    await ctx.until((c) => c.status === 'offline', 'offline');
    sim.blocks.get('ProgramLevel')!.channels[1] = -3;
    await sim.start(port);
    await ctx.until((c) => c.status === 'online' && c.state['program-level'] === -3, 'online with re-read value');
    expect(sim.received.filter((l) => l.startsWith('ProgramLevel subscribe')).length).toBe(2);
    sim.setValue('MicMutes', 1, true);
    await ctx.until((c) => c.state['mic-mute'] === true, 'publish on the new session');
  });

  it('a server that never sends the banner is dropped and retried', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ctx = recordingContext('audio');
    dev = createTesira(
      {
        transport: 'telnet',
        host: '127.0.0.1',
        port: (server.address() as net.AddressInfo).port,
        controls: CONTROLS,
        banner_timeout_ms: 500,
      } as TesiraConfig,
      ctx,
    );
    await dev.start();
    await ctx.until(
      (c) => c.statuses.some((st) => st.status === 'offline' && st.message.includes('no TTP banner')),
      'banner timeout',
    );
    expect(ctx.statuses.some((s) => s.status === 'online')).toBe(false);
  });

  it('re-subscribes periodically with the same labels and detects a silent device', async () => {
    const ctx = await setup({ resubscribe_ms: 1000, keepalive_ms: 1000, request_timeout_ms: 300 });
    await ctx.until(
      () => sim.received.filter((l) => l.includes('subscribe level 1 program-level')).length >= 2,
      'resubscribe',
      10_000,
    );
    sim.silent = true;
    await ctx.until((c) => c.status === 'offline', 'offline after silent re-subscribe', 10_000);
    sim.silent = false;
    await ctx.until((c) => c.status === 'online', 'back online', 10_000);
    expect(ctx.statuses.some((st) => st.status === 'offline' && /liveness probe/.test(st.message))).toBe(true);
  });
});

describe('tesira driver over RS-232 (binding-mock)', () => {
  it('talks TTP without Telnet negotiation at 115200', async () => {
    sim = new TesiraSimulator(DESIGN);
    const path = '/dev/ROBOT-tesira-test';
    simulatedSerialPorts.set(path, sim.serialBinding(path));
    const ctx = recordingContext('audio');
    dev = createTesira({ transport: 'serial', path, controls: CONTROLS, request_timeout_ms: 1000 } as TesiraConfig, ctx);
    await dev.start();
    await ctx.until((c) => c.status === 'online', 'online on serial');
    expect(ctx.statuses.at(-1)?.message).toContain('serial:///dev/ROBOT-tesira-test@115200');
    expect(ctx.state['program-level']).toBe(-12);
    await run('mute', { control: 'mic-mute', on: true });
    await ctx.until((c) => c.state['mic-mute'] === true, 'mute over serial');
    simulatedSerialPorts.delete(path);
  });
});
