// Every registered driver of a contract kind (camera, matrix, mixer, audio,
// microphone; found from drivers/index.ts) passes its kind's contract
// (src/host/kinds.ts, docs/kinds.md) inside one real agent, through the
// JSON-RPC API, against its simulator (the ATEM: against the fake of
// atem-connection's class; conference-mic: once per protocol and transport).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setAtemFactory } from '../drivers/atem/backend.js';
import { FakeAtem } from '../drivers/atem/fake-atem.js';
import { type ConferenceMicSimulator, startConferenceMicSimulator } from '../drivers/conference-mic/simulator.js';
import { builtinDrivers } from '../drivers/index.js';
import { type ShureSimulator, startShureSimulator } from '../drivers/shure-mic/simulator.js';
import { KIND_CONTRACTS } from '../src/host/kinds.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { waitAllOnline } from './support/device-api.js';
import { type ContractKind, checkActions, exerciseKind, type KindFixture } from './support/kind-contract.js';

/** A device under test: its id in the room and how it is set up. */
interface ContractDevice {
  id: string;
  /** Called once the simulators run (their ports are known then). */
  fixture: () => KindFixture;
}

/**
 * How each driver is set up for its contract test: one device, or one per protocol/transport the
 * driver speaks. A new driver of a contract kind needs a line here.
 */
const FIXTURES: Record<string, ContractDevice[]> = {
  visca: one('visca', () => ({ toml: 'simulated = true\nframing = "sony-udp"\nhost = "192.0.2.21"\nsim_motion_ms = 100' })),
  'extron-sis': one('extron-sis', () => ({ toml: 'simulated = true\nhost = "192.0.2.30"' })),
  'kramer-p3000': one('kramer-p3000', () => ({ toml: 'simulated = true\nhost = "192.0.2.31"' })),
  videohub: one('videohub', () => ({ toml: 'simulated = true\nhost = "192.0.2.32"' })),
  vmix: one('vmix', () => ({ toml: 'simulated = true\nhost = "192.0.2.33"' })),
  // atem-connection owns the ATEM's wire and no ATEM simulator exists (docs/drivers/atem.md): the
  // driver runs, under the host's lifecycle, on the fake of the library's class (drivers/atem/fake-atem.ts),
  // whose sample switcher has inputs 1-3. The host address is never contacted.
  atem: one('atem', () => ({ toml: 'host = "192.0.2.36"' })),
  qsys: one('qsys', () => ({
    toml:
      'simulated = true\nhost = "192.0.2.34"\npoll_rate_s = 0.05\n' +
      'controls = { program-level = { control = "ProgramGain", type = "level" }, mic-mute = { control = "MicMute", type = "mute" } }',
    levelControl: 'program-level',
    muteControl: 'mic-mute',
  })),
  tesira: one('tesira', () => ({
    toml:
      'simulated = true\nhost = "192.0.2.35"\n' +
      'controls = { program-level = { instance = "ProgramLevel", type = "level" }, mic-mute = { instance = "MicMutes", type = "mute", channel = 2 } }',
    levelControl: 'program-level',
    muteControl: 'mic-mute',
  })),
  // Microphones: the test starts the simulators itself, to press the buttons.
  'shure-mic': one('shure-mic', () => ({
    toml: `host = "127.0.0.1"\nport = ${shure.port}\ngates = "lobes"`,
    micOn: (ch) => shure.setGate(ch, true),
    micOff: (ch) => shure.setGate(ch, false),
    dropLink: () => shure.dropClients(),
  })),
  // Every protocol and transport of the conference systems: passive units, they only talk.
  'conference-mic': [
    {
      id: 'conference-mic-taiden-tcp',
      fixture: () => ({
        // Taiden does not flag the chairman: the config names the seat.
        toml: `protocol = "taiden"\ntransport = "tcp"\nhost = "127.0.0.1"\nport = ${conf.taiden.endpoint.port}\nchairman = [5]`,
        // The unit sends positions only after the driver's "start video track" (E3 E4 00).
        micOn: async (ch) => {
          await vi.waitFor(() => expect(conf.taiden.trackingStarted, 'taiden: tracking started').toBe(true), { timeout: 10_000 });
          conf.taiden.micOn(ch);
        },
        micOff: (ch) => conf.taiden.micOff(ch),
        chairmanSeat: 5,
        dropLink: () => conf.taiden.dropClients(),
      }),
    },
    {
      id: 'conference-mic-sdc8000-tcp',
      fixture: () => ({
        // The SDC 8000 flags the chairman itself (%P / %p).
        toml: `protocol = "sdc8000"\ntransport = "tcp"\nhost = "127.0.0.1"\nport = ${conf.sdcTcp.endpoint.port}`,
        micOn: (ch) => conf.sdcTcp.micOn(ch),
        micOff: (ch) => conf.sdcTcp.micOff(ch),
        chairmanSeat: 5,
        dropLink: () => conf.sdcTcp.dropClients(),
      }),
    },
    {
      id: 'conference-mic-sdc8000-serial',
      fixture: () => ({
        toml: `protocol = "sdc8000"\ntransport = "serial"\npath = "${conf.sdcSerial.endpoint.path}"`,
        micOn: (ch) => conf.sdcSerial.micOn(ch),
        micOff: (ch) => conf.sdcSerial.micOff(ch),
        chairmanSeat: 5,
        dropLink: () => conf.sdcSerial.unplug(),
      }),
    },
    {
      id: 'conference-mic-confidea-udp',
      fixture: () => ({
        toml: `protocol = "confidea"\ntransport = "udp"\nhost = "127.0.0.1"\nlisten_port = ${conf.confidea.endpoint.listen_port}\nchairman = [5]`,
        micOn: (ch) => conf.confidea.micOn(ch),
        micOff: (ch) => conf.confidea.micOff(ch),
        chairmanSeat: 5,
        linkLossUnseen: 'Confidea sends UDP datagrams only on button events: a lost unit cannot be told from a quiet one',
      }),
    },
  ],
};

function one(id: string, fixture: () => KindFixture): ContractDevice[] {
  return [{ id, fixture }];
}

const KINDS = Object.keys(KIND_CONTRACTS) as ContractKind[];
const contractDrivers = builtinDrivers.filter((d) => (KINDS as string[]).includes(d.kind));

let agent: TestAgent;
let shure: ShureSimulator;
let fakeAtem: FakeAtem;
const conf = {} as Record<'taiden' | 'sdcTcp' | 'sdcSerial' | 'confidea', ConferenceMicSimulator>;
const roomEvents: { type: string; data: Record<string, unknown> }[] = [];
let op: RpcTestClient;
const devices = new Map<string, { id: string; fixture: KindFixture }[]>();

beforeAll(async () => {
  shure = await startShureSimulator();
  fakeAtem = new FakeAtem();
  setAtemFactory(async () => fakeAtem);
  // SDC 8000: the unit's sync (every ~5 s in the manual) is what marks it online; 1 s keeps the test short.
  conf.taiden = await startConferenceMicSimulator({ protocol: 'taiden', transport: 'tcp' });
  conf.sdcTcp = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp', chairman: [5], syncIntervalMs: 1000 });
  conf.sdcSerial = await startConferenceMicSimulator({
    protocol: 'sdc8000',
    transport: 'serial',
    path: `/dev/KINDCONTRACT${process.pid}`,
    chairman: [5],
    syncIntervalMs: 1000,
  });
  conf.confidea = await startConferenceMicSimulator({ protocol: 'confidea', transport: 'udp' });
  let toml = '';
  for (const d of contractDrivers) {
    const make = FIXTURES[d.name];
    if (!make) continue; // reported by the test below
    const list = make.map(({ id, fixture }) => ({ id, fixture: { ...fixture(), roomEvents } }));
    devices.set(d.name, list);
    for (const { id, fixture } of list) toml += `[devices.${id}]\ndriver = "${d.name}"\n${fixture.toml}\n\n`;
  }
  agent = await startTestAgent(toml);
  agent.agent.events.on((e) => roomEvents.push({ type: e.type, data: e.data as Record<string, unknown> }));
  op = await agent.connect(TOKENS.operator);
  await waitAllOnline(
    op,
    [...devices.values()].flatMap((l) => l.map((d) => d.id)),
  );
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  setAtemFactory(null);
  await shure?.stop();
  for (const sim of Object.values(conf)) await sim.stop();
});

describe('kind contracts', () => {
  it('every registered camera, matrix, mixer, audio and microphone driver has a contract fixture', () => {
    expect(contractDrivers.length).toBeGreaterThanOrEqual(KINDS.length);
    expect(contractDrivers.filter((d) => !FIXTURES[d.name]).map((d) => d.name)).toEqual([]);
  });

  it('conference-mic runs once per protocol and transport it speaks', () => {
    expect(FIXTURES['conference-mic'].map((d) => d.id)).toEqual([
      'conference-mic-taiden-tcp',
      'conference-mic-sdc8000-tcp',
      'conference-mic-sdc8000-serial',
      'conference-mic-confidea-udp',
    ]);
  });

  for (const d of contractDrivers) {
    const kind = d.kind as ContractKind;
    for (const { id } of FIXTURES[d.name] ?? []) {
      describe(`${id} (${d.name}, ${kind})`, () => {
        const fixture = () => devices.get(d.name)!.find((x) => x.id === id)!.fixture;
        it(`offers the ${kind} actions, accepting the params callers send`, async () => {
          await checkActions(op, id, kind, fixture());
        });
        it(`behaves as the ${kind} contract says`, async () => {
          await exerciseKind(op, id, kind, fixture());
        }, 30_000);
      });
    }
  }
});
