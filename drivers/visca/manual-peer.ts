// A Sony VISCA-over-IP camera written from the manual only, for regression
// tests of the driver (it shares no code with the driver or its simulator, so
// it cannot share their reading of the protocol). Sources:
// - Sony SRG-300H Technical Manual, "VISCA over IP" (Command List pp. 31–32):
//   payload types 01 00 command, 01 10 inquiry, 01 11 reply, 02 00 control
//   command, 02 01 control reply; control command payload 01 = RESET (the
//   sequence number in the header is ignored), 0F 01 = ERROR abnormality in
//   the sequence number, 0F 02 = ERROR abnormality in the message (type);
//   control reply payload 01 = acknowledge of RESET. The camera stores the
//   received sequence number in its reply. The delivery-confirmation table:
//   a retransmission (same sequence number) of a message the camera already
//   received is answered with ERROR 0F 01 (the command was performed; "if only
//   the Acknowledge message is lost, the completion message returns"); a
//   retransmission after a lost error message gets the error again.
// - The same manual's VISCA message tables (EVI-H100S command list p.29): ACK y0 4z FF,
//   Completion y0 5z FF, errors y0 6z ee FF (03 buffer full, 04 canceled,
//   05 no socket), Cancel 8x 2z FF, two command sockets.
// The ERRORs travel as control *commands* (02 00) from camera to controller:
// only the RESET acknowledge is a control reply (02 01).
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';

export type PeerReplyKind = 'ack' | 'completion' | 'reply' | 'error' | 'control-error' | 'reset-ack';

export interface PeerReceived {
  type: number;
  seq: number;
  hex: string;
  /** Whether the camera treated it as a retransmission of the message before. */
  retransmission: boolean;
}

export interface ManualPeerOptions {
  /** How long a preset recall, home or absolute move runs before its Completion. */
  motionMs?: number;
  /** Whether the camera sends a Completion for pan-tilt and zoom drive commands (some never do). */
  driveCompletion?: boolean;
  /** When the camera answers the error of an abnormal sequence number: 0x0200 per the manual. */
  errorPayloadType?: number;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

export class ManualSonyPeer extends EventEmitter {
  readonly received: PeerReceived[] = [];
  /** Preset numbers (wire byte) in the order the camera performed recalls. */
  readonly recalls: number[] = [];
  /** Drives performed, e.g. "01 03" (left), "03 03" (stop). */
  readonly drives: string[] = [];
  readonly cancels: number[] = [];
  silent = false;
  /** Payload types this camera answers with ERROR 0F 02 "abnormal message" (a test switch). */
  readonly abnormalTypes = new Set<number>();
  private socket: dgram.Socket | null = null;
  private readonly sockets = new Map<number, { seq: number; timer: NodeJS.Timeout | null; peer: dgram.RemoteInfo }>();
  private last: { seq: number; reply: Buffer | null; wasError: boolean; bytes: string } | null = null;
  private readonly lose: PeerReplyKind[] = [];
  private readonly delays = new Map<PeerReplyKind, number>();
  private loseRequests = 0;
  /** Where the controller's last message came from (raw datagrams go there). */
  private controller: dgram.RemoteInfo | null = null;
  private readonly o: Required<ManualPeerOptions>;
  lastPreset = 0x7f;

  constructor(o: ManualPeerOptions = {}) {
    super();
    this.o = { motionMs: 0, driveCompletion: true, errorPayloadType: 0x0200, ...o };
  }

  async start(): Promise<this> {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    this.socket = s;
    return this;
  }

  get endpoint(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.socket!.address().port };
  }

  get busySockets(): number {
    return this.sockets.size;
  }

  /** The next reply of this kind is lost on the network. */
  loseNext(kind: PeerReplyKind, times = 1): void {
    for (let i = 0; i < times; i++) this.lose.push(kind);
  }
  /** Replies of this kind leave the camera `ms` late (once). */
  delayNext(kind: PeerReplyKind, ms: number): void {
    this.delays.set(kind, ms);
  }
  /** The next n messages are lost on the way to the camera. */
  loseNextRequests(n: number): void {
    this.loseRequests += n;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets.values()) if (s.timer) clearTimeout(s.timer);
    this.sockets.clear();
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** A test switch: sends these bytes as one datagram to the controller, as a faulty camera or a stray sender would. */
  sendRaw(bytes: Buffer): void {
    if (this.socket && this.controller) this.socket.send(bytes, this.controller.port, this.controller.address);
  }

  private onMessage(msg: Buffer, peer: dgram.RemoteInfo): void {
    this.controller = peer;
    if (msg.length < 9) return;
    if (this.silent) {
      // A hung camera: it receives, and answers nothing.
      this.received.push({ type: msg.readUInt16BE(0), seq: msg.readUInt32BE(4), hex: hex(msg), retransmission: false });
      return;
    }
    if (this.loseRequests > 0) {
      this.loseRequests--;
      return;
    }
    const type = msg.readUInt16BE(0);
    const length = msg.readUInt16BE(2);
    const seq = msg.readUInt32BE(4);
    const payload = msg.subarray(8, 8 + length);
    const bytes = hex(msg);
    if (type === 0x0200 && payload.length === 1 && payload[0] === 0x01) {
      // RESET: the header's sequence number is ignored; the acknowledge is a control reply.
      this.received.push({ type, seq, hex: bytes, retransmission: false });
      this.last = null;
      this.send('reset-ack', 0x0201, seq, Buffer.from([0x01]), peer);
      return;
    }
    const retransmission = this.last !== null && this.last.seq === seq && this.last.bytes === bytes;
    this.received.push({ type, seq, hex: bytes, retransmission });
    if (retransmission && !this.last!.wasError) {
      // Delivery confirmation: the message was received before, so it is not performed again.
      this.send('control-error', this.o.errorPayloadType, seq, Buffer.from([0x0f, 0x01]), peer);
      return;
    }
    if ((type !== 0x0100 && type !== 0x0110) || this.abnormalTypes.has(type)) {
      this.send('control-error', this.o.errorPayloadType, seq, Buffer.from([0x0f, 0x02]), peer);
      return;
    }
    this.last = { seq, reply: null, wasError: false, bytes };
    if (type === 0x0110) this.inquiry(payload, seq, peer);
    else this.command(payload, seq, peer);
  }

  private inquiry(p: Buffer, seq: number, peer: dgram.RemoteInfo) {
    const key = hex(p.subarray(1, p.length - 1));
    const data: Record<string, number[]> = {
      '09 04 00': [0x02], // power on
      '09 04 3F': [this.lastPreset],
      '09 06 12': [0, 0, 0, 0, 0, 0, 0, 0],
      '09 04 47': [0, 0, 0, 0],
    };
    const d = data[key];
    if (!d) return this.viscaError(0, 0x02, seq, peer);
    this.send('reply', 0x0111, seq, Buffer.from([0x90, 0x50, ...d, 0xff]), peer);
  }

  private command(p: Buffer, seq: number, peer: dgram.RemoteInfo) {
    // Cancel 8x 2z FF.
    if (p.length === 3 && (p[1] & 0xf0) === 0x20) {
      const z = p[1] & 0x0f;
      this.cancels.push(z);
      const running = this.sockets.get(z);
      if (!running) return this.viscaError(z, 0x05, seq, peer);
      if (running.timer) clearTimeout(running.timer);
      this.sockets.delete(z);
      // The canceled command's socket answers "command canceled"; no Completion follows.
      return this.viscaError(z, 0x04, running.seq, peer);
    }
    const body = hex(p.subarray(1, p.length - 1));
    let motionMs: number | null = 0;
    if (body.startsWith('01 04 3F 02')) {
      this.recalls.push(p[5]);
      this.lastPreset = p[5];
      motionMs = this.o.motionMs;
    } else if (body.startsWith('01 06 01')) {
      const dir = hex(p.subarray(6, 8));
      this.drives.push(dir);
      motionMs = this.o.driveCompletion ? 0 : null;
    } else if (body.startsWith('01 04 07')) {
      motionMs = this.o.driveCompletion ? 0 : null;
    } else if (body === '01 06 04' || body.startsWith('01 06 02') || body.startsWith('01 04 47')) {
      motionMs = this.o.motionMs;
    } else if (!body.startsWith('01 04 3F') && !body.startsWith('01 04 00')) {
      return this.viscaError(0, 0x02, seq, peer);
    }
    const z = [1, 2].find((n) => !this.sockets.has(n));
    if (z === undefined) return this.viscaError(0, 0x03, seq, peer);
    this.send('ack', 0x0111, seq, Buffer.from([0x90, 0x40 | z, 0xff]), peer);
    if (motionMs === null) return; // this camera sends no Completion for drives (and holds no socket)
    const entry = { seq, timer: null as NodeJS.Timeout | null, peer };
    this.sockets.set(z, entry);
    const complete = () => {
      if (this.sockets.get(z) !== entry) return;
      this.sockets.delete(z);
      this.send('completion', 0x0111, seq, Buffer.from([0x90, 0x50 | z, 0xff]), peer);
    };
    if (motionMs === 0) complete();
    else entry.timer = setTimeout(complete, motionMs);
  }

  private viscaError(z: number, code: number, seq: number, peer: dgram.RemoteInfo): void {
    if (this.last && this.last.seq === seq) this.last.wasError = true;
    this.send('error', 0x0111, seq, Buffer.from([0x90, 0x60 | z, code, 0xff]), peer);
  }

  private send(kind: PeerReplyKind, type: number, seq: number, payload: Buffer, peer: dgram.RemoteInfo): void {
    if (this.lose[0] === kind) {
      this.lose.shift();
      this.emit('lost', kind);
      return;
    }
    const out = Buffer.alloc(8 + payload.length);
    out.writeUInt16BE(type, 0);
    out.writeUInt16BE(payload.length, 2);
    out.writeUInt32BE(seq, 4);
    payload.copy(out, 8);
    const delay = this.delays.get(kind);
    this.delays.delete(kind);
    const go = () => {
      if (this.silent || !this.socket) return;
      this.socket.send(out, peer.port, peer.address);
      this.emit('sent', kind, hex(out));
    };
    if (delay) setTimeout(go, delay);
    else go();
  }
}
