// Every registered driver of a contract kind (camera, matrix, mixer, audio,
// microphone; found from drivers/index.ts) passes its kind's contract
// (src/host/kinds.ts, docs/kinds.md) inside one real agent, through the
// JSON-RPC API, against its simulator.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConferenceMicSimulator, startConferenceMicSimulator } from '../drivers/conference-mic/simulator.js';
import { builtinDrivers } from '../drivers/index.js';
import { type ShureSimulator, startShureSimulator } from '../drivers/shure-mic/simulator.js';
import { KIND_CONTRACTS } from '../src/host/kinds.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { waitAllOnline } from './support/device-api.js';
import { type ContractKind, checkActions, exerciseKind, type KindFixture } from './support/kind-contract.js';

/** How each driver is set up for its contract test. A new driver of a contract kind needs a line here. */
const FIXTURES: Record<string, (port: number) => KindFixture> = {
  visca: () => ({ toml: 'simulated = true\nframing = "sony-udp"\nhost = "192.0.2.21"\nsim_motion_ms = 100' }),
  'extron-sis': () => ({ toml: 'simulated = true\nhost = "192.0.2.30"' }),
  'kramer-p3000': () => ({ toml: 'simulated = true\nhost = "192.0.2.31"' }),
  videohub: () => ({ toml: 'simulated = true\nhost = "192.0.2.32"' }),
  vmix: () => ({ toml: 'simulated = true\nhost = "192.0.2.33"' }),
  // No ATEM simulator exists in JavaScript (docs/drivers/atem.md): its actions are checked against a
  // closed port, its behaviour is not.
  atem: (port) => ({ toml: `host = "127.0.0.1"\nport = ${port}`, noSimulator: 'no ATEM simulator in JavaScript' }),
  qsys: () => ({
    toml:
      'simulated = true\nhost = "192.0.2.34"\npoll_rate_s = 0.05\n' +
      'controls = { program-level = { control = "ProgramGain", type = "level" }, mic-mute = { control = "MicMute", type = "mute" } }',
    levelControl: 'program-level',
    muteControl: 'mic-mute',
  }),
  tesira: () => ({
    toml:
      'simulated = true\nhost = "192.0.2.35"\n' +
      'controls = { program-level = { instance = "ProgramLevel", type = "level" }, mic-mute = { instance = "MicMutes", type = "mute", channel = 2 } }',
    levelControl: 'program-level',
    muteControl: 'mic-mute',
  }),
  // Microphones: the test starts the simulators itself, to turn a microphone on.
  'shure-mic': () => ({
    toml: `host = "127.0.0.1"\nport = ${shure.port}\ngates = "lobes"`,
    micOn: (ch) => shure.setGate(ch, true),
  }),
  'conference-mic': () => ({
    toml: `protocol = "taiden"\ntransport = "tcp"\nhost = "127.0.0.1"\nport = ${taiden.endpoint.port}`,
    micOn: (ch) => taiden.micOn(ch),
  }),
};

const KINDS = Object.keys(KIND_CONTRACTS) as ContractKind[];
const contractDrivers = builtinDrivers.filter((d) => (KINDS as string[]).includes(d.kind));

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

let agent: TestAgent;
let shure: ShureSimulator;
let taiden: ConferenceMicSimulator;
const roomEvents: { type: string; data: Record<string, unknown> }[] = [];
let op: RpcTestClient;
const fixtures = new Map<string, KindFixture>();

beforeAll(async () => {
  const port = await closedPort();
  shure = await startShureSimulator();
  taiden = await startConferenceMicSimulator({ protocol: 'taiden', transport: 'tcp' });
  let toml = '';
  for (const d of contractDrivers) {
    const make = FIXTURES[d.name];
    if (!make) continue; // reported by the test below
    const f = { ...make(port), roomEvents };
    fixtures.set(d.name, f);
    toml += `[devices.${d.name}]\ndriver = "${d.name}"\n${f.toml}\n\n`;
  }
  agent = await startTestAgent(toml);
  agent.agent.events.on((e) => roomEvents.push({ type: e.type, data: e.data as Record<string, unknown> }));
  op = await agent.connect(TOKENS.operator);
  await waitAllOnline(
    op,
    [...fixtures].filter(([, f]) => !f.noSimulator).map(([name]) => name),
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await shure?.stop();
  await taiden?.stop();
});

describe('kind contracts', () => {
  it('every registered camera, matrix, mixer, audio and microphone driver has a contract fixture', () => {
    expect(contractDrivers.length).toBeGreaterThanOrEqual(KINDS.length);
    expect(contractDrivers.filter((d) => !FIXTURES[d.name]).map((d) => d.name)).toEqual([]);
  });

  for (const d of contractDrivers) {
    const kind = d.kind as ContractKind;
    describe(`${d.name} (${kind})`, () => {
      it(`offers the ${kind} actions, accepting the params callers send`, async () => {
        await checkActions(op, d.name, kind, fixtures.get(d.name)!);
      });
      it(`behaves as the ${kind} contract says`, async (t) => {
        const f = fixtures.get(d.name)!;
        if (f.noSimulator) t.skip(f.noSimulator);
        await exerciseKind(op, d.name, kind, f);
      });
    });
  }
});
