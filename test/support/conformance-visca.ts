// A scripted VISCA camera for the conformance runner (issue 17): Sony VISCA
// over IP (UDP, 8-byte header), raw VISCA over UDP or TCP. Messages are
// written as hex text so rules read like the manuals' tables:
//   sony-udp: "<payload type>|<payload>", e.g. "01 00|81 01 04 3F 02 00 FF";
//             a reply "02 00|0F 01" goes out with the request's sequence number;
//   raw:      "<packet>", e.g. "81 09 04 00 FF" → "90 50 02 FF".
// Written from the Sony SRG-300H / BRC-X400 manuals' VISCA over IP pages
// (Sony SRG-300H technical manual, "VISCA over IP" pp.31-32), not from the driver.
import dgram from 'node:dgram';
import net from 'node:net';
import type { BindingInterface } from '../../src/transport/serial.js';
import { type SerialPeer, serialDevice } from '../../src/transport/serial-mock.js';
import { answerFrame, type ConformancePeer, type PeerRule, type PeerScript } from './conformance.js';

export type ViscaPeerFraming = 'sony-udp' | 'raw-udp' | 'raw-tcp' | 'serial';

/** `81 01 FF` from bytes. */
export const hexOf = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
/** Bytes from `81 01 FF`. */
export const bytesOf = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A Sony datagram from its parts. */
export function sonyDatagram(type: string, sequence: number, payload: string): Buffer {
  const p = bytesOf(payload);
  const head = Buffer.alloc(8);
  bytesOf(type).copy(head, 0);
  head.writeUInt16BE(p.length, 2);
  head.writeUInt32BE(sequence >>> 0, 4);
  return Buffer.concat([head, p]);
}

export class ViscaPeer implements ConformancePeer {
  readonly received: string[] = [];
  connections = 0;
  port = 0;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly clients = new Set<net.Socket>();
  private readonly used = new Set<PeerRule>();
  /** The last UDP sender, for unsolicited messages. */
  private lastSender: { address: string; port: number } | null = null;

  private serialPeer: SerialPeer | null = null;
  /** Serial: the binding-mock port the driver must open (register it where the driver looks for bindings). */
  binding: BindingInterface | null = null;

  constructor(
    readonly framing: ViscaPeerFraming,
    readonly script: Pick<PeerScript, 'rules' | 'fallback'>,
    /** Serial: the port path. */
    readonly path = '',
  ) {}

  async start(): Promise<this> {
    if (this.framing === 'serial') {
      let buffer = Buffer.alloc(0);
      this.binding = serialDevice(this.path, {
        onOpen: (peer) => {
          this.connections++;
          this.serialPeer = peer;
        },
        onData: (chunk) => {
          buffer = Buffer.concat([buffer, chunk]);
          for (;;) {
            const end = buffer.indexOf(0xff);
            if (end < 0) break;
            const packet = buffer.subarray(0, end + 1);
            buffer = buffer.subarray(end + 1);
            for (const r of this.answer(hexOf(packet))) this.serialPeer?.send(bytesOf(r));
          }
        },
        onClose: () => {
          this.serialPeer = null;
          buffer = Buffer.alloc(0);
        },
      }).binding;
      return this;
    }
    if (this.framing === 'raw-tcp') {
      const server = net.createServer((c) => this.accept(c));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      this.tcp = server;
      this.port = (server.address() as net.AddressInfo).port;
      return this;
    }
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    this.udp = s;
    this.port = s.address().port;
    return this;
  }

  get clientCount(): number {
    if (this.framing === 'serial') return this.serialPeer ? 1 : 0;
    return this.framing === 'raw-tcp' ? this.clients.size : this.lastSender ? 1 : 0;
  }

  /** An unsolicited message ("90 38 FF"; sony-udp: "01 11|90 38 FF", sequence 0). */
  push(text: string): void {
    if (this.framing === 'serial') {
      this.serialPeer?.send(bytesOf(text));
      return;
    }
    if (this.framing === 'raw-tcp') {
      for (const c of this.clients) c.write(bytesOf(text));
      return;
    }
    if (!this.udp || !this.lastSender) return;
    const bytes = this.framing === 'sony-udp' ? this.frame(text, 0) : bytesOf(text);
    this.udp.send(bytes, this.lastSender.port, this.lastSender.address);
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const tcp = this.tcp;
    this.tcp = null;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  private frame(text: string, sequence: number): Buffer {
    const [type, payload] = text.split('|');
    return sonyDatagram(type, sequence, payload);
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.lastSender) this.connections++;
    this.lastSender = { address: rinfo.address, port: rinfo.port };
    const send = (b: Buffer) => this.udp?.send(b, rinfo.port, rinfo.address);
    if (this.framing === 'raw-udp') {
      for (const p of splitPackets(msg)) for (const r of this.answer(hexOf(p))) send(bytesOf(r));
      return;
    }
    if (msg.length < 8) return;
    const sequence = msg.readUInt32BE(4);
    const text = `${hexOf(msg.subarray(0, 2))}|${hexOf(msg.subarray(8))}`;
    for (const r of this.answer(text)) send(this.frame(r, sequence));
  }

  private accept(c: net.Socket): void {
    this.connections++;
    this.clients.add(c);
    c.on('close', () => this.clients.delete(c));
    c.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    c.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf(0xff);
        if (end < 0) break;
        const packet = buffer.subarray(0, end + 1);
        buffer = buffer.subarray(end + 1);
        for (const r of this.answer(hexOf(packet))) if (!c.destroyed) c.write(bytesOf(r));
      }
    });
  }

  private answer(frame: string): string[] {
    this.received.push(frame);
    return answerFrame(this.script, this.used, frame);
  }
}

/** The packets of a raw datagram (each ends in FF). */
export function splitPackets(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0xff) continue;
    out.push(b.subarray(at, i + 1));
    at = i + 1;
  }
  return out;
}
