// Conference-system conformance (issue 17): the rows of conformance.ts (a)
// from our simulator over real sockets, (b) into the driver inside a real
// agent, from a scripted unit (TCP gateway for the serial protocols, UDP for Confidea).
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkTable,
  type ConformancePeer,
  type DriverCase,
  describeDriverConformance,
  online,
  type PeerScript,
  SimProbe,
} from '../../test/support/conformance.js';
import { conferenceTable as T, knownDriverGaps } from './conformance.js';
import { ConferenceMicSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('conference-mic: simulator against the manuals', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });
  const tcp = async (protocol: 'taiden' | 'sdc8000', chairman: number[] = []) => {
    const sim = new ConferenceMicSimulator({ protocol, transport: 'tcp', chairman });
    await sim.start();
    stops.push(() => sim.stop());
    const probe = await SimProbe.connect(sim.endpoint.port as number, 'latin1');
    stops.push(() => probe.close());
    await new Promise((r) => setTimeout(r, 20));
    return { sim, probe };
  };

  it('Taiden: E5 with the microphone to show, E5 00 00 for the panorama', async () => {
    const { sim, probe } = await tcp('taiden');
    sim.micOn(7);
    await probe.expect(T['taiden-show-mic'].reply, 'taiden-show-mic');
    sim.micOff(7);
    await probe.expect(T['taiden-panorama'].reply, 'taiden-panorama');
  });

  it('SDC 8000: %M/%m, %P/%p, %S frames with the documented checksums', async () => {
    const { sim, probe } = await tcp('sdc8000', [1]);
    sim.micOn(3);
    await probe.expect(T['sdc-delegate-on'].reply, 'sdc-delegate-on');
    sim.micOff(3);
    await probe.expect(T['sdc-delegate-off'].reply, 'sdc-delegate-off');
    sim.micOn(1);
    await probe.expect(T['sdc-chairman-on'].reply, 'sdc-chairman-on');
    sim.micOff(1);
    await probe.expect(T['sdc-chairman-off'].reply, 'sdc-chairman-off');
    sim.sync();
    await probe.expect(T['sdc-sync-none'].reply, 'sdc-sync-none');
    for (const id of [2, 3, 4]) sim.micOn(id);
    sim.sync();
    await probe.expect(T['sdc-sync'].reply, 'sdc-sync');
  });

  it('Confidea: one JSON datagram per change', async () => {
    const rx = dgram.createSocket('udp4');
    const got: unknown[] = [];
    rx.on('message', (m) => got.push(JSON.parse(m.toString('utf8'))));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise<void>((r) => rx.close(() => r())));
    const sim = new ConferenceMicSimulator({ protocol: 'confidea', transport: 'udp', port: rx.address().port });
    await sim.start();
    stops.push(() => sim.stop());
    sim.micOn(7);
    sim.micOff(7);
    await waitUntil(() => got.length >= 2);
    expect(got).toEqual([JSON.parse(T['confidea-on'].reply), JSON.parse(T['confidea-off'].reply)]);
  });
});

async function waitUntil(pred: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// A serial-to-IP gateway that only forwards what the unit sends.
const gateway: PeerScript = { framer: (b) => ({ frames: [], rest: b.slice(-64) }), encoding: 'latin1', rules: [] };

/** A Confidea unit: sends datagrams to the driver's listen port (read from the device state). */
class ConfideaUnit implements ConformancePeer {
  readonly port = 0;
  readonly received: string[] = [];
  readonly connections = 0;
  readonly clientCount = 0;
  target = 0;
  private readonly s = dgram.createSocket('udp4');
  push(text: string): void {
    this.s.send(Buffer.from(text, 'utf8'), this.target, '127.0.0.1');
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.s.close(() => r()));
  }
}

const active = (d: { state: Record<string, { value: unknown }> }) => JSON.stringify(d.state.active?.value ?? null);
const pushed = (
  id: string,
  protocol: 'taiden' | 'sdc8000',
  steps: [string, string][],
  rows = steps.map(([r]) => r),
): DriverCase => ({
  id,
  rows,
  peer: gateway,
  config: { protocol, transport: 'tcp' },
  run: async (dev) => {
    await online(dev);
    await dev.until(() => dev.peer.clientCount > 0, 'the gateway connection');
    for (const [row, want] of steps) {
      dev.peer.push(T[row as keyof typeof T].reply);
      await dev.until((d) => active(d) === want, `${row} → active ${want}`);
    }
  },
});

const cases: DriverCase[] = [
  pushed('taiden-on-then-panorama', 'taiden', [
    ['taiden-show-mic', '[7]'],
    ['taiden-panorama', '[]'],
  ]),
  pushed('sdc-delegate-on-off', 'sdc8000', [
    ['sdc-delegate-on', '[3]'],
    ['sdc-delegate-off', '[]'],
  ]),
  pushed('sdc-chairman-on-off', 'sdc8000', [
    ['sdc-chairman-on', '[1]'],
    ['sdc-chairman-off', '[]'],
  ]),
  pushed('sdc-sync-and-all-off', 'sdc8000', [
    ['sdc-sync', '[2,3,4]'],
    ['sdc-all-off', '[]'],
    ['sdc-sync', '[2,3,4]'],
    ['sdc-sync-none', '[]'],
  ]),
  {
    id: 'sdc-bad-checksum-dropped',
    rows: ['sdc-bad-checksum'],
    peer: gateway,
    config: { protocol: 'sdc8000', transport: 'tcp' },
    run: async (dev) => {
      await online(dev);
      await dev.until(() => dev.peer.clientCount > 0, 'the gateway connection');
      dev.peer.push(T['sdc-bad-checksum'].reply);
      dev.peer.push(T['sdc-chairman-on'].reply);
      const d = await dev.until((r) => active(r) === '[1]', 'the good frame after the bad one');
      expect(d.state.bad_frames?.value).toBe(1);
    },
  },
  {
    id: 'confidea-on-request-off',
    rows: ['confidea-on', 'confidea-request', 'confidea-off'],
    peer: async () => new ConfideaUnit(),
    config: { protocol: 'confidea', transport: 'udp', host: '127.0.0.1', listen_port: 0 },
    run: async (dev) => {
      const d = await online(dev);
      (dev.peer as unknown as ConfideaUnit).target = d.state.listen_port?.value as number;
      dev.peer.push(T['confidea-on'].reply);
      await dev.until((r) => active(r) === '[7]', 'mic 7 on');
      dev.peer.push(T['confidea-request'].reply);
      dev.peer.push(T['confidea-off'].reply);
      await dev.until((r) => active(r) === '[]', 'mic 7 off, 9 only requesting');
    },
  },
];

describeDriverConformance('conference-mic', T, cases, knownDriverGaps);
