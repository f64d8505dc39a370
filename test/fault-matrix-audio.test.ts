// The fault matrix (test/support/fault-matrix.ts) for the audio processors.
import { qsysDriver } from '../drivers/qsys/index.js';
import { QrcSimulator } from '../drivers/qsys/simulator.js';
import { tesiraDriver } from '../drivers/tesira/index.js';
import { TesiraSimulator, TTP_BANNER } from '../drivers/tesira/simulator.js';
import { describeFaultMatrix } from './support/fault-matrix.js';

const QSYS_NAMED = { ProgramGain: { value: -20, kind: 'gain' as const }, MicMute: { value: 0, kind: 'boolean' as const } };
const QSYS_CONTROLS = {
  'program-level': { control: 'ProgramGain', type: 'level' },
  'mic-mute': { control: 'MicMute', type: 'mute' },
};

async function core(named: Record<string, { value: number; kind: 'gain' | 'boolean' }> = QSYS_NAMED) {
  const sim = new QrcSimulator({ named, designName: 'Room' });
  const port = await sim.start();
  return Object.assign(sim, { host: '127.0.0.1', port });
}

/** QRC (QSC QRC Commands and error table, q-syshelp.qsc.com): every request answered with JSON-RPC -32601, its id copied. */
function qrcRefusal(d: Buffer): string {
  return d
    .toString()
    .split('\0')
    .filter(Boolean)
    .map((frame) => {
      let id: unknown = null;
      try {
        id = (JSON.parse(frame) as { id?: unknown }).id ?? null;
      } catch {
        // not JSON: answer with id null
      }
      return `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } })}\0`;
    })
    .join('');
}

describeFaultMatrix('qsys', {
  driver: qsysDriver,
  device: () => core(),
  config: (port) => ({
    host: '127.0.0.1',
    port,
    controls: QSYS_CONTROLS,
    poll_rate_s: 0.05,
    keepalive_ms: 5000,
    request_timeout_ms: 1000,
  }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  reject: { answer: qrcRefusal },
  action: { name: 'mute', params: { control: 'mic-mute', on: true } },
  change: {
    make: (sim) => sim.setControl('ProgramGain', -7),
    seen: (state) => state['program-level'] === -7,
  },
  configError: {
    // Issue 17 §2: a control missing in the design (ChangeGroup.AddControl → 8).
    device: () => core({ ProgramGain: QSYS_NAMED.ProgramGain }),
    status: 'bad_config',
    words: /Unknown control/,
  },
});

const TESIRA_BLOCKS = {
  ProgramLevel: { kind: 'level' as const, channels: { 1: -12 } },
  MicMutes: { kind: 'mute' as const, channels: { 1: false } },
};
const TESIRA_CONTROLS = {
  'program-level': { instance: 'ProgramLevel', type: 'level', channel: 1 },
  'mic-mute': { instance: 'MicMutes', type: 'mute', channel: 1 },
};

async function tesira() {
  const sim = new TesiraSimulator({ blocks: TESIRA_BLOCKS });
  const port = await sim.start();
  return Object.assign(sim, { host: '127.0.0.1', port });
}

describeFaultMatrix('tesira', {
  driver: tesiraDriver,
  device: tesira,
  config: (port) => ({ host: '127.0.0.1', port, controls: TESIRA_CONTROLS, keepalive_ms: 5000, request_timeout_ms: 1000 }),
  probeIntervalMs: 5000,
  requestTimeoutMs: 1000,
  // Tesira Text Protocol (tesira-help.biamp.com, Telnet and Responses pages): the banner, then a parse error to every command.
  reject: {
    greeting: `${TTP_BANNER}\r\n`,
    answer: () => '-ERR Parse error at 8: verb was not one of the commands supported by Services\r\n',
  },
  action: { name: 'mute', params: { control: 'mic-mute', on: true } },
  change: {
    make: (sim) => sim.setValue('ProgramLevel', 1, -7),
    seen: (state) => state['program-level'] === -7,
  },
  configError: {
    // An instance tag the design does not have: `-ERR address not found`.
    device: tesira,
    config: (port) => ({
      host: '127.0.0.1',
      port,
      controls: { ...TESIRA_CONTROLS, ghost: { instance: 'NoSuchBlock', type: 'level', channel: 1 } },
      request_timeout_ms: 1000,
    }),
    status: 'bad_config',
    words: /address not found/,
  },
});
