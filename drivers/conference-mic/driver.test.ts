// Each protocol end to end through its transport: serial (binding-mock), TCP and UDP.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/state/bus.js';
import { setSerialBinding } from '../../src/transport/index.js';
import { startTestAgent, type TestAgent } from '../../test/support/agent.js';
import { type ConferenceMicSimulator, startConferenceMicSimulator } from './simulator.js';
import { until } from '../../test/support/wait.js';

let agent: TestAgent | null = null;
let sim: ConferenceMicSimulator | null = null;
afterEach(async () => {
  await agent?.stop();
  await sim?.stop();
  agent = sim = null;
  setSerialBinding(null);
});

async function startAgent(device: string, hello?: () => void) {
  agent = await startTestAgent(`[devices.conf]\ndriver = "conference-mic"\n${device}`, { features: [] });
  const mics: RoomEvent[] = [];
  agent.agent.events.on((e) => {
    if (e.type === 'mic') mics.push(e);
  });
  const a = agent;
  // An SDC 8000 is online once it is heard: `hello` makes the unit send its first frame.
  await until(() => {
    if (a.agent.devices.get('conf')?.status.status === 'online') return true;
    hello?.();
    return false;
  }, 'online');
  const on = () => (a.agent.devices.values('conf').active as number[] | undefined) ?? [];
  return { mics, on, state: () => a.agent.devices.values('conf') };
}

describe('conference-mic driver', () => {
  it('Taiden over a serial port: positions → mic on/off, panorama → all off, chairman seats', async () => {
    const path = `/dev/ROBOT-taiden-${process.pid}`;
    // The driver finds the simulator's port by its path (simulatedSerialPorts).
    sim = await startConferenceMicSimulator({ protocol: 'taiden', transport: 'serial', path, chairman: [1] });
    const s = sim;
    const { mics, on } = await startAgent(`protocol = "taiden"\ntransport = "serial"\npath = "${path}"\nchairman = [1]\n`);
    await until(() => s.serialOpen && s.trackingStarted, 'port open, tracking started by the driver');
    sim.micOn(5);
    await until(() => on().join() === '5', 'mic 5');
    sim.micOn(1);
    await until(() => on().join() === '1', 'chairman shown');
    expect(mics.at(-1)?.data).toMatchObject({ channel: 1, on: true, chairman: true });
    sim.micOn(3);
    sim.micOff(3); // unit rule: chairman is on → chairman's position
    await until(() => on().join() === '1' && mics.length >= 6, 'back to chairman');
    sim.micOff(1);
    sim.micOff(5);
    await until(() => on().length === 0, 'panorama');
  });

  it('SDC 8000 over TCP: a frame with a bad checksum is logged and dropped', async () => {
    // No periodic sync: the test sends its own %S frames below.
    sim = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp', chairman: [1], syncIntervalMs: 0 });
    const s = sim;
    const { mics, on, state } = await startAgent(
      `protocol = "sdc8000"\ntransport = "tcp"\nhost = "127.0.0.1"\nport = ${sim.endpoint.port}\n`,
      () => s.sync(),
    );
    await until(() => s.clients === 1, 'client');
    s.send('%M00030111\r'); // checksum off by one
    s.micOn(4);
    await until(() => on().join() === '4', 'mic 4');
    expect(state().bad_frames).toBe(1);
    expect(mics.map((m) => m.data.channel)).toEqual([4]);
    s.micOn(1);
    await until(() => on().join() === '1,4', 'chairman on');
    expect(mics.at(-1)?.data).toMatchObject({ channel: 1, on: true, chairman: true });
    s.sync(); // %S00010004: no change
    s.send('%S00000113\r'); // sync: nothing on
    await until(() => on().length === 0, 'sync none');
    s.micOn(2);
    s.send('%V00000116\r');
    await until(() => on().length === 0 && mics.length === 6, 'all off');
  });

  it('Confidea over UDP: status 1/3 on, 0/2 off', async () => {
    sim = await startConferenceMicSimulator({ protocol: 'confidea', transport: 'udp' });
    const { mics, on, state } = await startAgent(`protocol = "confidea"\nhost = "127.0.0.1"\nlisten_port = 0\nchairman = [9]\n`);
    sim.target = state().listen_port as number;
    sim.micOn(7);
    await until(() => on().join() === '7', 'uid 7');
    sim.priority(9);
    await until(() => on().join() === '7,9', 'prior');
    expect(mics.at(-1)?.data).toMatchObject({ channel: 9, chairman: true });
    sim.request(7);
    sim.send('not json');
    await until(() => on().join() === '9' && state().bad_frames === 1, 'request = off, junk dropped');
  });

  it('a bad transport combination is bad_config, with the reason', async () => {
    agent = await startTestAgent(`[devices.conf]\ndriver = "conference-mic"\nprotocol = "confidea"\ntransport = "tcp"\n`, {
      features: [],
    });
    const st = agent.agent.devices.get('conf')?.status;
    expect(st?.status).toBe('bad_config');
    expect(st?.message).toMatch(/confidea.*udp/);
  });

  it('serial port missing from boot: offline (not connecting), retried; online once the adapter appears', async () => {
    const path = `/dev/ROBOT-late-${process.pid}`;
    // The adapter is not there at boot: the unit's port exists but opening it fails.
    sim = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'serial', path, syncIntervalMs: 200 });
    sim.unplug();
    agent = await startTestAgent(
      `[devices.conf]\ndriver = "conference-mic"\nprotocol = "sdc8000"\ntransport = "serial"\npath = "${path}"\nreconnect_min_ms = 50\nreconnect_max_ms = 200\n`,
      { features: [] },
    );
    const a = agent;
    const status = () => a.agent.devices.get('conf')?.status;
    await until(() => status()?.status === 'offline', 'offline');
    expect(status()?.message).toMatch(/next attempt in/);
    sim.plugIn();
    await until(() => status()?.status === 'online', 'online when the port appears');
  });

  it('UDP port taken at boot: offline with the reason, retried; online once it is free', async () => {
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((r) => squatter.bind({ port: 0, address: '0.0.0.0', exclusive: true }, r));
    const port = squatter.address().port;
    agent = await startTestAgent(
      `[devices.conf]\ndriver = "conference-mic"\nprotocol = "confidea"\nhost = "127.0.0.1"\nlisten_port = ${port}\nreconnect_min_ms = 50\nreconnect_max_ms = 200\n`,
      { features: [] },
    );
    const a = agent;
    const status = () => a.agent.devices.get('conf')?.status;
    await until(() => status()?.status === 'offline', 'offline');
    expect(status()?.message).toMatch(/EADDRINUSE/);
    await new Promise<void>((r) => squatter.close(() => r()));
    await until(() => status()?.status === 'online', 'online once the port is free');
  });
});
