// Shure command-string conformance (issue 17): the rows of conformance.ts (a)
// against our simulator over a real socket, (b) against the driver inside a
// real agent, with a scripted device replaying the rows.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerScript,
  SimProbe,
} from '../../test/support/conformance.js';
import { knownDriverGaps, shureTable as T } from './conformance.js';
import { ShureSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('shure-mic: simulator against the manual', () => {
  let sim: ShureSimulator;
  let probe: SimProbe;
  afterAll(async () => {
    probe?.close();
    await sim?.stop();
  });

  it('GET gates answers one REP per channel; gate changes are pushed; SET answers REP; unknown → REP ERR', async () => {
    sim = new ShureSimulator({ channels: 4 });
    await sim.start();
    probe = await SimProbe.connect(sim.port);
    probe.send(T['get-gates'].send);
    for (let ch = 1; ch <= 4; ch++)
      await probe.expect(new RegExp(`< REP 0${ch} AUTOMIX_GATE_OUT_EXT_SIG (ON|OFF) >`), `get-gates ${ch}`);
    sim.setGate(3, true);
    await probe.row(T['gate-change']);
    sim.setGate(2, true, 'coverage_areas');
    await probe.expect(T['coverage-gate'].reply, 'coverage-gate');
    await probe.row(T['set-mute']);
    probe.send('< GET 0 NO_SUCH_PARAMETER >');
    await probe.expect(T['rep-err'].reply, 'rep-err');
  });

  it('one-digit channel numbers (MXA910 page) when configured', async () => {
    const one = new ShureSimulator({ channels: 4, width: 1 });
    await one.start();
    const p = await SimProbe.connect(one.port);
    await new Promise((r) => setTimeout(r, 20));
    one.setGate(4, true);
    await p.expect(T['gate-change-one-digit'].reply);
    p.close();
    await one.stop();
  });
});

// The scripted device: answers the gate GET with the row's REPs.
const shureFramer: PeerScript['framer'] = (buffer) => {
  const frames: string[] = [];
  let rest = buffer;
  for (;;) {
    const start = rest.indexOf('<');
    const end = rest.indexOf('>', start);
    if (start < 0 || end < 0) break;
    frames.push(`< ${rest.slice(start + 1, end).trim()} >`);
    rest = rest.slice(end + 1);
  }
  return { frames, rest };
};
function peer(o: Partial<PeerScript> = {}): PeerScript {
  return {
    framer: shureFramer,
    rules: [
      { when: /^< GET 0+ AUTOMIX_GATE_OUT_EXT_SIG >$/, reply: T['get-gates'].reply },
      { when: /^< GET 0+ AUTOMIX_GATE_OUT_CA >$/, reply: T['coverage-gate'].reply },
    ],
    fallback: () => T['rep-err'].reply,
    ...o,
  };
}
const active = async (dev: Parameters<DriverCase['run']>[0]) => (await dev.state('active')) as number[];

const cases: DriverCase[] = [
  {
    id: 'initial-gates',
    rows: ['get-gates'],
    peer: peer(),
    run: async (dev) => {
      await online(dev);
      await dev.until((d) => JSON.stringify(d.state.active?.value) === '[2]', 'lobe 2 active from the GET');
    },
  },
  ...(['gate-change', 'gate-change-one-digit'] as const).map(
    (row): DriverCase => ({
      id: `pushed-${row}`,
      rows: [row],
      peer: peer(),
      run: async (dev) => {
        await online(dev);
        await dev.until((d) => Array.isArray(d.state.active?.value), 'the first gates');
        dev.peer.push(T[row].reply);
        const ch = Number(/REP (\d+)/.exec(T[row].reply)?.[1]);
        await dev.until((d) => ((d.state.active?.value ?? []) as number[]).includes(ch), `lobe ${ch} active`);
      },
    }),
  ),
  {
    id: 'coverage-areas',
    rows: ['coverage-gate'],
    peer: peer(),
    config: { gates: 'coverage_areas' },
    run: async (dev) => {
      await online(dev);
      await dev.until((d) => JSON.stringify(d.state.active?.value) === '[2]', 'coverage area 2 active');
    },
  },
  {
    id: 'rep-err-recorded-not-fatal',
    rows: ['rep-err'],
    peer: peer({ rules: [{ when: /^< GET /, reply: T['rep-err'].reply }] }),
    run: async (dev) => {
      await dev.until((d) => (d.status as { last_error?: unknown }).last_error != null, 'last_error from REP ERR');
      expect((await dev.device()).status.status).not.toBe('error');
    },
  },
  {
    id: 'sample-lines-ignored',
    rows: ['sample-metering'],
    peer: peer(),
    run: async (dev) => {
      await online(dev);
      await dev.until((d) => Array.isArray(d.state.active?.value), 'the first gates');
      dev.peer.push(T['sample-metering'].reply);
      dev.peer.push(T['gate-change'].reply);
      await dev.until((d) => ((d.state.active?.value ?? []) as number[]).includes(3), 'lobe 3 after the SAMPLE');
      expect(await active(dev)).toEqual([2, 3]);
    },
  },
  {
    id: 'silent-device-is-not-online',
    rows: ['get-gates'],
    // Accepts the connection and never answers the GET (a hung device).
    peer: peer({ rules: [], fallback: () => undefined }),
    run: async (dev) => {
      await dev.until(() => dev.peer.connections >= 1, 'connected');
      await new Promise((r) => setTimeout(r, 1500));
      expect((await dev.device()).status.status).not.toBe('online');
    },
  },
];

describeDriverConformance('shure-mic', T, cases, knownDriverGaps);
