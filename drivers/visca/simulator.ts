// A virtual VISCA camera on real sockets, for tests, the demo and
// commissioning: Sony VISCA over IP (UDP, header + sequence numbers), raw
// VISCA over TCP or UDP, or a serial port (binding-mock, or a real port).
// Packets are read and answered by sim-codec.ts, written from the Sony
// command list; nothing here comes from the driver's protocol code.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '../../src/transport/serial.js';
import { type SerialDevice, type SerialPeer, serialDevice } from '../../src/transport/serial-mock.js';
import { CameraModel, type Position } from './camera-model.js';
import { CameraStreamDecoder, type CameraRequest, cameraReply, type Framing, hexBytes, parseCameraRequest } from './sim-codec.js';
import type { SimulatedModel, SimulatedModelName } from './sim-models.js';

// The Sony VISCA-over-IP header as the camera sees it, written from the Sony
// SRG-300H / BRC-X400 technical manuals (VISCA over IP: payload types, the
// control command and control reply payloads), not from the
// driver's ip-header codec.
const TYPE = {
  command: 0x0100,
  inquiry: 0x0110,
  reply: 0x0111,
  deviceSetting: 0x0120,
  /** Control command: RESET from the controller; the camera's ERRORs travel as this type too. */
  control: 0x0200,
  /** Control reply: only the ACK of RESET. */
  controlReply: 0x0201,
} as const;
const RESET = Buffer.from([0x01]);
/** ERROR "abnormal sequence number" (sent as a control command, 02 00). */
const ERROR_SEQUENCE = Buffer.from([0x0f, 0x01]);
/** ERROR "abnormal message" (sent as a control command, 02 00). */
const ERROR_MESSAGE = Buffer.from([0x0f, 0x02]);

function sonyFrame(type: number, sequence: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(payload.length, 2);
  head.writeUInt32BE(sequence >>> 0, 4);
  return Buffer.concat([head, payload]);
}

/** Header + payload, or null when the datagram is shorter than its header says or the length is outside 1–16. */
function readSonyFrame(msg: Buffer): { type: number; sequence: number; payload: Buffer } | null {
  if (msg.length < 9) return null;
  const length = msg.readUInt16BE(2);
  if (length < 1 || length > 16 || msg.length !== 8 + length) return null;
  return { type: msg.readUInt16BE(0), sequence: msg.readUInt32BE(4), payload: msg.subarray(8) };
}

export interface ViscaSimulatorOptions {
  framing: Framing;
  /** Listen address (IP framings); default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (ephemeral). */
  port?: number;
  /** Serial: the port path. With `realSerialPort` it is an OS device, otherwise a binding-mock port is created. */
  path?: string;
  realSerialPort?: boolean;
  baudRate?: number;
  address?: number;
  /** Serial chain: this camera's position (its address after AddressSet) and the chain length. */
  chainPosition?: number;
  chainLength?: number;
  /** The camera model (sim-models.ts) or its name ('sony', 'ptzoptics', …): preset numbers and speeds; default Sony. */
  profile?: SimulatedModel | SimulatedModelName;
  motionMs?: number;
  /** Sony strict mode: always reply to this UDP port (e.g. 52381) instead of the sender's. */
  replyPort?: number;
}

/** One message the camera received, decoded. */
export interface ReceivedCommand {
  at: number;
  request: CameraRequest;
  /** For preset commands: the preset number as the camera's menu counts it. */
  preset?: number;
  /** Who sent it: "udp:127.0.0.1:40000", "tcp:…", "serial". */
  peer: string;
  hex: string;
}

export type GarbageMode = 'off' | 'prefix' | 'replace';

interface SimEvents {
  command: [ReceivedCommand];
}

interface SonyPeer {
  lastSeq: number | undefined;
  lastError: Buffer | null;
}

export class ViscaSimulator extends EventEmitter<SimEvents> {
  readonly model: CameraModel;
  readonly received: ReceivedCommand[] = [];
  /** Binding for the driver's SerialLink when the simulator sits on a binding-mock port. */
  binding: BindingInterface | null = null;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly tcpClients = new Set<net.Socket>();
  private serial: SerialPortStream | null = null;
  private readonly sonyPeers = new Map<string, SonyPeer>();
  private silent = false;
  private splitWrites = false;
  private mergeWrites = false;
  private serialDev: SerialDevice | null = null;
  private garbage: GarbageMode = 'off';
  private dropRequests = 0;
  private dropReplies = 0;
  private sequenceErrors = 0;
  private addr: { host: string; port: number } | null = null;
  /** Writes to the driver's end of the binding-mock port, while it is open. */
  private mockEmit: ((b: Buffer) => void) | null = null;

  constructor(readonly o: ViscaSimulatorOptions) {
    super();
    this.model = new CameraModel({
      address: o.address ?? o.chainPosition,
      model: o.profile,
      motionMs: o.motionMs,
      chainPosition: o.chainPosition,
      chainLength: o.chainLength,
    });
  }

  // ---- the API tests and other modules use ----

  get position(): Position {
    return this.model.position;
  }
  /** Last recalled preset as the camera's menu numbers it, or null. */
  get lastPreset(): number | null {
    const b = this.model.lastPresetByte;
    return b === null ? null : this.model.camera.presetOfByte(b);
  }
  /** Preset numbers recalled so far, in order. */
  presetRecalls(): number[] {
    return this.received.filter((r) => r.request.kind === 'preset' && r.request.op === 'recall').map((r) => r.preset!);
  }
  /** Silent: the camera ignores everything and sends nothing (not even pending Completions). */
  setSilent(silent: boolean): void {
    this.silent = silent;
  }
  /** 'prefix': junk bytes before every reply; 'replace': junk instead of every reply. */
  setGarbage(mode: GarbageMode): void {
    this.garbage = mode;
  }
  /** Byte streams (TCP, serial): write replies one byte at a time. */
  setSplitWrites(split: boolean): void {
    this.splitWrites = split;
  }
  /** Byte streams (TCP, serial): hold replies 20 ms and write those of that window in one piece (ACK + Completion together). */
  setMergeWrites(merge: boolean): void {
    this.mergeWrites = merge;
  }
  /** Serial on binding-mock: the adapter is pulled (the open port fails, reopening fails until `plugIn`). */
  unplug(): void {
    this.serialDev?.unplug();
  }
  plugIn(): void {
    this.serialDev?.plugIn();
  }
  setMotionMs(ms: number): void {
    this.model.motionMs = ms;
  }
  /** Ignore the next `n` messages entirely, as if they were lost on the way. */
  dropNextRequests(n: number): void {
    this.dropRequests = n;
  }
  /** Run the next `n` messages but lose their replies (Sony: the resend then gets "abnormal sequence number"). */
  dropNextReplies(n: number): void {
    this.dropReplies = n;
  }
  /** Sony: answer the next `n` messages with "abnormal sequence number" without running them. */
  failNextWithSequenceError(n: number): void {
    this.sequenceErrors = n;
  }
  /** Send `z0 38 FF` (network change) to every connected controller. */
  sendNetworkChange(): void {
    this.broadcastRaw(cameraReply.networkChange(this.model.address));
  }

  /** Where the driver should connect: {host, port} or {path}. */
  get endpoint(): Record<string, unknown> {
    if (this.o.framing === 'serial') return { path: this.o.path };
    return { host: this.addr?.host, port: this.addr?.port };
  }

  async start(): Promise<this> {
    const host = this.o.host ?? '127.0.0.1';
    switch (this.o.framing) {
      case 'sony-udp':
      case 'raw-udp':
        await this.startUdp(host);
        break;
      case 'raw-tcp':
        await this.startTcp(host);
        break;
      case 'serial':
        await this.startSerial();
        break;
    }
    return this;
  }

  async stop(): Promise<void> {
    this.model.dispose();
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    for (const c of this.tcpClients) c.destroy();
    const tcp = this.tcp;
    this.tcp = null;
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
    const s = this.serial;
    this.serial = null;
    if (s?.isOpen) await new Promise<void>((r) => s.close(() => r()));
    this.binding = null;
    this.serialDev = null;
    this.mockEmit = null;
  }

  // ---- transports ----

  private async startUdp(host: string): Promise<void> {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      const peer = `udp:${rinfo.address}:${rinfo.port}`;
      const send = (b: Buffer) => {
        if (this.udp) s.send(b, this.o.replyPort ?? rinfo.port, rinfo.address);
      };
      if (this.o.framing === 'sony-udp') this.onSonyDatagram(msg, peer, send);
      else {
        // Raw UDP: one datagram, any number of packets.
        for (const p of new CameraStreamDecoder().push(msg)) this.onPacket(p, peer, (r) => this.sendRaw(r, send));
      }
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(this.o.port ?? 0, host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    this.udp = s;
    this.addr = { host, port: s.address().port };
  }

  private async startTcp(host: string): Promise<void> {
    const server = net.createServer((c) => {
      this.tcpClients.add(c);
      const dec = new CameraStreamDecoder();
      const peer = `tcp:${c.remoteAddress}:${c.remotePort}`;
      const send = this.streamWriter((b) => {
        if (!c.destroyed) c.write(b);
      });
      c.setNoDelay(true);
      c.on('data', (chunk) => {
        for (const p of dec.push(chunk)) this.onPacket(p, peer, (r) => this.sendRaw(r, send));
      });
      c.on('error', () => undefined);
      c.on('close', () => this.tcpClients.delete(c));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.tcp = server;
    const a = server.address() as net.AddressInfo;
    this.addr = { host, port: a.port };
  }

  private async startSerial(): Promise<void> {
    const path = this.o.path;
    if (!path) throw new Error('serial simulator needs a path');
    const dec = new CameraStreamDecoder();
    if (this.o.realSerialPort) {
      // Commissioning: the simulator answers on a real port (e.g. a USB adapter and a null-modem cable).
      const { autoDetect } = await import('@serialport/bindings-cpp');
      const binding = autoDetect() as unknown as BindingInterface;
      const port = new SerialPortStream({ binding, path, baudRate: this.o.baudRate ?? 9600, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
      port.on('data', (chunk: Buffer) => {
        for (const p of dec.push(chunk)) this.onPacket(p, 'serial', (r) => this.sendRaw(r, (b) => port.write(b)));
      });
      this.serial = port;
      return;
    }
    // The driver opens the binding-mock port through `binding`; we answer on its peer.
    // A late answer goes to the port that asked (dropped once it closed), not to a reopened one.
    let peer: SerialPeer | null = null;
    this.serialDev = serialDevice(path, {
      onOpen: (opened) => {
        peer = opened;
        this.mockEmit = (b) => opened.send(b);
      },
      onData: (buffer) => {
        const asker = peer;
        const send = this.streamWriter((b) => asker?.send(b));
        for (const p of dec.push(buffer)) this.onPacket(p, 'serial', (r) => this.sendRaw(r, send));
      },
      onClose: () => dec.reset(),
    });
    this.binding = this.serialDev.binding;
  }

  /** Writes replies to a byte stream whole, split into single bytes, or merged over a 20 ms window. */
  private streamWriter(write: (b: Buffer) => void): (b: Buffer) => void {
    let held: Buffer[] = [];
    return (b) => {
      if (this.splitWrites) {
        for (const byte of b) write(Buffer.from([byte]));
        return;
      }
      if (!this.mergeWrites) return write(b);
      held.push(b);
      if (held.length > 1) return;
      setTimeout(() => {
        const all = Buffer.concat(held);
        held = [];
        write(all);
      }, 20);
    };
  }

  // ---- message handling ----

  private onSonyDatagram(msg: Buffer, peer: string, send: (b: Buffer) => void) {
    if (this.silent) return;
    const frame = readSonyFrame(msg);
    if (!frame) {
      // A bad length: "abnormal message", as a control command (02 00).
      return send(sonyFrame(TYPE.control, msg.length >= 8 ? msg.readUInt32BE(4) : 0, ERROR_MESSAGE));
    }
    const { type: payloadType, sequence, payload } = frame;
    let state = this.sonyPeers.get(peer);
    if (!state) {
      state = { lastSeq: undefined, lastError: null };
      this.sonyPeers.set(peer, state);
    }
    const sendSeq = (type: number, p: Buffer) => this.sendRaw(sonyFrame(type, sequence, p), send, true);
    if (payloadType === TYPE.control) {
      if (!payload.equals(RESET)) return sendSeq(TYPE.control, ERROR_MESSAGE);
      state.lastSeq = undefined;
      state.lastError = null;
      // RESET ACK is the control reply's only payload (02 01, payload 01).
      return sendSeq(TYPE.controlReply, RESET);
    }
    if (payloadType !== TYPE.command && payloadType !== TYPE.inquiry) return sendSeq(TYPE.control, ERROR_MESSAGE);
    if (this.dropRequests > 0) {
      this.dropRequests--;
      return;
    }
    if (this.sequenceErrors > 0) {
      this.sequenceErrors--;
      return sendSeq(TYPE.control, ERROR_SEQUENCE);
    }
    if (sequence === state.lastSeq) {
      // A resend of the last message: repeat a lost error, otherwise say it was already seen [PROTOCOLS §1.2].
      if (state.lastError) return sendSeq(TYPE.reply, state.lastError);
      return sendSeq(TYPE.control, ERROR_SEQUENCE);
    }
    state.lastSeq = sequence;
    state.lastError = null;
    const p = Buffer.from(payload);
    this.onPacket(p, peer, (reply) => {
      if ((reply[1] & 0xf0) === 0x60 && reply.length === 4) state.lastError = reply;
      sendSeq(TYPE.reply, reply);
    });
  }

  /** One VISCA packet from the controller. */
  private onPacket(p: Buffer, peer: string, send: (b: Buffer) => void) {
    if (this.silent) return;
    if (this.o.framing !== 'sony-udp' && this.dropRequests > 0) {
      this.dropRequests--;
      return;
    }
    const request = parseCameraRequest(p);
    const rec: ReceivedCommand = { at: Date.now(), request, peer, hex: hexBytes(p) };
    if (request.kind === 'preset') rec.preset = this.model.camera.presetOfByte(request.byte);
    this.received.push(rec);
    if (this.received.length > 10_000) this.received.splice(0, 5_000);
    this.emit('command', rec);
    this.model.handle(request, send);
  }

  /** Sends one reply, applying silence, lost replies and garbage injection. */
  private sendRaw(b: Buffer, send: (b: Buffer) => void, framed = false) {
    if (this.silent) return;
    if (this.dropReplies > 0) {
      this.dropReplies--;
      return;
    }
    if (this.garbage === 'off') return send(b);
    const junk = Buffer.from([0x12, 0x00, 0xff, 0x7e, 0x41]);
    if (this.garbage === 'replace') return send(junk);
    // Datagram framings get the junk as its own datagram; streams get it inline.
    if (framed || this.o.framing === 'raw-udp') {
      send(framed ? junk : Buffer.concat([junk, b]));
      if (framed) send(b);
      return;
    }
    send(Buffer.concat([junk, b]));
  }

  private broadcastRaw(b: Buffer): void {
    for (const c of this.tcpClients) c.write(b);
    if (this.serial) this.serial.write(b);
    this.mockEmit?.(b);
  }
}
