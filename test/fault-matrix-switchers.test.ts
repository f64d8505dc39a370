// The fault matrix (test/support/fault-matrix.ts) for the matrix switchers.
import { extronSisDriver, SisSimulator } from '../drivers/extron-sis/index.js';
import { kramerP3000Driver, P3kSimulator } from '../drivers/kramer-p3000/index.js';
import { describeFaultMatrix } from './support/fault-matrix.js';

const routesOf = (state: Record<string, unknown>) => (state.routes ?? {}) as Record<string, number | null>;

async function kramer(opts: ConstructorParameters<typeof P3kSimulator>[0] = {}) {
  const sim = new P3kSimulator({ inputs: 4, outputs: 2, ...opts });
  await sim.start();
  return Object.assign(sim, { host: '127.0.0.1', port: sim.address.port });
}

describeFaultMatrix('kramer-p3000', {
  driver: kramerP3000Driver,
  device: () => kramer(),
  config: (port) => ({ host: '127.0.0.1', port, keepalive_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  // Kramer Protocol 3000 (VP-8x8AK manual p.47): errors are `ERRnnn`; the handshake `#` answered with a syntax error.
  reject: { answer: () => '~01@ERR 001\r\n' },
  action: { name: 'route', params: { input: 2, output: 1, layer: 'video' } },
  change: {
    make: (sim) => sim.frontPanelRoute('video', 3, 2),
    seen: (state) => routesOf(state)['2'] === 3,
  },
  configError: {
    // A video-only unit configured with audio: `#AUD?` → ERR002 "command not available".
    device: () => kramer({ audio: false }),
    config: (port) => ({ host: '127.0.0.1', port, audio: true, request_timeout_ms: 1000 }),
    status: 'bad_config',
    words: /ERR002: command not available/,
  },
});

async function extron(opts: ConstructorParameters<typeof SisSimulator>[0] = {}) {
  const sim = new SisSimulator({ inputs: 4, outputs: 2, ...opts });
  await sim.start();
  return Object.assign(sim, { host: '127.0.0.1', port: sim.address.port });
}

describeFaultMatrix('extron-sis', {
  driver: extronSisDriver,
  device: () => extron(),
  config: (port) => ({ host: '127.0.0.1', port, keepalive_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  // Extron SIS (MTPX Plus error list; DXP DVI Pro user guide p.56): the banner, then `E10` (invalid command) to everything.
  reject: { greeting: '(c) Copyright 2024, Extron Electronics, DXP 84 HDMI, V1.05, 60-1234-01\r\n', answer: () => 'E10\r\n' },
  action: { name: 'route', params: { input: 2, output: 1, layer: 'video' } },
  change: {
    make: (sim) => sim.frontPanelTie(3, 2, 'video'),
    seen: (state) => routesOf(state)['2'] === 3,
  },
  configError: {
    device: () => extron({ password: 'right-one' }),
    config: (port) => ({ host: '127.0.0.1', port, password: 'wrong-one', request_timeout_ms: 1000 }),
    status: 'auth_failure',
    words: /rejected the password/,
    secret: 'wrong-one',
  },
});
