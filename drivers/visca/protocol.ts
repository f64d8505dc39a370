// VISCA message layer (Sony BRC-X400 VISCA command list and EVI-H100S command list p.29): pure encode/decode, no I/O.
// A packet is `header, 1–14 bytes, FF`. Controller → camera n: header 0x80|n.
// Camera n → controller: header (n+8)<<4 (camera 1 → 0x90).

export const TERMINATOR = 0xff;
/** Longest legal VISCA packet (header + 14 bytes + FF). */
export const MAX_PACKET = 16;
export const BROADCAST = 0x88;

export type PanTiltDirection = 'up' | 'down' | 'left' | 'right' | 'up-left' | 'up-right' | 'down-left' | 'down-right' | 'stop';

/** (dp, dt) bytes of the pan-tilt drive command. */
export const DIRECTION_BYTES: Record<PanTiltDirection, readonly [number, number]> = {
  up: [0x03, 0x01],
  down: [0x03, 0x02],
  left: [0x01, 0x03],
  right: [0x02, 0x03],
  'up-left': [0x01, 0x01],
  'up-right': [0x02, 0x01],
  'down-left': [0x01, 0x02],
  'down-right': [0x02, 0x02],
  stop: [0x03, 0x03],
};

export type PresetOp = 'reset' | 'set' | 'recall';
const PRESET_OP: Record<PresetOp, number> = { reset: 0, set: 1, recall: 2 };

const head = (address: number) => 0x80 | (address & 0x0f);
const pkt = (address: number, ...body: number[]) => {
  // Written in place: no intermediate array of the whole packet.
  const out = Buffer.allocUnsafe(body.length + 2);
  out[0] = head(address);
  for (let i = 0; i < body.length; i++) out[i + 1] = body[i] & 0xff;
  out[body.length + 1] = TERMINATOR;
  return out;
};

/** 16-bit value as four low nibbles (0p 0p 0p 0p); negatives as two's complement. */
export function toNibbles(value: number): number[] {
  const v = value & 0xffff;
  return [(v >> 12) & 0xf, (v >> 8) & 0xf, (v >> 4) & 0xf, v & 0xf];
}
/** Four nibble bytes → unsigned 16-bit; `signed` reads two's complement. */
export function fromNibbles(b: ArrayLike<number>, offset: number, signed: boolean): number {
  const v = ((b[offset] & 0xf) << 12) | ((b[offset + 1] & 0xf) << 8) | ((b[offset + 2] & 0xf) << 4) | (b[offset + 3] & 0xf);
  return signed && v & 0x8000 ? v - 0x10000 : v;
}

// ---- commands (controller → camera) ----

export const encode = {
  /** `8x 01 04 3F 0n pp FF` — `byte` is the wire byte after the profile's offset. */
  preset: (address: number, op: PresetOp, byte: number) => pkt(address, 0x01, 0x04, 0x3f, PRESET_OP[op], byte & 0xff),
  /** `8x 01 06 01 vv ww dp dt FF` */
  panTiltDrive: (address: number, dir: PanTiltDirection, panSpeed: number, tiltSpeed: number) =>
    pkt(address, 0x01, 0x06, 0x01, panSpeed & 0x7f, tiltSpeed & 0x7f, ...DIRECTION_BYTES[dir]),
  /** `8x 01 06 02 vv ww 0p×4 0t×4 FF`; Sony documents ww as 00, PTZOptics puts the tilt speed there. */
  absolute: (address: number, panSpeed: number, tiltSpeedByte: number, pan: number, tilt: number) =>
    pkt(address, 0x01, 0x06, 0x02, panSpeed & 0x7f, tiltSpeedByte & 0x7f, ...toNibbles(pan), ...toNibbles(tilt)),
  home: (address: number) => pkt(address, 0x01, 0x06, 0x04),
  /** `8x 01 04 07 xx FF`: 00 stop, 02 tele, 03 wide; with a speed 0–7: 2p tele, 3p wide. */
  zoom: (address: number, op: 'stop' | 'tele' | 'wide', speed?: number) => {
    if (op === 'stop') return pkt(address, 0x01, 0x04, 0x07, 0x00);
    const base = op === 'tele' ? 0x02 : 0x03;
    return pkt(address, 0x01, 0x04, 0x07, speed === undefined ? base : (base << 4) | (speed & 0x07));
  },
  zoomDirect: (address: number, position: number) => pkt(address, 0x01, 0x04, 0x47, ...toNibbles(position)),
  power: (address: number, on: boolean) => pkt(address, 0x01, 0x04, 0x00, on ? 0x02 : 0x03),
  cancel: (address: number, socket: number) => pkt(address, 0x20 | (socket & 0x0f)),
  ifClear: (address: number) => pkt(address, 0x01, 0x00, 0x01),
  ifClearBroadcast: () => Buffer.from([BROADCAST, 0x01, 0x00, 0x01, TERMINATOR]),
  addressSetBroadcast: () => Buffer.from([BROADCAST, 0x30, 0x01, TERMINATOR]),
  // inquiries (no ACK; answered by `y0 50 … FF`)
  inqPanTilt: (address: number) => pkt(address, 0x09, 0x06, 0x12),
  inqZoom: (address: number) => pkt(address, 0x09, 0x04, 0x47),
  inqPower: (address: number) => pkt(address, 0x09, 0x04, 0x00),
  inqLastPreset: (address: number) => pkt(address, 0x09, 0x04, 0x3f),
  inqPanTiltStatus: (address: number) => pkt(address, 0x09, 0x06, 0x10),
};

/** A command or inquiry as a camera understands it (the simulator's view). */
export type ViscaRequest =
  | { kind: 'preset'; address: number; op: PresetOp; byte: number }
  | { kind: 'pan-tilt-drive'; address: number; direction: PanTiltDirection; panSpeed: number; tiltSpeed: number }
  | { kind: 'absolute'; address: number; panSpeed: number; tiltSpeedByte: number; pan: number; tilt: number }
  | { kind: 'home'; address: number }
  | { kind: 'zoom'; address: number; op: 'stop' | 'tele' | 'wide'; speed?: number }
  | { kind: 'zoom-direct'; address: number; position: number }
  | { kind: 'power'; address: number; on: boolean }
  | { kind: 'cancel'; address: number; socket: number }
  | { kind: 'if-clear'; address: number }
  | { kind: 'address-set'; address: number; next: number }
  | { kind: 'inquiry'; address: number; what: 'pan-tilt' | 'zoom' | 'power' | 'last-preset' | 'pan-tilt-status' }
  /** Well-formed packet we do not know: a camera answers it with a syntax error. */
  | { kind: 'unknown'; address: number; bytes: Buffer }
  /** Not a packet at all (bad header, no FF, too long): a camera answers a length error. */
  | { kind: 'malformed'; bytes: Buffer };

export type ViscaRequestKind = ViscaRequest['kind'];

/** True for requests a camera ACKs and runs in a socket (not inquiries or interface commands). */
export function isSocketCommand(r: ViscaRequest): boolean {
  return (
    r.kind !== 'inquiry' && r.kind !== 'cancel' && r.kind !== 'if-clear' && r.kind !== 'address-set' && r.kind !== 'malformed'
  );
}

function directionOf(dp: number, dt: number): PanTiltDirection | null {
  for (const [name, [p, t]] of Object.entries(DIRECTION_BYTES)) if (p === dp && t === dt) return name as PanTiltDirection;
  return null;
}

/** Decodes one controller → camera packet (with its FF). Never throws. */
export function parseRequest(p: Buffer): ViscaRequest {
  const n = p.length;
  if (n < 3 || n > MAX_PACKET || p[n - 1] !== TERMINATOR || (p[0] & 0xf0) !== 0x80 || p.subarray(0, n - 1).includes(TERMINATOR)) {
    return { kind: 'malformed', bytes: Buffer.from(p) };
  }
  const address = p[0] & 0x0f;
  const b = p.subarray(1, n - 1);
  const is = (...xs: number[]) => b.length === xs.length && xs.every((x, i) => x < 0 || b[i] === x);
  const unknown: ViscaRequest = { kind: 'unknown', address, bytes: Buffer.from(p) };
  if (p[0] === BROADCAST && is(0x30, -1)) return { kind: 'address-set', address, next: b[1] };
  if (is(0x01, 0x00, 0x01)) return { kind: 'if-clear', address };
  if (b.length === 1 && (b[0] & 0xf0) === 0x20) return { kind: 'cancel', address, socket: b[0] & 0x0f };
  if (is(0x01, 0x04, 0x3f, -1, -1)) {
    const op = (['reset', 'set', 'recall'] as const)[b[3]];
    return op ? { kind: 'preset', address, op, byte: b[4] } : unknown;
  }
  if (is(0x01, 0x06, 0x01, -1, -1, -1, -1)) {
    const direction = directionOf(b[5], b[6]);
    return direction ? { kind: 'pan-tilt-drive', address, direction, panSpeed: b[3], tiltSpeed: b[4] } : unknown;
  }
  if (b.length === 13 && b[0] === 0x01 && b[1] === 0x06 && b[2] === 0x02) {
    if (b.subarray(5).some((x) => x > 0x0f)) return unknown;
    return {
      kind: 'absolute',
      address,
      panSpeed: b[3],
      tiltSpeedByte: b[4],
      pan: fromNibbles(b, 5, true),
      tilt: fromNibbles(b, 9, true),
    };
  }
  if (is(0x01, 0x06, 0x04)) return { kind: 'home', address };
  if (is(0x01, 0x04, 0x07, -1)) {
    const v = b[3];
    if (v === 0x00) return { kind: 'zoom', address, op: 'stop' };
    if (v === 0x02) return { kind: 'zoom', address, op: 'tele' };
    if (v === 0x03) return { kind: 'zoom', address, op: 'wide' };
    if ((v & 0xf0) === 0x20 && (v & 0x0f) <= 7) return { kind: 'zoom', address, op: 'tele', speed: v & 0x0f };
    if ((v & 0xf0) === 0x30 && (v & 0x0f) <= 7) return { kind: 'zoom', address, op: 'wide', speed: v & 0x0f };
    return unknown;
  }
  if (is(0x01, 0x04, 0x47, -1, -1, -1, -1)) {
    if (b.subarray(3).some((x) => x > 0x0f)) return unknown;
    return { kind: 'zoom-direct', address, position: fromNibbles(b, 3, false) };
  }
  if (is(0x01, 0x04, 0x00, 0x02)) return { kind: 'power', address, on: true };
  if (is(0x01, 0x04, 0x00, 0x03)) return { kind: 'power', address, on: false };
  if (is(0x09, 0x06, 0x12)) return { kind: 'inquiry', address, what: 'pan-tilt' };
  if (is(0x09, 0x04, 0x47)) return { kind: 'inquiry', address, what: 'zoom' };
  if (is(0x09, 0x04, 0x00)) return { kind: 'inquiry', address, what: 'power' };
  if (is(0x09, 0x04, 0x3f)) return { kind: 'inquiry', address, what: 'last-preset' };
  if (is(0x09, 0x06, 0x10)) return { kind: 'inquiry', address, what: 'pan-tilt-status' };
  return unknown;
}

// ---- camera → controller messages ----

export const ERROR_REASONS: Record<number, string> = {
  1: 'message length error',
  2: 'syntax error',
  3: 'command buffer full',
  4: 'command canceled',
  5: 'no socket',
  65: 'command not executable',
};

export type CameraMessage =
  | { type: 'ack'; from: number; socket: number }
  | { type: 'completion'; from: number; socket: number }
  /** `y0 50 <data> FF`: inquiry reply (data may be empty, e.g. the IF_Clear answer). */
  | { type: 'reply'; from: number; data: Buffer }
  | { type: 'error'; from: number; socket: number; code: number; reason: string }
  | { type: 'network-change'; from: number }
  /** `88 30 0w FF`: AddressSet came round the chain; w = last address + 1. */
  | { type: 'address-set'; next: number }
  /** `88 01 00 01 FF`: the broadcast IF_Clear came back round the chain. */
  | { type: 'if-clear-broadcast' }
  | { type: 'unknown'; bytes: Buffer };

/** Built only when needed (a copy of the bytes): every ACK and Completion passes through decodeMessage. */
const unknownMessage = (p: Buffer, start: number): CameraMessage => ({
  type: 'unknown',
  bytes: Buffer.from(start === 0 ? p : p.subarray(start)),
});

/**
 * ACKs and Completions by sender and socket: the same frozen message each time (every command
 * gets one of each; nothing keeps or changes a decoded message).
 */
const acks: (CameraMessage | undefined)[] = [];
const completions: (CameraMessage | undefined)[] = [];
function socketMessage(
  table: (CameraMessage | undefined)[],
  type: 'ack' | 'completion',
  from: number,
  socket: number,
): CameraMessage {
  const i = from * 16 + socket;
  const known = table[i];
  if (known !== undefined) return known;
  const m: CameraMessage = Object.freeze({ type, from, socket });
  table[i] = m;
  return m;
}

/** Decodes one camera → controller packet (with its FF). Never throws. */
export function decodeMessage(p: Buffer): CameraMessage {
  return decodeMessageAt(p, 0);
}

/** decodeMessage of the packet from `start` to the end of `p` (e.g. after a VISCA-over-IP header), read in place. */
export function decodeMessageAt(p: Buffer, start: number): CameraMessage {
  const end = p.length;
  const n = end - start;
  if (n < 3 || n > MAX_PACKET || p[end - 1] !== TERMINATOR) return unknownMessage(p, start);
  const h = p[start];
  const b1 = p[start + 1];
  if (h === BROADCAST) {
    if (n === 4 && b1 === 0x30) return { type: 'address-set', next: p[start + 2] };
    if (n === 5 && b1 === 0x01 && p[start + 2] === 0x00 && p[start + 3] === 0x01) return { type: 'if-clear-broadcast' };
    return unknownMessage(p, start);
  }
  if ((h & 0x80) === 0 || (h & 0x0f) !== 0) return unknownMessage(p, start);
  // Network change is sent with several headers in the field (80/90/A0 38 FF).
  if (n === 3 && b1 === 0x38) return { type: 'network-change', from: (h >> 4) & 0x7 || 0 };
  if (h < 0x90) return unknownMessage(p, start);
  const from = (h >> 4) - 8;
  const kind = b1 & 0xf0;
  const socket = b1 & 0x0f;
  if (kind === 0x40 && n === 3) return socketMessage(acks, 'ack', from, socket);
  if (kind === 0x50 && socket === 0) return { type: 'reply', from, data: Buffer.from(p.subarray(start + 2, end - 1)) };
  if (kind === 0x50 && n === 3) return socketMessage(completions, 'completion', from, socket);
  if (kind === 0x60 && n === 4) {
    const code = p[start + 2];
    return { type: 'error', from, socket, code, reason: ERROR_REASONS[code] ?? `error 0x${code.toString(16).padStart(2, '0')}` };
  }
  return unknownMessage(p, start);
}

export const reply = {
  ack: (from: number, socket: number) => Buffer.from([(from + 8) << 4, 0x40 | socket, TERMINATOR]),
  completion: (from: number, socket: number) => Buffer.from([(from + 8) << 4, 0x50 | socket, TERMINATOR]),
  data: (from: number, data: number[]) => Buffer.from([(from + 8) << 4, 0x50, ...data, TERMINATOR]),
  error: (from: number, socket: number, code: number) => Buffer.from([(from + 8) << 4, 0x60 | socket, code, TERMINATOR]),
  networkChange: (from: number) => Buffer.from([(from + 8) << 4, 0x38, TERMINATOR]),
  addressSet: (next: number) => Buffer.from([BROADCAST, 0x30, next, TERMINATOR]),
};

// ---- inquiry payloads (the <data> of `y0 50 <data> FF`) ----

export const inquiry = {
  panTilt(data: Buffer): { pan: number; tilt: number } | null {
    if (data.length !== 8 || data.some((x) => x > 0x0f)) return null;
    return { pan: fromNibbles(data, 0, true), tilt: fromNibbles(data, 4, true) };
  },
  zoom(data: Buffer): number | null {
    if (data.length !== 4 || data.some((x) => x > 0x0f)) return null;
    return fromNibbles(data, 0, false);
  },
  power(data: Buffer): 'on' | 'standby' | null {
    if (data.length !== 1) return null;
    return data[0] === 0x02 ? 'on' : data[0] === 0x03 ? 'standby' : null;
  },
  /** Wire byte of the last recalled preset, or null when none (`7F`). */
  lastPreset(data: Buffer): number | null | undefined {
    if (data.length !== 1) return undefined;
    return data[0] === 0x7f ? null : data[0];
  },
};

/**
 * Byte-stream decoder for raw VISCA (TCP, serial): reads until FF. A packet
 * must start with a header byte (bit 7 set) and be 3–16 bytes long; anything
 * else is skipped and counted in `garbageBytes`. Never throws.
 */
export class ViscaStreamDecoder {
  private buf: number[] = [];
  garbageBytes = 0;

  push(chunk: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (const byte of chunk) {
      if (this.buf.length === 0) {
        // Only a header can start a packet; FF or 0x00–0x7F here is noise.
        if ((byte & 0x80) === 0 || byte === TERMINATOR) {
          this.garbageBytes++;
          continue;
        }
        this.buf.push(byte);
        continue;
      }
      this.buf.push(byte);
      if (byte === TERMINATOR) {
        if (this.buf.length >= 3) out.push(Buffer.from(this.buf));
        else this.garbageBytes += this.buf.length;
        this.buf = [];
      } else if (this.buf.length >= MAX_PACKET) {
        // Too long to be VISCA: drop the header and resynchronise on the rest.
        const rest = this.buf.slice(1);
        this.garbageBytes++;
        this.buf = [];
        out.push(...this.push(Uint8Array.from(rest)));
      }
    }
    return out;
  }

  reset(): void {
    this.buf = [];
  }
}

/** Hex dump for logs and errors: "81 01 04 3F 02 09 FF". */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
