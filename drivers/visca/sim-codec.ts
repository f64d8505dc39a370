// The camera side of VISCA, for the simulator only: how a camera reads the
// controller's packets and builds its replies. Written from the Sony VISCA
// command lists (BRC-X400/X401 "Command List", SRG-300H technical manual:
// "VISCA Communication Specifications", "VISCA Command List", "Inquiry
// Command List"; the EVI-H100S command list p.29 and the FCB-EV7500 technical manual p.30), never from the
// driver's protocol code: the simulator is a witness of the manual.
// Packets are read where they lie (a datagram, a range of a buffer): one camera answers
// thousands of messages a second in the benchmarks, and a copy, an array or a string per
// message is garbage the camera's process must collect (docs/performance.md).

/** How the camera is reached. Same names as the driver's `framing` config key (docs/config-reference.md). */
export type Framing = 'sony-udp' | 'raw-udp' | 'raw-tcp' | 'serial';

/**
 * Packet size [X400 Command List "VISCA communication specifications": a packet
 * is a header byte, 1–14 bytes of message and the terminator FF].
 */
export const PACKET_MIN = 3;
export const PACKET_MAX = 16;
const TERMINATOR = 0xff;

/** Error codes in the camera's error messages `y0 6z ee FF` [X400 Command List "Error message"; PROTOCOLS §1.1]. */
export const ERROR_CODE = {
  messageLength: 0x01,
  syntax: 0x02,
  bufferFull: 0x03,
  canceled: 0x04,
  noSocket: 0x05,
  notExecutable: 0x41,
} as const;

export type PanTiltDirection = 'up' | 'down' | 'left' | 'right' | 'up-left' | 'up-right' | 'down-left' | 'down-right' | 'stop';

export type InquiryTopic = 'pan-tilt' | 'zoom' | 'power' | 'last-preset' | 'pan-tilt-status';

/** One packet from the controller, as the camera understands it. `address` is the header's receiver nibble (8 = broadcast). */
export type CameraRequest =
  | { kind: 'malformed'; address: number }
  | { kind: 'unknown'; address: number }
  | { kind: 'address-set'; address: number; next: number }
  | { kind: 'if-clear'; address: number }
  | { kind: 'cancel'; address: number; socket: number }
  | { kind: 'inquiry'; address: number; what: InquiryTopic }
  | { kind: 'preset'; address: number; op: 'reset' | 'set' | 'recall'; byte: number }
  | { kind: 'pan-tilt-drive'; address: number; panSpeed: number; tiltSpeed: number; direction: PanTiltDirection }
  | { kind: 'absolute'; address: number; panSpeed: number; tiltSpeedByte: number; pan: number; tilt: number }
  | { kind: 'relative'; address: number; panSpeed: number; tiltSpeedByte: number; pan: number; tilt: number }
  | { kind: 'home'; address: number }
  | { kind: 'pan-tilt-reset'; address: number }
  | { kind: 'zoom'; address: number; op: 'stop' | 'tele' | 'wide'; speed?: number }
  | { kind: 'zoom-direct'; address: number; position: number }
  | { kind: 'power'; address: number; on: boolean };

/** Requests that take a socket: ACK, then Completion [X400 Command List "ACK/Completion message"]. */
export type SocketCommand = Extract<
  CameraRequest,
  { kind: 'preset' | 'pan-tilt-drive' | 'absolute' | 'relative' | 'home' | 'pan-tilt-reset' | 'zoom' | 'zoom-direct' | 'power' }
>;

const SOCKET_KINDS = new Set<CameraRequest['kind']>([
  'preset',
  'pan-tilt-drive',
  'absolute',
  'relative',
  'home',
  'pan-tilt-reset',
  'zoom',
  'zoom-direct',
  'power',
]);

export function isSocketCommand(req: CameraRequest): req is SocketCommand {
  return SOCKET_KINDS.has(req.kind);
}

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0').toUpperCase());

/** "AA BB FF": how received packets are logged and compared in tests. */
export function hexBytes(bytes: Uint8Array): string {
  return hexRange(bytes, 0, bytes.length);
}

/** hexBytes of bytes[start, end). */
export function hexRange(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += i === start ? HEX_BYTE[bytes[i]] : ` ${HEX_BYTE[bytes[i]]}`;
  return text;
}

/**
 * Four bytes 0p 0q 0r 0s (one nibble each) at `at` → a 16-bit two's complement value
 * [X400 Command List, Pan-tiltDrive AbsolutePosition: pan DE00–2200, tilt FC00–1200].
 * Null when a byte's high nibble is not 0.
 */
function fromNibbles(bytes: Uint8Array, at: number, signed: boolean): number | null {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const b = bytes[i];
    if (b > 0x0f) return null;
    v = (v << 4) | b;
  }
  return signed && v >= 0x8000 ? v - 0x10000 : v;
}

/** A value as 4 nibble bytes, 16-bit two's complement (inverse of fromNibbles). */
export function toNibbles(value: number): number[] {
  const v = value & 0xffff;
  return [(v >> 12) & 0x0f, (v >> 8) & 0x0f, (v >> 4) & 0x0f, v & 0x0f];
}

/** Two bytes as one number, for the lookups below. */
const pair = (a: number, b: number) => (a << 8) | b;

/** (dp, dt) of Pan-tiltDrive [X400 Command List, Pan-tiltDrive: 01 left/up, 02 right/down, 03 stop]. */
const DIRECTIONS = new Map<number, PanTiltDirection>([
  [pair(3, 1), 'up'],
  [pair(3, 2), 'down'],
  [pair(1, 3), 'left'],
  [pair(2, 3), 'right'],
  [pair(1, 1), 'up-left'],
  [pair(2, 1), 'up-right'],
  [pair(1, 2), 'down-left'],
  [pair(2, 2), 'down-right'],
  [pair(3, 3), 'stop'],
]);

/** Inquiry packets `8x 09 cc ii FF` [X400 Inquiry Command List; PROTOCOLS §1.1]. */
const INQUIRIES = new Map<number, InquiryTopic>([
  [pair(0x06, 0x12), 'pan-tilt'], // PanTiltPosInq 8x 09 06 12 FF
  [pair(0x04, 0x47), 'zoom'], // CAM_ZoomPosInq 8x 09 04 47 FF
  [pair(0x04, 0x00), 'power'], // CAM_PowerInq 8x 09 04 00 FF
  [pair(0x04, 0x3f), 'last-preset'], // CAM_MemoryInq 8x 09 04 3F FF
  [pair(0x06, 0x10), 'pan-tilt-status'], // PanTiltStatusInq 8x 09 06 10 FF
]);

/** CAM_Memory `0n`: 0 reset, 1 set, 2 recall. */
const PRESET_OPS = ['reset', 'set', 'recall'] as const;

/** Reads one FF-terminated packet sent by the controller. */
export function parseCameraRequest(packet: Uint8Array): CameraRequest {
  return readCameraRequest(packet, 0, packet.length);
}

/**
 * parseCameraRequest of the packet at bytes[start, end), read where it lies (a datagram's
 * payload is not copied out first). Only bytes inside the range are read.
 */
export function readCameraRequest(p: Uint8Array, start: number, end: number): CameraRequest {
  const length = end - start;
  const address = length > 0 ? p[start] & 0x0f : 0;
  // Message length error: shorter than header + 1 byte + FF, longer than 16 bytes, or not terminated [X400 "Error message" 01].
  if (length < PACKET_MIN || length > PACKET_MAX || p[end - 1] !== TERMINATOR) return { kind: 'malformed', address };
  // Header 1sss 0rrr: sender 0 (the controller), receiver 1–7 or 8 (broadcast) [X400 "VISCA communication specifications"].
  if ((p[start] & 0xf0) !== 0x80 || address === 0) return { kind: 'unknown', address };
  // The message between the header and FF: `n` bytes from `b` (n ≥ 1 here).
  const b = start + 1;
  const n = length - 2;
  const b0 = p[b];

  // Device setting commands [X400 "VISCA Device Setting Command": AddressSet 88 30 01 FF, IF_Clear 8x 01 00 01 FF].
  if (address === 8 && n === 2 && b0 === 0x30 && p[b + 1] >= 1 && p[b + 1] <= 7) {
    return { kind: 'address-set', address, next: p[b + 1] };
  }
  if (n === 3 && b0 === 0x01 && p[b + 1] === 0x00 && p[b + 2] === 0x01) return { kind: 'if-clear', address };
  // Cancel 8x 2z FF [X400 "Command execution cancel"].
  if (n === 1 && (b0 & 0xf0) === 0x20) return { kind: 'cancel', address, socket: b0 & 0x0f };
  // Inquiries 8x 09 … FF [X400 Inquiry Command List].
  if (n === 3 && b0 === 0x09) {
    const what = INQUIRIES.get(pair(p[b + 1], p[b + 2]));
    return what ? { kind: 'inquiry', address, what } : { kind: 'unknown', address };
  }
  if (b0 !== 0x01 || n < 3) return { kind: 'unknown', address };
  const category = p[b + 1];
  const id = p[b + 2];
  // The arguments after category and id: `m` bytes from `a`.
  const a = b + 3;
  const m = n - 3;

  if (category === 0x04) {
    // CAM_Power 8x 01 04 00 02/03 FF.
    if (id === 0x00 && m === 1 && (p[a] === 0x02 || p[a] === 0x03)) {
      return { kind: 'power', address, on: p[a] === 0x02 };
    }
    // CAM_Zoom 8x 01 04 07 00 stop / 02 tele / 03 wide / 2p tele(var) / 3p wide(var), p = 0–7.
    if (id === 0x07 && m === 1) {
      const z = p[a];
      if (z === 0x00) return { kind: 'zoom', address, op: 'stop' };
      if (z === 0x02) return { kind: 'zoom', address, op: 'tele' };
      if (z === 0x03) return { kind: 'zoom', address, op: 'wide' };
      if ((z & 0xf0) === 0x20 && (z & 0x0f) <= 7) return { kind: 'zoom', address, op: 'tele', speed: z & 0x0f };
      if ((z & 0xf0) === 0x30 && (z & 0x0f) <= 7) return { kind: 'zoom', address, op: 'wide', speed: z & 0x0f };
      return { kind: 'unknown', address };
    }
    // CAM_Zoom Direct 8x 01 04 47 0p 0q 0r 0s FF.
    if (id === 0x47 && m === 4) {
      const position = fromNibbles(p, a, false);
      return position === null ? { kind: 'unknown', address } : { kind: 'zoom-direct', address, position };
    }
    // CAM_Memory 8x 01 04 3F 0n pp FF: n 0 reset, 1 set, 2 recall.
    if (id === 0x3f && m === 2 && p[a] <= 2) {
      return { kind: 'preset', address, op: PRESET_OPS[p[a]], byte: p[a + 1] };
    }
    return { kind: 'unknown', address };
  }

  if (category === 0x06) {
    // Pan-tiltDrive 8x 01 06 01 vv ww dp dt FF.
    if (id === 0x01 && m === 4) {
      const direction = DIRECTIONS.get(pair(p[a + 2], p[a + 3]));
      if (!direction) return { kind: 'unknown', address };
      return { kind: 'pan-tilt-drive', address, panSpeed: p[a], tiltSpeed: p[a + 1], direction };
    }
    // AbsolutePosition 8x 01 06 02 vv ww 0p 0p 0p 0p 0t 0t 0t 0t FF, RelativePosition 8x 01 06 03 (same layout).
    // Sony documents ww = 00; PTZOptics puts the tilt speed there (PROTOCOLS §1.1), so it is kept as read.
    if ((id === 0x02 || id === 0x03) && m === 10) {
      const pan = fromNibbles(p, a + 2, true);
      const tilt = fromNibbles(p, a + 6, true);
      if (pan === null || tilt === null) return { kind: 'unknown', address };
      const kind = id === 0x02 ? 'absolute' : 'relative';
      return { kind, address, panSpeed: p[a], tiltSpeedByte: p[a + 1], pan, tilt };
    }
    // Home 8x 01 06 04 FF, Reset 8x 01 06 05 FF.
    if (id === 0x04 && m === 0) return { kind: 'home', address };
    if (id === 0x05 && m === 0) return { kind: 'pan-tilt-reset', address };
  }
  return { kind: 'unknown', address };
}

/** Reply header y0: camera address + 8 in the high nibble [X400 "VISCA communication specifications"]. */
const replyHeader = (address: number) => ((address + 8) << 4) & 0xff;

/** A reply of the given bytes (a pooled buffer, written in place: no array literal per reply). */
function bytes3(a: number, b: number, c: number): Buffer {
  const out = Buffer.allocUnsafe(3);
  out[0] = a;
  out[1] = b;
  out[2] = c;
  return out;
}

/**
 * ACK and Completion for each header byte and socket nibble, made once: they are sent for every
 * command, and a reply is only read after it is built (copied into a Sony frame, written to a
 * socket). A reply found changed is made again.
 */
const SOCKET_REPLIES: Array<Buffer | undefined> = [];

/** `y0 kz FF` (k = 4 ACK, 5 Completion) from SOCKET_REPLIES; other values as a fresh buffer. */
function socketReply(address: number, kind: 0x40 | 0x50, socket: number): Buffer {
  const header = replyHeader(address);
  const second = kind | socket;
  if (!(socket >= 0 && socket <= 0x0f && Number.isInteger(socket) && Number.isInteger(address))) {
    return bytes3(header, second, TERMINATOR);
  }
  const key = (header << 5) | (((kind >> 4) & 1) << 4) | socket;
  const cached = SOCKET_REPLIES[key];
  if (cached !== undefined && cached[0] === header && cached[1] === second && cached[2] === TERMINATOR) return cached;
  const reply = bytes3(header, second, TERMINATOR);
  SOCKET_REPLIES[key] = reply;
  return reply;
}

/** The camera's messages [X400 Command List "ACK/Completion message", "Error message"; PROTOCOLS §1.1 table]. */
export const cameraReply = {
  /** y0 4z FF: command accepted into socket z. */
  ack: (address: number, socket: number) => socketReply(address, 0x40, socket),
  /** y0 5z FF: command in socket z executed. */
  completion: (address: number, socket: number) => socketReply(address, 0x50, socket),
  /** y0 50 … FF: inquiry answer (and IF_Clear's reply with no data). */
  data: (address: number, data: number[]) => {
    const out = Buffer.allocUnsafe(data.length + 3);
    out[0] = replyHeader(address);
    out[1] = 0x50;
    for (let i = 0; i < data.length; i++) out[i + 2] = data[i];
    out[data.length + 2] = TERMINATOR;
    return out;
  },
  /** y0 6z ee FF. */
  error: (address: number, socket: number, code: number) => {
    const out = Buffer.allocUnsafe(4);
    out[0] = replyHeader(address);
    out[1] = 0x60 | socket;
    out[2] = code;
    out[3] = TERMINATOR;
    return out;
  },
  /** 88 30 0w FF: AddressSet passed on by the last camera, w = last address + 1 [X400 "Address Set"]. */
  addressSet: (next: number) => Buffer.from([0x88, 0x30, next, TERMINATOR]),
  /** 88 01 00 01 FF: the broadcast IF_Clear comes back unchanged [X400 "IF_Clear (broadcast)"]. */
  ifClearBroadcast: () => Buffer.from([0x88, 0x01, 0x00, 0x01, TERMINATOR]),
  /** z0 38 FF: network change [X400 "Network Change"]. */
  networkChange: (address: number) => bytes3(replyHeader(address), 0x38, TERMINATOR),
};

/**
 * Splits a byte stream (TCP, serial, a raw UDP datagram) into FF-terminated
 * packets [X400 "VISCA communication specifications": FF ends every packet].
 * A run of more than PACKET_MAX bytes without FF is passed on as it ends, so
 * the parser answers it with a message length error instead of buffering forever.
 */
export class CameraStreamDecoder {
  /** The bytes of the packet being read: at most PACKET_MAX + 1 are kept. */
  private readonly pending = Buffer.alloc(PACKET_MAX + 1);
  private length = 0;
  private overflow = false;

  push(chunk: Uint8Array): Buffer[] {
    const packets: Buffer[] = [];
    this.each(chunk, (p) => packets.push(p));
    return packets;
  }

  /** push() without the array: `onPacket` gets each packet (a buffer of its own) as its FF arrives. */
  each(chunk: Uint8Array, onPacket: (packet: Buffer) => void): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (!this.overflow) this.pending[this.length++] = byte;
      if (this.length > PACKET_MAX) this.overflow = true;
      if (byte !== TERMINATOR) continue;
      // Too long: keep the first PACKET_MAX + 1 bytes (header intact, no FF) so it reads as a length error.
      const packet = Buffer.allocUnsafe(this.length);
      for (let j = 0; j < this.length; j++) packet[j] = this.pending[j];
      this.length = 0;
      this.overflow = false;
      onPacket(packet);
    }
  }

  reset(): void {
    this.length = 0;
    this.overflow = false;
  }
}

/**
 * The packets of one datagram (raw VISCA over UDP), read where they lie: `onPacket` gets the
 * range of each. As CameraStreamDecoder on a fresh decoder: a run of more than PACKET_MAX
 * bytes without FF is passed on as its first PACKET_MAX + 1 bytes; bytes after the last FF are dropped.
 */
export function eachDatagramPacket(
  datagram: Uint8Array,
  onPacket: (bytes: Uint8Array, start: number, end: number) => void,
): void {
  let start = 0;
  for (let i = 0; i < datagram.length; i++) {
    if (datagram[i] !== TERMINATOR) continue;
    onPacket(datagram, start, Math.min(i + 1, start + PACKET_MAX + 1));
    start = i + 1;
  }
}

// The Sony VISCA-over-IP header as the camera sees it, written from the Sony
// SRG-300H / BRC-X400 technical manuals (VISCA over IP: payload types, the
// control command and control reply payloads), not from the
// driver's ip-header codec.
export const SONY_TYPE = {
  command: 0x0100,
  inquiry: 0x0110,
  reply: 0x0111,
  deviceSetting: 0x0120,
  /** Control command: RESET from the controller; the camera's ERRORs travel as this type too. */
  control: 0x0200,
  /** Control reply: only the ACK of RESET. */
  controlReply: 0x0201,
} as const;
/** RESET (control command payload) and its ACK (control reply payload). */
export const SONY_RESET = Buffer.from([0x01]);
/** ERROR "abnormal sequence number" (sent as a control command, 02 00). */
export const SONY_ERROR_SEQUENCE = Buffer.from([0x0f, 0x01]);
/** ERROR "abnormal message" (sent as a control command, 02 00). */
export const SONY_ERROR_MESSAGE = Buffer.from([0x0f, 0x02]);

/** Header (type, payload length, sequence number, big-endian) + payload, in one buffer. */
export function sonyFrame(type: number, sequence: number, payload: Uint8Array): Buffer {
  return writeSonyFrame(Buffer.allocUnsafe(8 + payload.length), type, sequence, payload);
}

/** sonyFrame written into `frame`, which has 8 + payload.length bytes; returns it. */
export function writeSonyFrame(frame: Buffer, type: number, sequence: number, payload: Uint8Array): Buffer {
  frame[0] = type >>> 8;
  frame[1] = type & 0xff;
  frame[2] = payload.length >>> 8;
  frame[3] = payload.length & 0xff;
  frame[4] = sequence >>> 24;
  frame[5] = (sequence >>> 16) & 0xff;
  frame[6] = (sequence >>> 8) & 0xff;
  frame[7] = sequence & 0xff;
  for (let i = 0; i < payload.length; i++) frame[8 + i] = payload[i];
  return frame;
}

/** The header's sequence number (bytes 4–7, unsigned); the datagram has at least 8 bytes. */
export const sonySequence = (msg: Buffer) => msg[4] * 0x1000000 + ((msg[5] << 16) | (msg[6] << 8) | msg[7]);

/** Whether the datagram is a header and the payload it announces: length 1–16, nothing more or less. */
export function isSonyFrame(msg: Buffer): boolean {
  if (msg.length < 9) return false;
  const length = (msg[2] << 8) | msg[3];
  return length >= 1 && length <= 16 && msg.length === 8 + length;
}
