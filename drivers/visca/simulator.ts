// A virtual VISCA camera on real sockets, for tests, the demo and
// commissioning: Sony VISCA over IP (UDP, header + sequence numbers), raw
// VISCA over TCP or UDP, or a serial port (binding-mock, or a real port).
// Packets are read and answered by sim-codec.ts, written from the Sony
// command list; nothing here comes from the driver's protocol code.
import dgram from 'node:dgram';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '../../src/transport/serial.js';
import { type SerialDevice, type SerialPeer, serialDevice } from '../../src/transport/serial-mock.js';
import { CameraModel, type Position } from './camera-model.js';
import {
  CameraStreamDecoder,
  cameraReply,
  eachDatagramPacket,
  type Framing,
  isSonyFrame,
  readCameraRequest,
  SONY_ERROR_MESSAGE as ERROR_MESSAGE,
  SONY_ERROR_SEQUENCE as ERROR_SEQUENCE,
  SONY_RESET as RESET,
  SONY_TYPE as TYPE,
  sonyFrame,
  sonySequence,
  writeSonyFrame,
} from './sim-codec.js';
import type { SimulatedModel, SimulatedModelName } from './sim-models.js';
import { type ReceivedCommand, ReceivedLog } from './sim-received-log.js';

export type { ReceivedCommand } from './sim-received-log.js';

/** What setGarbage sends before or instead of a reply. */
const JUNK = Buffer.from([0x12, 0x00, 0xff, 0x7e, 0x41]);

/**
 * The socket's name lookup: a reply goes to the IP address it came from, so an IP literal is
 * used as it is, at once (dns.lookup answers a literal on the next tick: one more task and the
 * datagram leaves a tick later, for every reply); a name (the listen host may be one) goes
 * through dns.lookup. dgram passes the family (4 or 6) as `options`.
 */
function lookupLiteral(
  address: string,
  options: dns.LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const literal = net.isIP(address);
  if (literal !== 0) callback(null, address, literal);
  else dns.lookup(address, options, callback);
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

export type GarbageMode = 'off' | 'prefix' | 'replace';

interface SimEvents {
  command: [ReceivedCommand];
}

/** A controller on UDP, kept per address and port: its name, how to answer it, and (Sony) its sequence state. */
interface UdpPeer {
  address: string;
  /** The address is an IP literal: a send to it is handed to the socket within send() (lookupLiteral). */
  literal: boolean;
  name: string;
  /** The next controller on the same port (another address), if any. */
  samePort: UdpPeer | null;
  /** Sends one datagram to the controller. */
  send: (b: Buffer) => void;
  /** Raw VISCA: sends one reply through sendRaw. */
  reply: (b: Buffer) => void;
  lastSeq: number | undefined;
  lastError: Buffer | null;
}

export class ViscaSimulator extends EventEmitter<SimEvents> {
  readonly model: CameraModel;
  private readonly log = new ReceivedLog();
  /** Binding for the driver's SerialLink when the simulator sits on a binding-mock port. */
  binding: BindingInterface | null = null;
  private udp: dgram.Socket | null = null;
  private tcp: net.Server | null = null;
  private readonly tcpClients = new Set<net.Socket>();
  private serial: SerialPortStream | null = null;
  /** Sony reply frames by payload length, reused while no send holds them (sendSony). */
  private readonly frames: Array<Buffer | undefined> = [];
  /** UDP controllers by port (a number: no string to hash per datagram), then address. */
  private readonly udpPeers = new Map<number, UdpPeer>();
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
  /**
   * Every message the camera decoded, oldest first (the last 10,000 at most): current when read,
   * so read it again rather than keep the array. Tests may splice it.
   */
  get received(): ReceivedCommand[] {
    return this.log.list;
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
    const s = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: lookupLiteral });
    s.on('message', (msg, rinfo) => {
      const peer = this.udpPeer(s, rinfo.address, rinfo.port);
      if (this.o.framing === 'sony-udp') this.onSonyDatagram(msg, peer);
      else {
        // Raw UDP: one datagram, any number of packets.
        eachDatagramPacket(msg, (bytes, start, end) => this.onPacket(bytes, start, end, peer.name, peer.reply));
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

  /** The controller at address:port, made at its first datagram. */
  private udpPeer(s: dgram.Socket, address: string, port: number): UdpPeer {
    const first = this.udpPeers.get(port);
    for (let p: UdpPeer | null | undefined = first; p; p = p.samePort) if (p.address === address) return p;
    const send = (b: Buffer) => {
      if (this.udp) s.send(b, this.o.replyPort ?? port, address);
    };
    const peer: UdpPeer = {
      address,
      literal: net.isIP(address) !== 0,
      name: `udp:${address}:${port}`,
      samePort: first ?? null,
      send,
      reply: (r) => this.sendRaw(r, send),
      lastSeq: undefined,
      lastError: null,
    };
    this.udpPeers.set(port, peer);
    return peer;
  }

  private async startTcp(host: string): Promise<void> {
    const server = net.createServer((c) => {
      this.tcpClients.add(c);
      const dec = new CameraStreamDecoder();
      const peer = `tcp:${c.remoteAddress}:${c.remotePort}`;
      const send = this.streamWriter((b) => {
        if (!c.destroyed) c.write(b);
      });
      const reply = (r: Buffer) => this.sendRaw(r, send);
      const onPacket = (p: Buffer) => this.onPacket(p, 0, p.length, peer, reply);
      c.setNoDelay(true);
      c.on('data', (chunk) => dec.each(chunk, onPacket));
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
      const write = (b: Buffer) => port.write(b);
      const reply = (r: Buffer) => this.sendRaw(r, write);
      const onPacket = (p: Buffer) => this.onPacket(p, 0, p.length, 'serial', reply);
      port.on('data', (chunk: Buffer) => dec.each(chunk, onPacket));
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
        const reply = (r: Buffer) => this.sendRaw(r, send);
        dec.each(buffer, (p) => this.onPacket(p, 0, p.length, 'serial', reply));
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

  /**
   * One datagram on port 52381, as the Sony VISCA-over-IP camera reads it (Sony SRG-300H technical
   * manual, "VISCA over IP", pp. 31–32): an 8-byte header — payload type (bytes
   * 0–1), payload length (2–3), sequence number (4–7) — then the payload. Errors of the header go
   * back as a control command (02 00): 0F 01 "abnormal sequence number", 0F 02 "abnormal message";
   * RESET (control command, payload 01) is answered by a control reply (02 01) with payload 01.
   * Read in place: nothing here is copied out of the datagram (what the manual specifies is
   * unchanged; drivers/visca/conformance.ts replays the rows against this code).
   */
  private onSonyDatagram(msg: Buffer, state: UdpPeer) {
    if (this.silent) return;
    const send = state.send;
    if (!isSonyFrame(msg)) {
      // A bad length: "abnormal message", as a control command (02 00).
      return send(sonyFrame(TYPE.control, msg.length >= 8 ? sonySequence(msg) : 0, ERROR_MESSAGE));
    }
    // The header and the payload (bytes 8 to the end) are read in the datagram itself.
    const payloadType = (msg[0] << 8) | msg[1];
    const sequence = sonySequence(msg);
    if (payloadType === TYPE.control) {
      if (msg.length !== 9 || msg[8] !== RESET[0]) return this.sendSony(TYPE.control, sequence, ERROR_MESSAGE, state);
      state.lastSeq = undefined;
      state.lastError = null;
      // RESET ACK is the control reply's only payload (02 01, payload 01).
      return this.sendSony(TYPE.controlReply, sequence, RESET, state);
    }
    if (payloadType !== TYPE.command && payloadType !== TYPE.inquiry) {
      return this.sendSony(TYPE.control, sequence, ERROR_MESSAGE, state);
    }
    if (this.dropRequests > 0) {
      this.dropRequests--;
      return;
    }
    if (this.sequenceErrors > 0) {
      this.sequenceErrors--;
      return this.sendSony(TYPE.control, sequence, ERROR_SEQUENCE, state);
    }
    if (sequence === state.lastSeq) {
      // A resend of the last message: repeat a lost error, otherwise say it was already seen [PROTOCOLS §1.2].
      if (state.lastError) return this.sendSony(TYPE.reply, sequence, state.lastError, state);
      return this.sendSony(TYPE.control, sequence, ERROR_SEQUENCE, state);
    }
    state.lastSeq = sequence;
    state.lastError = null;
    // One closure per message: its replies (ACK now, Completion maybe later) carry its sequence number.
    this.onPacket(msg, 8, msg.length, state.name, (reply) => {
      if ((reply[1] & 0xf0) === 0x60 && reply.length === 4) state.lastError = reply;
      this.sendSony(TYPE.reply, sequence, reply, state);
    });
  }

  /** A Sony frame of the given type and sequence number around `payload`, through sendRaw. */
  private sendSony(type: number, sequence: number, payload: Uint8Array, peer: UdpPeer): void {
    const length = payload.length;
    const frame = writeSonyFrame(this.frames[length] ?? Buffer.alloc(8 + length), type, sequence, payload);
    this.frames[length] = undefined;
    this.sendRaw(frame, peer.send, true);
    // dgram gives the datagram to the kernel within send() when the socket takes it at once (a
    // bound socket, an IP literal: no lookup to wait for). When it cannot, libuv queues the send
    // and reads the buffer later (getSendQueueCount() > 0): the frame then stays with that send.
    const udp = this.udp;
    if (peer.literal && udp !== null && udp.getSendQueueCount() === 0) this.frames[length] = frame;
  }

  /** One VISCA packet from the controller: bytes[start, end), read in place. */
  private onPacket(bytes: Uint8Array, start: number, end: number, peer: string, send: (b: Buffer) => void) {
    if (this.silent) return;
    if (this.o.framing !== 'sony-udp' && this.dropRequests > 0) {
      this.dropRequests--;
      return;
    }
    const request = readCameraRequest(bytes, start, end);
    const preset = request.kind === 'preset' ? this.model.camera.presetOfByte(request.byte) : undefined;
    // The log keeps the bytes; a record is built now only for a listener (sim-received-log.ts).
    if (this.listenerCount('command') > 0) {
      this.emit('command', this.log.push(request, bytes, start, end, Date.now(), peer, preset));
    } else this.log.add(request, bytes, start, end, Date.now(), peer, preset);
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
    if (this.garbage === 'replace') return send(JUNK);
    // Datagram framings get the junk as its own datagram; streams get it inline.
    if (framed || this.o.framing === 'raw-udp') {
      send(framed ? JUNK : Buffer.concat([JUNK, b]));
      if (framed) send(b);
      return;
    }
    send(Buffer.concat([JUNK, b]));
  }

  private broadcastRaw(b: Buffer): void {
    for (const c of this.tcpClients) c.write(b);
    if (this.serial) this.serial.write(b);
    this.mockEmit?.(b);
  }
}
