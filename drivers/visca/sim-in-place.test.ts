// The simulator reads packets where they lie (a datagram's payload, a range of a
// buffer) instead of copying them out first, and keeps a received datagram's bytes
// for `received[].hex` (written only when read). These tests pin that the in-place
// readings equal the copying ones and that what the camera sends is unchanged:
// Sony VISCA over IP header, ACK then Completion with the sequence number echoed,
// ERROR 0F 01 for a resend, 0F 02 for a bad length (Sony SRG-300H technical manual,
// "VISCA over IP", pp. 31–32: control command payloads, delivery confirmation; Sony
// BRC-X400 VISCA command list, "ACK/Completion message") — the sources of the rows in
// conformance.ts, which run against this simulator unchanged.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/wait.js';
import {
  CameraStreamDecoder,
  cameraReply,
  eachDatagramPacket,
  hexBytes,
  hexRange,
  parseCameraRequest,
  readCameraRequest,
} from './sim-codec.js';
import { ViscaSimulator } from './simulator.js';

const bytes = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

/** Packets of the X400 command and inquiry lists, and broken ones. */
const PACKETS = [
  '81 01 04 3F 02 0A FF',
  '83 01 04 3F 01 00 FF',
  '81 01 06 01 05 06 01 02 FF',
  '81 01 06 02 18 00 0D 0E 00 00 01 02 00 00 FF',
  '81 01 06 03 01 00 00 00 01 00 0F 0F 0F 0F FF',
  '81 01 06 04 FF',
  '81 01 04 07 25 FF',
  '81 01 04 47 07 0A 0C 00 FF',
  '81 01 04 00 03 FF',
  '82 22 FF',
  '88 01 00 01 FF',
  '88 30 01 FF',
  '81 09 06 12 FF',
  '81 09 04 3F FF',
  '81 FF',
  `81 ${'01 '.repeat(15)}FF`,
  '81 01 04 3F 03 00 FF',
  '90 41 FF',
  '',
];

describe('reading in place (sim-codec.ts)', () => {
  it('reads a packet inside a larger buffer as parseCameraRequest reads a copy of it', () => {
    for (const hex of PACKETS) {
      const packet = bytes(hex);
      // Bytes around it that would change the reading if the range were overstepped.
      const around = Buffer.concat([bytes('81 01 04'), packet, bytes('FF 81 01 06 04 FF')]);
      const got = readCameraRequest(around, 3, 3 + packet.length);
      expect(got, hex).toEqual(parseCameraRequest(Buffer.from(packet)));
      expect(hexRange(around, 3, 3 + packet.length)).toBe(hexBytes(packet));
    }
    // The FF after the range is not the packet's: an unterminated packet is a length error.
    expect(readCameraRequest(bytes('81 01 04 3F 02 0A FF'), 0, 6).kind).toBe('malformed');
  });

  it('splits a datagram as a fresh stream decoder does (several packets, an endless run, bytes after the last FF)', () => {
    const datagrams = [
      '81 01 04 3F 02 0A FF',
      '81 01 04 3F 02 0A FF 81 09 04 00 FF',
      `${'01 '.repeat(40)}FF 81 09 04 00 FF 81 01`,
      '81 01 04 3F 02 0A',
      'FF FF',
      '',
    ];
    for (const hex of datagrams) {
      const datagram = bytes(hex);
      const inPlace: string[] = [];
      eachDatagramPacket(datagram, (b, start, end) => inPlace.push(hexRange(b, start, end)));
      expect(inPlace, hex).toEqual(new CameraStreamDecoder().push(datagram).map(hexBytes));
    }
  });

  it('ACK and Completion are made once, and made again if someone changed one', () => {
    const ack = cameraReply.ack(1, 2);
    expect(cameraReply.ack(1, 2)).toBe(ack);
    expect(hexBytes(cameraReply.completion(1, 2))).toBe('90 52 FF');
    ack[1] = 0x61;
    expect(hexBytes(cameraReply.ack(1, 2))).toBe('90 42 FF');
    expect(hexBytes(cameraReply.ack(2, 0x11))).toBe('A0 51 FF'); // outside the socket nibble: built as before
  });

  it('a stream decoder hands out packets of their own: later chunks do not change earlier packets', () => {
    const dec = new CameraStreamDecoder();
    const seen: Buffer[] = [];
    dec.each(bytes('81 01 04 3F 02 0A FF 81 09'), (p) => seen.push(p));
    dec.each(bytes('04 00 FF 82 22 FF'), (p) => seen.push(p));
    expect(seen.map(hexBytes)).toEqual(['81 01 04 3F 02 0A FF', '81 09 04 00 FF', '82 22 FF']);
  });
});

describe('the Sony camera answers byte for byte as before (simulator.ts on a real UDP socket)', () => {
  let sim: ViscaSimulator | null = null;
  let controller: dgram.Socket | null = null;
  afterEach(async () => {
    controller?.close();
    controller = null;
    await sim?.stop();
    sim = null;
  });

  it('echoes the sequence number in ACK and Completion, refuses a resend and a bad length, and logs each message once', async () => {
    sim = await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start();
    const { port } = sim.endpoint as { port: number };
    const replies: string[] = [];
    const c = dgram.createSocket('udp4');
    controller = c;
    c.on('message', (m) => replies.push(hexBytes(m)));
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    const send = (hex: string) => c.send(bytes(hex), port, '127.0.0.1');
    const waitFor = (n: number, what: string) => until(() => replies.length >= n, what, 10_000);

    // RESET, then a preset recall with sequence 0x01020304.
    send('02 00 00 01 00 00 00 00 01');
    await waitFor(1, 'the RESET ACK');
    expect(replies[0]).toBe('02 01 00 01 00 00 00 00 01');
    send('01 00 00 07 01 02 03 04 81 01 04 3F 02 0A FF');
    await waitFor(3, 'ACK and Completion');
    const [ack, completion] = replies.slice(1, 3);
    expect(ack).toMatch(/^01 11 00 03 01 02 03 04 90 4[12] FF$/);
    expect(completion).toBe(`01 11 00 03 01 02 03 04 90 5${ack!.at(-4)} FF`);
    // The same sequence number again: the command already ran, ERROR abnormal sequence number as a control command.
    send('01 00 00 07 01 02 03 04 81 01 04 3F 02 0A FF');
    await waitFor(4, 'the reply to the resend');
    expect(replies[3]).toBe('02 00 00 02 01 02 03 04 0F 01');
    // A header announcing 5 bytes over a 7-byte payload: ERROR abnormal message, sequence as sent.
    send('01 00 00 05 00 00 00 09 81 01 04 3F 02 0A FF');
    await waitFor(5, 'the reply to a bad length');
    expect(replies[4]).toBe('02 00 00 02 00 00 00 09 0F 02');
    // An inquiry with a sequence number above 2^31 (unsigned).
    send('01 10 00 05 FF FF FF FE 81 09 04 3F FF');
    await waitFor(6, 'the inquiry answer');
    expect(replies[5]).toMatch(/^01 11 00 04 FF FF FF FE 90 50 0A FF$/);

    // Only the two messages that ran are logged, with their bytes as received (read after later datagrams arrived).
    expect(sim.received.map((r) => r.hex)).toEqual(['81 01 04 3F 02 0A FF', '81 09 04 3F FF']);
    expect(sim.received.map((r) => r.peer)).toEqual(Array(2).fill(`udp:127.0.0.1:${c.address().port}`));
    expect(sim.received[0]).toMatchObject({ request: { kind: 'preset', op: 'recall', byte: 0x0a }, preset: 11 });
    expect(sim.presetRecalls()).toEqual([11]);
  });

  it('a burst of inquiries from two controllers: each reply carries its own sequence number (reply frames are reused)', async () => {
    sim = await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start();
    const { port } = sim.endpoint as { port: number };
    const c = dgram.createSocket('udp4');
    const d = dgram.createSocket('udp4');
    controller = c;
    const other = d;
    const replies = new Map<dgram.Socket, string[]>([
      [c, []],
      [d, []],
    ]);
    for (const s of [c, d]) {
      s.on('message', (m) => replies.get(s)!.push(hexBytes(m)));
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    }
    try {
      // CAM_PowerInq 8x 09 04 00 FF, answered y0 50 02 FF (on) with the inquiry's sequence number.
      const inquiry = (seq: number) => bytes(`01 10 00 05 00 00 00 ${seq.toString(16).padStart(2, '0')} 81 09 04 00 FF`);
      for (let i = 1; i <= 8; i++) {
        c.send(inquiry(i), port, '127.0.0.1');
        d.send(inquiry(0x80 + i), port, '127.0.0.1');
      }
      await until(() => replies.get(c)!.length >= 8 && replies.get(d)!.length >= 8, 'sixteen answers', 10_000);
      const seqs = (s: dgram.Socket) =>
        replies
          .get(s)!
          .map((r) => r.slice(21, 23))
          .sort();
      expect(seqs(c)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
      expect(seqs(d)).toEqual(['81', '82', '83', '84', '85', '86', '87', '88']);
      for (const r of [...replies.get(c)!, ...replies.get(d)!])
        expect(r).toMatch(/^01 11 00 04 00 00 00 [0-9A-F]{2} 90 50 0[23] FF$/);
    } finally {
      other.close();
    }
  });
});
