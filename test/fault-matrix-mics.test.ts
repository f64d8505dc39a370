// The fault matrix (test/support/fault-matrix.ts) for the microphone drivers.
import net from 'node:net';
import { conferenceMicDriver } from '../drivers/conference-mic/index.js';
import { startConferenceMicSimulator } from '../drivers/conference-mic/simulator.js';
import { shureMicDriver, startShureSimulator } from '../drivers/shure-mic/index.js';
import { describeFaultMatrix } from './support/fault-matrix.js';

/** A Shure port that answers every command with `< REP ERR >` (Shure MXA910 command strings, pubs.shure.com: errors come back so). */
async function shureThatRefuses() {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', () => s.write('< REP ERR >'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { host: '127.0.0.1', port, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describeFaultMatrix('shure-mic', {
  driver: shureMicDriver,
  device: async () => {
    const sim = await startShureSimulator();
    return Object.assign(sim, { host: '127.0.0.1' });
  },
  config: (port) => ({ host: '127.0.0.1', port, keepalive_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  reject: { answer: () => '< REP ERR >' },
  action: { name: 'refresh', params: {} },
  change: {
    make: (sim) => sim.setGate(3, true),
    seen: (state) => ((state.active as number[] | undefined) ?? []).includes(3),
  },
  configError: {
    // gates = "coverage_areas" on a unit without them (or the automixer not gating): `< REP ERR >`.
    device: shureThatRefuses,
    status: 'bad_config',
    words: /REP ERR/,
  },
});

describeFaultMatrix('conference-mic (tcp gateway)', {
  driver: conferenceMicDriver,
  device: async () => {
    const sim = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp' });
    const { host, port } = sim.endpoint as { host: string; port: number };
    return Object.assign(sim, { host, port });
  },
  // The shared matrix runs the gateway as a passive device (sync_timeout_ms = 0): its simulator syncs on the
  // real clock while this rig's clock is fake. The SDC 8000 sync liveness (silent from connect, silent
  // after online) has its cases, on one clock, in test/fault-matrix-conference-mic.test.ts.
  config: (port) => ({ protocol: 'sdc8000', transport: 'tcp', host: '127.0.0.1', port, sync_timeout_ms: 0 }),
  probeIntervalMs: 0,
  requestTimeoutMs: 0,
  reject: {},
  action: null,
  passive: true,
  change: {
    make: async (sim) => {
      // A passive device is online as soon as the peer accepts; wait for the peer's own connection to the unit.
      // Bounded by time (10 s), not by 200 polls of 5 ms, which a loaded machine could use up before loopback connects.
      for (const end = Date.now() + 10_000; sim.clients === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
      sim.micOn(3);
    },
    seen: (state) => ((state.active as number[] | undefined) ?? []).includes(3),
  },
  // SDC 8000 serial output has nothing to log in to or to configure from here.
  configError: null,
});
