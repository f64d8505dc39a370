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
import { FakeClock } from '../../src/util/clock.js';
import { ConferenceMicSimulator, SDC_SYNC_INTERVAL_MS } from './simulator.js';

it('every row cites its source', () => checkTable(T));

describe('conference-mic: simulator against the manuals', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });
  const tcp = async (protocol: 'taiden' | 'sdc8000', chairman: number[] = []) => {
    // No periodic sync here: the frames below must come in the order the buttons are pressed.
    const sim = new ConferenceMicSimulator({ protocol, transport: 'tcp', chairman, syncIntervalMs: 0 });
    await sim.start();
    stops.push(() => sim.stop());
    const probe = await SimProbe.connect(sim.endpoint.port as number, 'latin1');
    stops.push(() => probe.close());
    await waitUntil(() => sim.clients === 1);
    return { sim, probe };
  };
  const row = (id: keyof typeof T) => [T[id].reply, id] as const;

  it('Taiden: nothing before "start video track"; then E5 with the microphone to show, E5 00 00 for the panorama', async () => {
    const { sim, probe } = await tcp('taiden');
    sim.micOn(7);
    expect(sim.sent).toEqual([]); // tracking not started: the unit keeps its output to itself
    sim.micOff(7);
    probe.send(T['taiden-start-tracking'].send ?? '');
    await waitUntil(() => sim.trackingStarted);
    sim.micOn(7);
    await probe.expect(...row('taiden-show-mic'));
    sim.micOff(7);
    await probe.expect(...row('taiden-panorama'));
    expect(sim.sent).toEqual([T['taiden-show-mic'].reply, T['taiden-panorama'].reply]);
  });

  it('Taiden: one of several off → the chairman if on, else the lowest id still on', async () => {
    const { sim, probe } = await tcp('taiden', [1]);
    probe.send(T['taiden-start-tracking'].send ?? '');
    await waitUntil(() => sim.trackingStarted);
    sim.micOn(1);
    sim.micOn(5);
    sim.micOff(5);
    await probe.expect('\xe5\x00\x05', 'mic 5 shown');
    await probe.expect(...row('taiden-chairman-after-off'));
    sim.micOff(1);
    await probe.expect(...row('taiden-panorama'));
    for (const id of [4, 6, 9]) sim.micOn(id);
    sim.micOff(9);
    await probe.expect('\xe5\x00\x09', 'mic 9 shown');
    await probe.expect(...row('taiden-lowest-after-off'));
  });

  it("SDC 8000: %1R before the first, %M/%m and %P/%p, %1r after the last, %V, %S — each with the rule's CRC", async () => {
    const { sim, probe } = await tcp('sdc8000', [1]);
    sim.micOn(3);
    await probe.expect(T['sdc-first-on'].reply + T['sdc-delegate-on'].reply, 'sdc-first-on, sdc-delegate-on');
    sim.micOff(3);
    await probe.expect(T['sdc-delegate-off'].reply + T['sdc-last-off-reset'].reply, 'sdc-delegate-off, sdc-last-off-reset');
    sim.micOn(1);
    await probe.expect(T['sdc-first-on'].reply + T['sdc-chairman-on'].reply, 'sdc-first-on, sdc-chairman-on');
    sim.micOff(1);
    await probe.expect(T['sdc-chairman-off'].reply + T['sdc-last-off-reset'].reply, 'sdc-chairman-off, sdc-last-off-reset');
    sim.sync();
    await probe.expect(...row('sdc-sync-none'));
    for (const id of [2, 3, 4]) sim.micOn(id);
    sim.sync();
    await probe.expect(...row('sdc-sync'));
    sim.allOff();
    await probe.expect(...row('sdc-all-off'));
    // Every frame the simulator sent checks against the manual's CRC rule.
    for (const f of sim.sent) expect(f, f).toBe(sdcRule(f.slice(1, -5)));
  });

  it('SDC 8000: a sync every ~5 s by itself ("at a time interval of approx. 5 seconds")', async () => {
    expect(SDC_SYNC_INTERVAL_MS).toBe(5000);
    const clock = new FakeClock();
    const sim = new ConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp', clock });
    await sim.start();
    stops.push(() => sim.stop());
    clock.advance(4999);
    expect(sim.sent).toEqual([]);
    clock.advance(1);
    expect(sim.sent).toEqual([T['sdc-sync-none'].reply]);
    sim.micOn(3);
    clock.advance(5000);
    expect(sim.sent.at(-1)).toBe('%S00030116\r'); // the manual's example for delegate 3 alone
  });

  it('Confidea: one JSON datagram per button event, byte for byte as the manual writes it', async () => {
    const rx = dgram.createSocket('udp4');
    const got: string[] = [];
    rx.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    stops.push(() => new Promise<void>((r) => rx.close(() => r())));
    const sim = new ConferenceMicSimulator({ protocol: 'confidea', transport: 'udp', port: rx.address().port });
    await sim.start();
    stops.push(() => sim.stop());
    sim.micOn(7);
    sim.micOff(7);
    sim.request(9);
    sim.priority(1);
    await waitUntil(() => got.length >= 4);
    expect(got).toEqual([
      T['confidea-on'].reply,
      T['confidea-off'].reply,
      T['confidea-request'].reply,
      T['confidea-prior'].reply,
    ]);
  });
});

/** The SDC 8000 frame for `data` by the manual's rule, written out again here (not the simulator's encoder). */
function sdcRule(data: string): string {
  const sum = [...data].reduce((a, c) => a + c.charCodeAt(0), 0) & 0xffff;
  return `%${data}${sum.toString(16).toUpperCase().padStart(4, '0')}\r`;
}

/** Up to 10 s of real time: a hang's bound on a loaded machine, not a timing. */
async function waitUntil(pred: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// A serial-to-IP gateway that only forwards what the unit sends; what the driver writes is kept in
// 3-byte frames (Taiden's controller commands are 3 bytes; the SDC 8000 takes none).
const gateway: PeerScript = {
  framer: (b) => ({ frames: b.match(/[\s\S]{3}/g) ?? [], rest: b.slice(b.length - (b.length % 3)) }),
  encoding: 'latin1',
  rules: [],
};
// An SDC 8000 behind the gateway: its periodic %S sync (every ~5 s, appendix A) comes through at once.
const sdcGateway: PeerScript = { ...gateway, greet: [T['sdc-sync-none'].reply] };

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
  peer: protocol === 'sdc8000' ? sdcGateway : gateway,
  config: { protocol, transport: 'tcp' },
  run: async (dev) => {
    await online(dev);
    await dev.until(() => dev.peer.clientCount > 0, 'the gateway connection');
    let d: Awaited<ReturnType<typeof dev.device>> | null = null;
    for (const [row, want] of steps) {
      dev.peer.push(T[row as keyof typeof T].reply);
      // '' = no change to see (e.g. %1R, which names no microphone): the next step's frame follows it in order.
      if (want !== '') d = await dev.until((r) => active(r) === want, `${row} → active ${want}`);
    }
    // Every row here is a well-formed frame: none may be counted as corrupt.
    expect(d?.state.bad_frames?.value ?? 0).toBe(0);
  },
});

const cases: DriverCase[] = [
  {
    id: 'taiden-start-then-positions',
    rows: ['taiden-start-tracking', 'taiden-show-mic', 'taiden-panorama'],
    peer: gateway,
    config: { protocol: 'taiden', transport: 'tcp' },
    run: async (dev) => {
      await online(dev);
      await dev.until(() => dev.peer.received.includes(T['taiden-start-tracking'].send ?? ''), 'E3 E4 00 on connect');
      for (const [r, want] of [
        ['taiden-show-mic', '[7]'],
        ['taiden-panorama', '[]'],
      ] as const) {
        dev.peer.push(T[r].reply);
        await dev.until((d) => active(d) === want, `${r} → active ${want}`);
      }
    },
  },
  pushed('taiden-chairman-and-lowest', 'taiden', [
    ['taiden-lowest-after-off', '[4]'],
    ['taiden-chairman-after-off', '[1]'],
  ]),
  pushed('sdc-first-delegate-reset', 'sdc8000', [
    ['sdc-first-on', ''],
    ['sdc-delegate-on', '[3]'],
    ['sdc-delegate-off', '[]'],
    ['sdc-last-off-reset', '[]'],
    ['sdc-chairman-on', '[1]'],
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
    id: 'sdc-online-once-heard',
    rows: ['sdc-sync-none'],
    peer: gateway,
    config: { protocol: 'sdc8000', transport: 'tcp' },
    run: async (dev) => {
      await dev.until(() => dev.peer.clientCount > 0, 'the gateway connection');
      // Connected, nothing heard yet: still connecting (a gateway that accepts says nothing of the unit).
      expect((await dev.device()).status.status).toBe('connecting');
      dev.peer.push(T['sdc-sync-none'].reply);
      await online(dev);
    },
  },
  {
    id: 'sdc-printed-examples-taken',
    rows: ['sdc-first-on-printed', 'sdc-reset-printed'],
    peer: sdcGateway,
    config: { protocol: 'sdc8000', transport: 'tcp' },
    run: async (dev) => {
      await online(dev);
      await dev.until(() => dev.peer.clientCount > 0, 'the gateway connection');
      dev.peer.push(T['sdc-first-on-printed'].reply + T['sdc-delegate-on'].reply);
      await dev.until((r) => active(r) === '[3]', 'mic 3 on after the printed %1R');
      dev.peer.push(T['sdc-chairman-on'].reply + T['sdc-reset-printed'].reply);
      const d = await dev.until((r) => active(r) === '[]', 'all off by the printed %1r');
      expect(d.state.bad_frames?.value ?? 0).toBe(0);
    },
  },
  {
    id: 'sdc-bad-checksum-dropped',
    rows: ['sdc-bad-checksum'],
    peer: sdcGateway,
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
    id: 'confidea-on-request-prior-off',
    rows: ['confidea-on', 'confidea-request', 'confidea-prior', 'confidea-off'],
    peer: async () => new ConfideaUnit(),
    config: { protocol: 'confidea', transport: 'udp', host: '127.0.0.1', listen_port: 0 },
    run: async (dev) => {
      const d = await online(dev);
      (dev.peer as unknown as ConfideaUnit).target = d.state.listen_port?.value as number;
      dev.peer.push(T['confidea-on'].reply);
      await dev.until((r) => active(r) === '[7]', 'mic 7 on');
      dev.peer.push(T['confidea-request'].reply);
      dev.peer.push(T['confidea-prior'].reply);
      await dev.until((r) => active(r) === '[1,7]', 'mic 1 on with priority; 9 only requesting');
      dev.peer.push(T['confidea-off'].reply);
      await dev.until((r) => active(r) === '[1]', 'mic 7 off');
    },
  },
];

describeDriverConformance('conference-mic', T, cases, knownDriverGaps);
