// The camera side of VISCA, for the simulator only: how a camera reads the
// controller's packets and builds its replies. Written from the Sony VISCA
// command lists (BRC-X400/X401 "Command List", SRG-300H technical manual:
// "VISCA Communication Specifications", "VISCA Command List", "Inquiry
// Command List"; the EVI-H100S command list p.29 and the FCB-EV7500 technical manual p.30), never from the
// driver's protocol code: the simulator is a witness of the manual.

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

/** "AA BB FF": how received packets are logged and compared in tests. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}

/**
 * Four bytes 0p 0q 0r 0s (one nibble each) → a 16-bit two's complement value
 * [X400 Command List, Pan-tiltDrive AbsolutePosition: pan DE00–2200, tilt FC00–1200].
 * Null when a byte's high nibble is not 0.
 */
function fromNibbles(bytes: Uint8Array, signed: boolean): number | null {
  let v = 0;
  for (const b of bytes) {
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

/** (dp, dt) of Pan-tiltDrive [X400 Command List, Pan-tiltDrive: 01 left/up, 02 right/down, 03 stop]. */
const DIRECTIONS: Record<string, PanTiltDirection> = {
  '3,1': 'up',
  '3,2': 'down',
  '1,3': 'left',
  '2,3': 'right',
  '1,1': 'up-left',
  '2,1': 'up-right',
  '1,2': 'down-left',
  '2,2': 'down-right',
  '3,3': 'stop',
};

/** Inquiry packets `8x 09 cc ii FF` [X400 Inquiry Command List; PROTOCOLS §1.1]. */
const INQUIRIES: Record<string, InquiryTopic> = {
  '6,18': 'pan-tilt', // PanTiltPosInq 8x 09 06 12 FF
  '4,71': 'zoom', // CAM_ZoomPosInq 8x 09 04 47 FF
  '4,0': 'power', // CAM_PowerInq 8x 09 04 00 FF
  '4,63': 'last-preset', // CAM_MemoryInq 8x 09 04 3F FF
  '6,16': 'pan-tilt-status', // PanTiltStatusInq 8x 09 06 10 FF
};

/** Reads one FF-terminated packet sent by the controller. */
export function parseCameraRequest(packet: Uint8Array): CameraRequest {
  const p = packet;
  const address = p.length > 0 ? p[0] & 0x0f : 0;
  // Message length error: shorter than header + 1 byte + FF, longer than 16 bytes, or not terminated [X400 "Error message" 01].
  if (p.length < PACKET_MIN || p.length > PACKET_MAX || p[p.length - 1] !== TERMINATOR) return { kind: 'malformed', address };
  // Header 1sss 0rrr: sender 0 (the controller), receiver 1–7 or 8 (broadcast) [X400 "VISCA communication specifications"].
  if ((p[0] & 0xf0) !== 0x80 || address === 0) return { kind: 'unknown', address };
  const body = Array.from(p.subarray(1, p.length - 1));
  const unknown: CameraRequest = { kind: 'unknown', address };
  const is = (...bytes: number[]) => body.length === bytes.length && bytes.every((b, i) => body[i] === b);

  // Device setting commands [X400 "VISCA Device Setting Command": AddressSet 88 30 01 FF, IF_Clear 8x 01 00 01 FF].
  if (address === 8 && body.length === 2 && body[0] === 0x30 && body[1] >= 1 && body[1] <= 7) {
    return { kind: 'address-set', address, next: body[1] };
  }
  if (is(0x01, 0x00, 0x01)) return { kind: 'if-clear', address };
  // Cancel 8x 2z FF [X400 "Command execution cancel"].
  if (body.length === 1 && (body[0] & 0xf0) === 0x20) return { kind: 'cancel', address, socket: body[0] & 0x0f };
  // Inquiries 8x 09 … FF [X400 Inquiry Command List].
  if (body.length === 3 && body[0] === 0x09) {
    const what = INQUIRIES[`${body[1]},${body[2]}`];
    return what ? { kind: 'inquiry', address, what } : unknown;
  }
  if (body[0] !== 0x01 || body.length < 3) return unknown;
  const [category, id, ...args] = body.slice(1);

  if (category === 0x04) {
    // CAM_Power 8x 01 04 00 02/03 FF.
    if (id === 0x00 && args.length === 1 && (args[0] === 0x02 || args[0] === 0x03)) {
      return { kind: 'power', address, on: args[0] === 0x02 };
    }
    // CAM_Zoom 8x 01 04 07 00 stop / 02 tele / 03 wide / 2p tele(var) / 3p wide(var), p = 0–7.
    if (id === 0x07 && args.length === 1) {
      const a = args[0];
      if (a === 0x00) return { kind: 'zoom', address, op: 'stop' };
      if (a === 0x02) return { kind: 'zoom', address, op: 'tele' };
      if (a === 0x03) return { kind: 'zoom', address, op: 'wide' };
      if ((a & 0xf0) === 0x20 && (a & 0x0f) <= 7) return { kind: 'zoom', address, op: 'tele', speed: a & 0x0f };
      if ((a & 0xf0) === 0x30 && (a & 0x0f) <= 7) return { kind: 'zoom', address, op: 'wide', speed: a & 0x0f };
      return unknown;
    }
    // CAM_Zoom Direct 8x 01 04 47 0p 0q 0r 0s FF.
    if (id === 0x47 && args.length === 4) {
      const position = fromNibbles(Uint8Array.from(args), false);
      return position === null ? unknown : { kind: 'zoom-direct', address, position };
    }
    // CAM_Memory 8x 01 04 3F 0n pp FF: n 0 reset, 1 set, 2 recall.
    if (id === 0x3f && args.length === 2 && args[0] <= 2) {
      const op = (['reset', 'set', 'recall'] as const)[args[0]];
      return { kind: 'preset', address, op, byte: args[1] };
    }
    return unknown;
  }

  if (category === 0x06) {
    // Pan-tiltDrive 8x 01 06 01 vv ww dp dt FF.
    if (id === 0x01 && args.length === 4) {
      const direction = DIRECTIONS[`${args[2]},${args[3]}`];
      if (!direction) return unknown;
      return { kind: 'pan-tilt-drive', address, panSpeed: args[0], tiltSpeed: args[1], direction };
    }
    // AbsolutePosition 8x 01 06 02 vv ww 0p 0p 0p 0p 0t 0t 0t 0t FF, RelativePosition 8x 01 06 03 (same layout).
    // Sony documents ww = 00; PTZOptics puts the tilt speed there (PROTOCOLS §1.1), so it is kept as read.
    if ((id === 0x02 || id === 0x03) && args.length === 10) {
      const pan = fromNibbles(Uint8Array.from(args.slice(2, 6)), true);
      const tilt = fromNibbles(Uint8Array.from(args.slice(6, 10)), true);
      if (pan === null || tilt === null) return unknown;
      const kind = id === 0x02 ? 'absolute' : 'relative';
      return { kind, address, panSpeed: args[0], tiltSpeedByte: args[1], pan, tilt };
    }
    // Home 8x 01 06 04 FF, Reset 8x 01 06 05 FF.
    if (id === 0x04 && args.length === 0) return { kind: 'home', address };
    if (id === 0x05 && args.length === 0) return { kind: 'pan-tilt-reset', address };
  }
  return unknown;
}

/** Reply header y0: camera address + 8 in the high nibble [X400 "VISCA communication specifications"]. */
const replyHeader = (address: number) => ((address + 8) << 4) & 0xff;

/** The camera's messages [X400 Command List "ACK/Completion message", "Error message"; PROTOCOLS §1.1 table]. */
export const cameraReply = {
  /** y0 4z FF: command accepted into socket z. */
  ack: (address: number, socket: number) => Buffer.from([replyHeader(address), 0x40 | socket, TERMINATOR]),
  /** y0 5z FF: command in socket z executed. */
  completion: (address: number, socket: number) => Buffer.from([replyHeader(address), 0x50 | socket, TERMINATOR]),
  /** y0 50 … FF: inquiry answer (and IF_Clear's reply with no data). */
  data: (address: number, data: number[]) => Buffer.from([replyHeader(address), 0x50, ...data, TERMINATOR]),
  /** y0 6z ee FF. */
  error: (address: number, socket: number, code: number) => Buffer.from([replyHeader(address), 0x60 | socket, code, TERMINATOR]),
  /** 88 30 0w FF: AddressSet passed on by the last camera, w = last address + 1 [X400 "Address Set"]. */
  addressSet: (next: number) => Buffer.from([0x88, 0x30, next, TERMINATOR]),
  /** 88 01 00 01 FF: the broadcast IF_Clear comes back unchanged [X400 "IF_Clear (broadcast)"]. */
  ifClearBroadcast: () => Buffer.from([0x88, 0x01, 0x00, 0x01, TERMINATOR]),
  /** z0 38 FF: network change [X400 "Network Change"]. */
  networkChange: (address: number) => Buffer.from([replyHeader(address), 0x38, TERMINATOR]),
};

/**
 * Splits a byte stream (TCP, serial, a raw UDP datagram) into FF-terminated
 * packets [X400 "VISCA communication specifications": FF ends every packet].
 * A run of more than PACKET_MAX bytes without FF is passed on as it ends, so
 * the parser answers it with a message length error instead of buffering forever.
 */
export class CameraStreamDecoder {
  private pending: number[] = [];
  private overflow = false;

  push(chunk: Uint8Array): Buffer[] {
    const packets: Buffer[] = [];
    for (const byte of chunk) {
      if (!this.overflow) this.pending.push(byte);
      if (this.pending.length > PACKET_MAX) this.overflow = true;
      if (byte !== TERMINATOR) continue;
      // Too long: keep the first PACKET_MAX + 1 bytes (header intact, no FF) so it reads as a length error.
      packets.push(Buffer.from(this.pending));
      this.pending = [];
      this.overflow = false;
    }
    return packets;
  }

  reset(): void {
    this.pending = [];
    this.overflow = false;
  }
}
