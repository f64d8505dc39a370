// The driver against the simulator on real loopback sockets, inside a real agent.
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../../src/state/bus.js';
import { startTestAgent, type TestAgent } from '../../test/support/agent.js';
import { startShureSimulator, type ShureSimulator } from './simulator.js';
import { until } from '../../test/support/wait.js';

let agent: TestAgent | null = null;
let sim: ShureSimulator | null = null;
afterEach(async () => {
  await agent?.stop();
  await sim?.stop();
  agent = sim = null;
});

async function start(gates: 'lobes' | 'coverage_areas' = 'lobes', width = 2) {
  sim = await startShureSimulator({ width });
  agent = await startTestAgent(
    `[devices.mxa]\ndriver = "shure-mic"\nhost = "127.0.0.1"\nport = ${sim.port}\ngates = "${gates}"\n`,
    { features: [] },
  );
  const mics: RoomEvent[] = [];
  agent.agent.events.on((e) => {
    if (e.type === 'mic') mics.push(e);
  });
  const s = sim;
  await until(() => s.received.length > 0 && agent?.agent.devices.get('mxa')?.status.status === 'online', 'connect');
  return { sim: s, agent, mics, state: () => agent?.agent.devices.values('mxa') ?? {} };
}

describe('shure-mic driver', () => {
  it('queries the gates at connect (no Telnet negotiation) and takes unsolicited REP', async () => {
    const { sim, mics, state } = await start();
    expect(sim.received).toEqual(['GET 00 AUTOMIX_GATE_OUT_EXT_SIG']);
    sim.setGate(3, true);
    await until(() => mics.length === 1, 'mic on');
    expect(mics[0].data).toMatchObject({ device: 'mxa', channel: 3, on: true, chairman: false });
    expect(state().active).toEqual([3]);
    sim.setGate(3, false);
    await until(() => mics.length === 2, 'mic off');
    expect(mics[1].data).toMatchObject({ channel: 3, on: false });
    expect(state().channels).toMatchObject({ '3': false });
  });

  it('parses any channel width and MXA920 coverage areas', async () => {
    const { sim, mics } = await start('coverage_areas', 3);
    sim.setGate(5, true, 'lobes'); // not the configured gate source: ignored
    sim.setGate(12, true, 'coverage_areas');
    await until(() => mics.length === 1, 'coverage gate');
    expect(mics[0].data).toMatchObject({ channel: 12, on: true });
    expect(sim.received).toEqual(['GET 00 AUTOMIX_GATE_OUT_CA']);
  });

  it('takes the gates that are already on from the answer to GET', async () => {
    sim = await startShureSimulator();
    sim.setGate(2, true);
    agent = await startTestAgent(`[devices.mxa]\ndriver = "shure-mic"\nhost = "127.0.0.1"\nport = ${sim.port}\n`, {
      features: [],
    });
    await until(() => JSON.stringify(agent?.agent.devices.values('mxa').active) === '[2]', 'initial gate');
  });

  it('reconnects after the device drops the link; gates that were on turn off meanwhile', async () => {
    const { sim, mics, agent } = await start();
    sim.setGate(1, true);
    await until(() => mics.length === 1, 'mic on');
    sim.dropClients();
    await until(() => mics.length === 2, 'mic off on link loss');
    expect(mics[1].data).toMatchObject({ channel: 1, on: false, reason: 'link_lost' });
    expect(agent.agent.devices.get('mxa')?.status.status).toBe('offline');
    await until(() => sim.received.length === 2 && agent.agent.devices.get('mxa')?.status.status === 'online', 'reconnect');
    // The gate is still on at the device: the fresh GET brings it back.
    await until(() => mics.length === 3, 'gate re-read');
    expect(mics[2].data).toMatchObject({ channel: 1, on: true });
  });
});
