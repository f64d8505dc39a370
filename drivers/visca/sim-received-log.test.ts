// ViscaSimulator.received without an object per message (sim-received-log.ts): the log read
// after any number of messages equals the log the simulator kept before, one record pushed
// per message and the oldest 5,000 dropped past 10,000, whatever the reads and splices between.
import { describe, expect, it } from 'vitest';
import { type CameraRequest, hexBytes, parseCameraRequest } from './sim-codec.js';
import { type ReceivedCommand, ReceivedLog } from './sim-received-log.js';

/** The log as the simulator kept it before: a record per message, trimmed on push. */
class ArrayLog {
  readonly list: ReceivedCommand[] = [];
  add(packet: Buffer, at: number, peer: string, preset: number | undefined): void {
    const rec: ReceivedCommand = { at, request: parseCameraRequest(packet), peer, hex: hexBytes(packet) };
    if (preset !== undefined) rec.preset = preset;
    this.list.push(rec);
    if (this.list.length > 10_000) this.list.splice(0, 5_000);
  }
}

const PACKETS = ['81 01 04 3F 02 0A FF', '81 09 04 47 FF', '82 01 06 04 FF', '81 FF', `81 ${'01 '.repeat(15)}FF`].map((h) =>
  Buffer.from(h.replace(/ /g, ''), 'hex'),
);

function drive(steps: Array<['add', number] | ['read'] | ['splice', number] | ['listen']>) {
  const log = new ReceivedLog();
  const ref = new ArrayLog();
  let n = 0;
  for (const step of steps) {
    if (step[0] === 'add' || step[0] === 'listen') {
      const count = step[0] === 'add' ? step[1] : 1;
      for (let i = 0; i < count; i++, n++) {
        const packet = PACKETS[n % PACKETS.length]!;
        // The packet in the middle of a datagram that is reused afterwards: nothing of it may be kept.
        const datagram = Buffer.concat([Buffer.from([1, 0, 0, packet.length, 0, 0, 0, n & 0xff]), packet]);
        const request: CameraRequest = parseCameraRequest(packet);
        const preset = request.kind === 'preset' ? n : undefined;
        const peer = `udp:127.0.0.1:${40_000 + (n % 3)}`;
        if (step[0] === 'listen') log.push(request, datagram, 8, datagram.length, n * 10, peer, preset);
        else log.add(request, datagram, 8, datagram.length, n * 10, peer, preset);
        datagram.fill(0x55);
        ref.add(packet, n * 10, peer, preset);
      }
    } else if (step[0] === 'read') expect(log.list).toEqual(ref.list);
    else {
      log.list.splice(0, step[1]);
      ref.list.splice(0, step[1]);
    }
  }
  expect(log.list).toEqual(ref.list);
  return log.list;
}

describe('the received log (sim-received-log.ts) equals a record kept per message', () => {
  it('few messages, read between them', () => {
    const list = drive([['add', 3], ['read'], ['add', 1], ['listen'], ['add', 2], ['read']]);
    expect(list.map((r) => r.hex)).toEqual([
      '81 01 04 3F 02 0A FF',
      '81 09 04 47 FF',
      '82 01 06 04 FF',
      '81 FF',
      expect.any(String),
      '81 01 04 3F 02 0A FF',
      '81 09 04 47 FF',
    ]);
    expect(list[0]).toEqual({
      at: 0,
      request: { kind: 'preset', address: 1, op: 'recall', byte: 0x0a },
      peer: 'udp:127.0.0.1:40000',
      hex: '81 01 04 3F 02 0A FF',
      preset: 0,
    });
    expect('preset' in list[1]!).toBe(false);
  });

  it('past the trim, unread: 10,000, 10,001, 25,000 and 123,457 messages', () => {
    for (const n of [10_000, 10_001, 25_000, 123_457]) drive([['add', n]]);
  });

  it('past the trim with reads, listeners and test splices in between', () => {
    drive([
      ['add', 9_999],
      ['read'],
      ['add', 2],
      ['read'],
      ['splice', 4_000],
      ['add', 12_000],
      ['listen'],
      ['add', 7_000],
      ['splice', 10],
    ]);
    drive([['add', 6_000], ['listen'], ['add', 6_000], ['read'], ['add', 30_001], ['splice', 9_000], ['add', 9_999], ['read']]);
  });

  it('hands out the same array, so a splice by a test sticks', () => {
    const log = new ReceivedLog();
    const packet = PACKETS[0]!;
    for (let i = 0; i < 5; i++) log.add(parseCameraRequest(packet), packet, 0, packet.length, i, 'serial', undefined);
    log.list.splice(0, 3);
    expect(log.list.map((r) => r.at)).toEqual([3, 4]);
    log.add(parseCameraRequest(packet), packet, 0, packet.length, 5, 'serial', undefined);
    expect(log.list.map((r) => r.at)).toEqual([3, 4, 5]);
  });
});
