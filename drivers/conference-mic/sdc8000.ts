// Sennheiser SDC 8000 "serial output" (RS-232 19200 8N1): `%` + data + CRC +
// CR, where CRC is the 16-bit sum of the data's ASCII codes as 4 upper-case
// hex digits (checked on the examples of the SDC 8000 camera control protocol, manual pp.110-111).
import type { MicParser, MicUpdate } from './protocol.js';

const MAX_FRAME = 256;

export function sdcChecksum(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xffff;
  return sum.toString(16).toUpperCase().padStart(4, '0');
}

export function sdcFrame(data: string): string {
  return `%${data}${sdcChecksum(data)}\r`;
}

/**
 * The manual's printed examples for "first microphone on" (`%1R0053`) and "reset to neutral"
 * (`%1r000052`) fit neither its syntax nor its CRC rule (conformance rows sdc-first-on-printed,
 * sdc-reset-printed). A unit built from the same text may send them verbatim: taken as the frames
 * they stand for, not counted as corrupt.
 */
const PRINTED_FORMS: Readonly<Record<string, MicUpdate>> = {
  '1R0053': { kind: 'info', text: 'first microphone on (%1R, as printed in the manual)' },
  '1r000052': { kind: 'all_off', why: 'last microphone off, camera to neutral (%1r, as printed in the manual)' },
};

/** Parses one frame body (between `%` and CR, checksum included). */
export function parseSdcBody(body: string): MicUpdate {
  const printed = Object.hasOwn(PRINTED_FORMS, body) ? PRINTED_FORMS[body] : undefined;
  if (printed) return printed;
  if (body.length < 5) return { kind: 'bad_frame', reason: 'frame too short', raw: body };
  const data = body.slice(0, -4);
  const crc = body.slice(-4);
  if (!/^[0-9A-Fa-f]{4}$/.test(crc) || crc.toUpperCase() !== sdcChecksum(data)) {
    return { kind: 'bad_frame', reason: `bad checksum ${crc}, expected ${sdcChecksum(data)}`, raw: body };
  }
  const cmd = data[0];
  const rest = data.slice(1);
  const id = /^\d{4}$/.test(rest) ? Number(rest) : null;
  switch (cmd) {
    case 'M':
    case 'm':
    case 'P':
    case 'p':
      if (id === null) return { kind: 'bad_frame', reason: `"${cmd}" needs a 4-digit microphone number`, raw: body };
      return { kind: 'mic', channel: id, on: cmd === 'M' || cmd === 'P', chairman: cmd === 'P' || cmd === 'p' };
    case 'V':
      return { kind: 'all_off', why: 'all microphones off (%V)' };
    case 'S': {
      if (!/^(\d{4})+$/.test(rest)) return { kind: 'bad_frame', reason: 'sync list is not 4-digit numbers', raw: body };
      const ids = (rest.match(/\d{4}/g) ?? []).map(Number).filter((n) => n !== 0);
      return { kind: 'sync', active: ids };
    }
    case '1':
      if (rest[0] === 'r') return { kind: 'all_off', why: 'last microphone off, camera to neutral (%1r)' };
      if (rest[0] === 'R') return { kind: 'info', text: 'first microphone on (%1R)' };
      return { kind: 'bad_frame', reason: `unknown command "1${rest[0] ?? ''}"`, raw: body };
    default:
      return { kind: 'bad_frame', reason: `unknown command "${cmd}"`, raw: body };
  }
}

export class SdcParser implements MicParser {
  private buf = '';
  push(chunk: Buffer): MicUpdate[] {
    this.buf += chunk.toString('latin1');
    const out: MicUpdate[] = [];
    for (;;) {
      const end = this.buf.indexOf('\r');
      if (end < 0) break;
      const frame = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 1);
      const start = frame.lastIndexOf('%');
      if (start < 0) {
        if (frame.trim()) out.push({ kind: 'bad_frame', reason: 'no "%" start', raw: frame });
        continue;
      }
      out.push(parseSdcBody(frame.slice(start + 1)));
    }
    if (this.buf.length > MAX_FRAME) {
      out.push({ kind: 'bad_frame', reason: `no CR within ${MAX_FRAME} bytes`, raw: this.buf.slice(0, 32) });
      this.buf = '';
    }
    return out;
  }
  reset(): void {
    this.buf = '';
  }
}
