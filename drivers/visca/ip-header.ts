// Sony VISCA over IP framing (Sony SRG-300H technical manual, "VISCA over IP" pp.31-32): an 8-byte big-endian header
// (payload type, payload length, sequence number) before each VISCA message.
// Pure: no I/O.

export const PAYLOAD = {
  command: 0x0100,
  inquiry: 0x0110,
  reply: 0x0111,
  deviceSetting: 0x0120,
  control: 0x0200,
  controlReply: 0x0201,
} as const;

export const HEADER_LENGTH = 8;
export const MAX_SEQUENCE = 0xffffffff;

/** Control payloads: `01` RESET (and its ACK), `0F 01` abnormal sequence number, `0F 02` abnormal message. */
export const CONTROL = {
  reset: Buffer.from([0x01]),
  errorSequence: Buffer.from([0x0f, 0x01]),
  errorMessage: Buffer.from([0x0f, 0x02]),
};

export interface IpFrame {
  payloadType: number;
  sequence: number;
  payload: Buffer;
}

export function encodeFrame(payloadType: number, sequence: number, payload: Uint8Array): Buffer {
  // Every byte is written below: a pooled buffer (no zero-fill, no ArrayBuffer of its own) is safe.
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  // Byte by byte (big-endian): Buffer's write methods validate through helpers that allocate
  // until V8 has optimized them, and this runs for every message sent.
  const seq = sequence >>> 0;
  out[0] = (payloadType >>> 8) & 0xff;
  out[1] = payloadType & 0xff;
  out[2] = (payload.length >>> 8) & 0xff;
  out[3] = payload.length & 0xff;
  out[4] = seq >>> 24;
  out[5] = (seq >>> 16) & 0xff;
  out[6] = (seq >>> 8) & 0xff;
  out[7] = seq & 0xff;
  for (let i = 0; i < payload.length; i++) out[HEADER_LENGTH + i] = payload[i];
  return out;
}

/** RESET as Sony's own tools send it (`02 00 00 01 <seq> 01`). */
export function encodeReset(sequence = 0): Buffer {
  return encodeFrame(PAYLOAD.control, sequence, CONTROL.reset);
}

export type FrameResult = { ok: true; frame: IpFrame } | { ok: false; reason: string };

const KNOWN_TYPES = new Set<number>(Object.values(PAYLOAD));

/** Decodes one datagram. Never throws; a bad datagram is `{ok: false}` with a reason. */
export function decodeFrame(d: Uint8Array): FrameResult {
  const problem = frameProblem(d);
  if (problem !== null) return { ok: false, reason: problem };
  // A datagram from dgram is a Buffer already: read it in place, no second view.
  const b = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return {
    ok: true,
    frame: { payloadType: framePayloadType(b), sequence: frameSequence(b), payload: b.subarray(HEADER_LENGTH) },
  };
}

/**
 * Why a datagram is not one well-formed frame, or null when it is (what decodeFrame accepts).
 * With framePayloadType and frameSequence it reads a frame in place, building nothing: every ACK
 * and Completion a camera sends passes here.
 */
export function frameProblem(b: Uint8Array): string | null {
  if (b.length < HEADER_LENGTH + 1) return `datagram of ${b.length} bytes is shorter than header + payload`;
  const payloadType = framePayloadType(b);
  const length = (b[2] << 8) | b[3];
  if (!KNOWN_TYPES.has(payloadType)) return `unknown payload type 0x${payloadType.toString(16).padStart(4, '0')}`;
  if (length < 1 || length > 16) return `payload length ${length} outside 1–16`;
  if (b.length !== HEADER_LENGTH + length) {
    return `payload length field ${length} but ${b.length - HEADER_LENGTH} bytes follow`;
  }
  return null;
}

/** The payload type of a frame (its first two bytes, big-endian). */
export function framePayloadType(b: Uint8Array): number {
  return (b[0] << 8) | b[1];
}

/** The sequence number of a frame (bytes 4–7, big-endian, unsigned). */
export function frameSequence(b: Uint8Array): number {
  return b[4] * 0x1000000 + ((b[5] << 16) | (b[6] << 8) | b[7]);
}

/** The sequence number after `s` (wraps to 0 at the limit). */
export function nextSequence(s: number): number {
  return s >= MAX_SEQUENCE ? 0 : s + 1;
}
