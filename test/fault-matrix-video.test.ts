// The fault matrix (test/support/fault-matrix.ts) for Videohub and vMix.
import { VideohubSimulator, videohubDriver } from '../drivers/videohub/index.js';
import { vmixDriver } from '../drivers/vmix/index.js';
import { VmixSimulator } from '../drivers/vmix/simulator.js';
import { describeFaultMatrix } from './support/fault-matrix.js';

describeFaultMatrix('videohub', {
  driver: videohubDriver,
  device: async () => {
    const sim = new VideohubSimulator({ inputs: 4, outputs: 4 });
    const port = await sim.start();
    return Object.assign(sim, { host: '127.0.0.1', port });
  },
  config: (port) => ({ host: '127.0.0.1', port, ping_interval_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  // A server that speaks blocks but is no Videohub: the preamble, then NAK to everything (Blackmagic Videohub Ethernet Protocol, Videohub manual pp.75-77).
  reject: { greeting: 'PROTOCOL PREAMBLE:\nVersion: 2.3\n\n', answer: () => 'NAK\n\n' },
  action: { name: 'route', params: { input: 2, output: 1 } },
  change: {
    make: (sim) => sim.route(1, 2),
    seen: (state) => (state.routes as Record<string, number> | undefined)?.['2'] === 3,
  },
  // The Videohub protocol has no login and no config-dependent request.
  configError: null,
});

describeFaultMatrix('vmix', {
  driver: vmixDriver,
  device: async () => {
    const sim = new VmixSimulator();
    const port = await sim.start();
    return Object.assign(sim, { host: '127.0.0.1', port });
  },
  config: (port) => ({ host: '127.0.0.1', port, poll_interval_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  // vMix TCP API (vmix.com/help28/TCPAPI.html, "Responses"): the greeting, then `ER` to every request.
  reject: { greeting: 'VERSION OK 27.0.0.49\r\n', answer: (d) => `${d.toString().split(/[ \r]/)[0]} ER Not allowed\r\n` },
  action: { name: 'cut', params: {} },
  change: {
    make: (sim) => sim.setProgram(3),
    seen: (state) => state.program === 3,
  },
  // vMix's TCP API has no login; nothing in its config can be refused by vMix.
  configError: null,
});
