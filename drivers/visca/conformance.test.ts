// VISCA conformance (issue 17): the rows of conformance.ts (a) against our
// simulator over real sockets in all framings (Sony UDP, raw TCP, raw UDP,
// serial on a binding-mock port), (b) against the driver inside a real agent,
// with a scripted camera replaying the rows (Sony UDP, raw TCP, raw UDP).
import dgram from 'node:dgram';
import { SerialPortStream } from '@serialport/stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ConformanceRow,
  checkTable,
  type DriverCase,
  describeDriverConformance,
  online,
  SimProbe,
} from '../../test/support/conformance.js';
import { bytesOf, hexOf, sonyDatagram, splitPackets, ViscaPeer } from '../../test/support/conformance-visca.js';
import { knownDriverGaps, viscaTable as T } from './conformance.js';
// The registry where the driver looks up binding-mock serial ports by path (no driver logic is used).
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { ViscaSimulator } from './simulator.js';

it('every row cites its source', () => checkTable(T));

const messages = (reply: string) => reply.split('\n');

/** A UDP client of the simulator that keeps every datagram as "TYPE|payload" (Sony) or packets (raw). */
class UdpProbe {
  readonly got: { text: string; sequence: number }[] = [];
  private constructor(
    private readonly s: dgram.Socket,
    private readonly port: number,
    private readonly sony: boolean,
  ) {
    s.on('message', (m) => {
      if (!sony) for (const p of splitPackets(m)) this.got.push({ text: hexOf(p), sequence: -1 });
      else this.got.push({ text: `${hexOf(m.subarray(0, 2))}|${hexOf(m.subarray(8))}`, sequence: m.readUInt32BE(4) });
    });
  }
  static async open(port: number, sony: boolean): Promise<UdpProbe> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new UdpProbe(s, port, sony);
  }
  send(text: string, sequence = 0): void {
    const [type, payload] = text.split('|');
    this.s.send(this.sony ? sonyDatagram(type, sequence, payload) : bytesOf(text), this.port, '127.0.0.1');
  }
  /** Waits for `expected` (in order) among the datagrams received since `from`. */
  async expect(expected: (string | RegExp)[], from: number, sequence?: number): Promise<number> {
    const end = Date.now() + 10_000; // a hang's bound on a loaded machine, not a timing
    for (;;) {
      const seen = this.got.slice(from);
      let at = 0;
      for (const m of seen) {
        const e = expected[at];
        if (e !== undefined && (typeof e === 'string' ? m.text === e : e.test(m.text))) {
          if (sequence !== undefined) expect(m.sequence, m.text).toBe(sequence);
          at++;
        }
      }
      if (at === expected.length) return this.got.length;
      if (Date.now() > end) throw new Error(`simulator never sent ${expected.join(' / ')}; got ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  close(): void {
    this.s.close();
  }
}

const compact = (h: string) => h.replace(/\s+/g, '').toLowerCase();

describe('visca: simulator against the manual', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const sim = async (o: ConstructorParameters<typeof ViscaSimulator>[0]) => {
    const s = await new ViscaSimulator({ motionMs: 0, ...o }).start();
    cleanups.push(() => s.stop());
    return s;
  };

  it('sony-udp: RESET ACK on 02 01, ACK + Completion, inquiry, sequence echo', async () => {
    const s = await sim({ framing: 'sony-udp' });
    const p = await UdpProbe.open(s.endpoint.port as number, true);
    cleanups.push(() => p.close());
    p.send(T['sony-reset'].send, 0);
    let at = await p.expect([T['sony-reset'].reply], 0);
    p.send(T['sony-command'].send, 7);
    at = await p.expect(messages(T['sony-command'].reply), at, 7);
    p.send(T['sony-inquiry'].send, 8);
    await p.expect([T['sony-inquiry'].reply], at, 8);
  });

  it('sony-udp: ERROR 0F 01 and 0F 02 travel as control commands (02 00)', async () => {
    const s = await sim({ framing: 'sony-udp' });
    const p = await UdpProbe.open(s.endpoint.port as number, true);
    cleanups.push(() => p.close());
    // The ACK and Completion are lost; the resend with the same number gets "abnormal sequence number".
    s.dropNextReplies(2);
    p.send(T['sony-error-sequence'].send, 21);
    await new Promise((r) => setTimeout(r, 50));
    p.send(T['sony-error-sequence'].send, 21);
    let at = await p.expect([T['sony-error-sequence'].reply], 0, 21);
    p.send(T['sony-error-message'].send, 22);
    at = await p.expect([T['sony-error-message'].reply], at, 22);
    p.send(T['sony-syntax-error'].send, 23);
    await p.expect([T['sony-syntax-error'].reply], at, 23);
  });

  it('sony-udp: cancel, buffer full, not executable in standby', async () => {
    const s = await sim({ framing: 'sony-udp', motionMs: 2000 });
    const p = await UdpProbe.open(s.endpoint.port as number, true);
    cleanups.push(() => p.close());
    p.send('01 00|81 01 04 3F 02 05 FF', 1);
    let at = await p.expect(['01 11|90 41 FF'], 0, 1);
    p.send('01 00|81 01 06 04 FF', 2);
    at = await p.expect(['01 11|90 42 FF'], at, 2);
    p.send(T['sony-buffer-full'].send, 3);
    at = await p.expect([T['sony-buffer-full'].reply], at, 3);
    p.send(T['sony-cancel'].send, 4);
    at = await p.expect([T['sony-cancel'].reply], at);
    p.send('01 00|81 21 FF', 5);
    at = await p.expect(['01 11|90 61 05 FF'], at);
    p.send('01 00|81 01 04 00 03 FF', 6); // standby
    at = await p.expect(['01 11|90 51 FF'], at);
    p.send(T['sony-not-executable'].send, 7);
    await p.expect([/^01 11\|90 6[0-2] 41 FF$/], at, 7);
  });

  it('raw-tcp: inquiries, ACK + Completion, syntax error, network change', async () => {
    const s = await sim({ framing: 'raw-tcp', profile: 'ptzoptics' });
    const p = await SimProbe.connect(s.endpoint.port as number, 'hex');
    cleanups.push(() => p.close());
    const row = async (id: keyof typeof T, expected?: RegExp) => {
      p.send(compact((T[id] as ConformanceRow).send as string));
      for (const m of messages(T[id].reply)) await p.expect(expected ?? compact(m), id);
    };
    await row('raw-inquiry');
    await row('raw-command');
    await row('raw-position-inquiry', /^9050(0[0-9a-f]){8}ff/);
    await row('raw-zoom-inquiry', /^9050(0[0-9a-f]){4}ff/);
    await row('raw-syntax-error');
    s.sendNetworkChange();
    await p.expect(compact(T['network-change'].reply), 'network-change');
  });

  it('raw-udp: the same bytes as raw TCP', async () => {
    const s = await sim({ framing: 'raw-udp', profile: 'ptzoptics' });
    const p = await UdpProbe.open(s.endpoint.port as number, false);
    cleanups.push(() => p.close());
    p.send(T['raw-inquiry'].send);
    const at = await p.expect([T['raw-inquiry'].reply], 0);
    p.send(T['raw-command'].send);
    await p.expect(messages(T['raw-command'].reply), at);
  });

  it('serial: AddressSet, IF_Clear broadcast echoed, IF_Clear, then commands', async () => {
    const path = `/dev/ROBOT-conformance-${process.pid}`;
    const s = await sim({ framing: 'serial', path });
    const port = new SerialPortStream({
      binding: s.binding as ConstructorParameters<typeof SerialPortStream>[0]['binding'],
      path,
      baudRate: 9600,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    cleanups.push(() => new Promise<void>((r) => port.close(() => r())));
    let text = '';
    port.on('data', (d: Buffer) => {
      text += d.toString('hex');
    });
    let cursor = 0;
    const row = async (id: keyof typeof T) => {
      port.write(bytesOf((T[id] as ConformanceRow).send as string));
      for (const m of messages(T[id].reply)) {
        const end = Date.now() + 10_000;
        for (;;) {
          const i = text.indexOf(compact(m), cursor);
          if (i >= 0) {
            cursor = i + compact(m).length;
            break;
          }
          if (Date.now() > end) throw new Error(`${id}: simulator never sent ${m}; got ${text.slice(cursor)}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    };
    await row('serial-address-set');
    await row('serial-if-clear-broadcast');
    await row('serial-if-clear');
    await row('raw-inquiry');
    await row('raw-command');
  });
});

// ---- the driver against scripted cameras ----

/** Sony camera answering RESET, the inquiries a driver makes at connect and every command with ACK + Completion. */
function sonyRules(extra: ConstructorParameters<typeof ViscaPeer>[1]['rules'] = []) {
  return [
    ...extra,
    { when: T['sony-reset'].send, reply: T['sony-reset'].reply },
    { when: T['sony-inquiry'].send, reply: T['sony-inquiry'].reply },
    { when: '01 10|81 09 06 12 FF', reply: `01 11|${T['raw-position-inquiry'].reply}` },
    { when: '01 10|81 09 04 47 FF', reply: `01 11|${T['raw-zoom-inquiry'].reply}` },
    { when: /^01 10\|/, reply: '01 11|90 60 02 FF' },
    { when: /^01 00\|81 2[12] FF$/, reply: '01 11|90 61 05 FF' },
    { when: /^01 00\|/, reply: messages(T['sony-command'].reply) },
  ];
}
const rawRules = (extra: ConstructorParameters<typeof ViscaPeer>[1]['rules'] = []) => [
  ...extra,
  { when: T['raw-inquiry'].send, reply: T['raw-inquiry'].reply },
  { when: T['raw-position-inquiry'].send, reply: T['raw-position-inquiry'].reply },
  { when: T['raw-zoom-inquiry'].send, reply: T['raw-zoom-inquiry'].reply },
  { when: /^81 09 /, reply: '90 60 02 FF' },
  { when: /^81 2[12] FF$/, reply: '90 61 05 FF' },
  { when: /^81 01 /, reply: messages(T['raw-command'].reply) },
];
const sonyPeer = (extra?: Parameters<typeof sonyRules>[0]) => () =>
  new ViscaPeer('sony-udp', { rules: sonyRules(extra) }).start();
const sony = { framing: 'sony-udp', reply_timeout_ms: 150, retries: 2, completion_timeout_ms: 2000, poll_interval_ms: 60_000 };
const recall = (dev: Parameters<DriverCase['run']>[0]) => dev.action('preset.recall', { preset: 1 });
const RECALL_1 = '01 00|81 01 04 3F 02 00 FF';

const cases: DriverCase[] = [
  {
    id: 'sony-reset-then-online',
    rows: ['sony-reset', 'sony-inquiry'],
    peer: sonyPeer(),
    config: sony,
    run: async (dev) => {
      const d = await online(dev);
      expect(d.state.power?.value).toBe('on');
      expect(dev.peer.received[0]).toBe(T['sony-reset'].send);
    },
  },
  {
    id: 'sony-recall-ack-completion',
    rows: ['sony-command'],
    peer: sonyPeer(),
    config: sony,
    run: async (dev) => {
      await online(dev);
      expect(await recall(dev)).toMatchObject({ ok: true });
      expect((await dev.device()).state.last_preset?.value).toBe(1);
    },
  },
  {
    id: 'sony-lost-ack-resend-gets-0F01',
    rows: ['sony-error-sequence'],
    // The first try runs but both replies are lost; the resend (same number) gets 0F 01 on 02 00; a new number gets the result.
    peer: sonyPeer([
      { when: RECALL_1, reply: [], once: true },
      { when: RECALL_1, reply: T['sony-error-sequence'].reply, once: true },
    ]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      expect(await recall(dev)).toMatchObject({ ok: true });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'sony-0F01-on-control-reply-tolerated',
    rows: ['sony-error-sequence-on-control-reply'],
    peer: sonyPeer([
      { when: RECALL_1, reply: [], once: true },
      { when: RECALL_1, reply: T['sony-error-sequence-on-control-reply'].reply, once: true },
    ]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      expect(await recall(dev)).toMatchObject({ ok: true });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'sony-0F02-fails-the-request',
    rows: ['sony-error-message'],
    peer: sonyPeer([{ when: RECALL_1, reply: T['sony-error-message'].reply }]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      expect(await recall(dev)).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'sony-syntax-error',
    rows: ['sony-syntax-error'],
    peer: sonyPeer([{ when: RECALL_1, reply: T['sony-syntax-error'].reply }]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      const out = await recall(dev);
      expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect(out.ok ? '' : out.message).toContain('syntax error');
    },
  },
  {
    id: 'sony-not-executable',
    rows: ['sony-not-executable'],
    peer: sonyPeer([{ when: RECALL_1, reply: T['sony-not-executable'].reply }]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      const out = await recall(dev);
      expect(out).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect(out.ok ? '' : out.message).toContain('not executable');
    },
  },
  {
    id: 'sony-buffer-full-twice-is-busy',
    rows: ['sony-buffer-full'],
    peer: sonyPeer([{ when: RECALL_1, reply: T['sony-buffer-full'].reply }]),
    config: { ...sony, busy_retry_ms: 50 },
    run: async (dev) => {
      await online(dev);
      expect(await recall(dev)).toMatchObject({ ok: false, code: 'DEVICE_BUSY' });
      expect(dev.peer.received.filter((f) => f === RECALL_1)).toHaveLength(2);
    },
  },
  {
    id: 'sony-network-change-ignored',
    rows: ['network-change'],
    peer: sonyPeer(),
    config: sony,
    run: async (dev) => {
      await online(dev);
      dev.peer.push(`01 11|${T['network-change'].reply}`);
      expect(await recall(dev)).toMatchObject({ ok: true });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'sony-move-answers-at-ack',
    rows: ['sony-command'],
    // Some cameras never send a Completion for drive commands: the ACK is the answer.
    peer: sonyPeer([{ when: /^01 00\|81 01 06 01 /, reply: '01 11|90 41 FF' }]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('move', { direction: 'left' })).toMatchObject({ ok: true });
    },
  },
  {
    id: 'sony-stop-cancels-running-recall',
    rows: ['sony-cancel'],
    // The recall is ACKed in socket 1 and runs; stop cancels it with 81 21 FF → 90 61 04 FF.
    peer: sonyPeer([
      { when: RECALL_1, reply: '01 11|90 41 FF' },
      { when: T['sony-cancel'].send, reply: T['sony-cancel'].reply },
    ]),
    config: sony,
    run: async (dev) => {
      await online(dev);
      const running = recall(dev);
      await dev.until((d) => d.state.moving?.value === true, 'moving after the ACK');
      expect(await dev.action('stop')).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain(T['sony-cancel'].send);
      expect(await running).toMatchObject({ ok: false });
    },
  },
  {
    id: 'raw-tcp-online-and-recall',
    rows: ['raw-inquiry', 'raw-position-inquiry', 'raw-zoom-inquiry', 'raw-command'],
    peer: () => new ViscaPeer('raw-tcp', { rules: rawRules() }).start(),
    config: { framing: 'raw-tcp', profile: 'ptzoptics', reply_timeout_ms: 300, completion_timeout_ms: 2000 },
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('preset.recall', { preset: 0 })).toMatchObject({ ok: true });
      expect(dev.peer.received).toContain('81 01 04 3F 02 00 FF');
    },
  },
  {
    id: 'raw-tcp-syntax-error',
    rows: ['raw-syntax-error'],
    peer: () =>
      new ViscaPeer('raw-tcp', {
        rules: rawRules([{ when: '81 01 04 3F 02 00 FF', reply: T['raw-syntax-error'].reply }]),
      }).start(),
    config: { framing: 'raw-tcp', profile: 'ptzoptics', reply_timeout_ms: 300, completion_timeout_ms: 2000 },
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('preset.recall', { preset: 0 })).toMatchObject({ ok: false, code: 'DEVICE_ERROR' });
      expect((await dev.device()).status.status).toBe('online');
    },
  },
  {
    id: 'raw-udp-online-and-recall',
    rows: ['raw-inquiry', 'raw-command'],
    peer: () => new ViscaPeer('raw-udp', { rules: rawRules() }).start(),
    config: {
      framing: 'raw-udp',
      profile: 'ptzoptics',
      reply_timeout_ms: 300,
      completion_timeout_ms: 2000,
      poll_interval_ms: 60_000,
    },
    run: async (dev) => {
      await online(dev);
      expect(await dev.action('preset.recall', { preset: 0 })).toMatchObject({ ok: true });
    },
  },
];

/** A camera on a binding-mock serial port: AddressSet and IF_Clear answered as the chain's only camera. */
function serialPeer(id: string) {
  const path = `/dev/ROBOT-conformance-${id}-${process.pid}`;
  return {
    path,
    start: async () => {
      const p = await new ViscaPeer(
        'serial',
        {
          rules: rawRules([
            { when: T['serial-address-set'].send, reply: T['serial-address-set'].reply },
            { when: T['serial-if-clear-broadcast'].send, reply: T['serial-if-clear-broadcast'].reply },
            { when: T['serial-if-clear'].send, reply: T['serial-if-clear'].reply },
          ]),
        },
        path,
      ).start();
      if (p.binding) simulatedSerialPorts.set(path, p.binding);
      return p;
    },
  };
}
const serialA = serialPeer('a');
const serialB = serialPeer('b');
const serial = { framing: 'serial', reply_timeout_ms: 300, completion_timeout_ms: 2000, poll_interval_ms: 60_000 };
cases.push(
  {
    id: 'serial-address-set-if-clear-online',
    rows: ['serial-address-set', 'serial-if-clear-broadcast', 'raw-inquiry', 'raw-command'],
    peer: serialA.start,
    config: { ...serial, path: serialA.path },
    run: async (dev) => {
      await online(dev);
      expect(dev.peer.received.slice(0, 2)).toEqual([T['serial-address-set'].send, T['serial-if-clear-broadcast'].send]);
      expect(await recall(dev)).toMatchObject({ ok: true });
    },
  },
  {
    id: 'serial-network-change-readdresses',
    rows: ['network-change', 'serial-address-set'],
    peer: serialB.start,
    config: { ...serial, path: serialB.path },
    run: async (dev) => {
      await online(dev);
      const before = dev.peer.received.filter((f) => f === T['serial-address-set'].send).length;
      dev.peer.push(T['network-change'].reply);
      await dev.until(
        () => dev.peer.received.filter((f) => f === T['serial-address-set'].send).length > before,
        'AddressSet again after the network change',
      );
    },
  },
);

describeDriverConformance('visca', T, cases, knownDriverGaps);
