// TZif files (RFC 8536), the compiled time zone database every Linux ships
// in /usr/share/zoneinfo. Pure: bytes in, offsets out.
//
// Why read these rather than ask Intl: Intl.DateTimeFormat with a timeZone
// pulls ICU's formatting code and data into memory — ~6 MB of a room PC's
// ~80 MB agent — for what is a table lookup; and the OS's tzdata is the one
// the rest of the room PC (its clock, its logs) already follows.
import { type PosixTz, PosixTzError, parsePosixTz, posixOffsetAt } from './posix-tz.js';

export class TzifError extends Error {
  constructor(why: string) {
    super(`not a usable TZif file: ${why}`);
    this.name = 'TzifError';
  }
}

export interface TzifZone {
  /** Transition instants, seconds after the epoch, ascending. */
  times: number[];
  /** UTC offset (seconds east) in force from each transition on. */
  offsets: number[];
  /** Offset before the first transition (RFC 8536: local time type 0). */
  initialOffset: number;
  /** Rule for instants after the last transition (version 2+ footer). */
  footer: PosixTz | null;
}

const HEADER = 44;

interface Header {
  version: number;
  isutcnt: number;
  isstdcnt: number;
  leapcnt: number;
  timecnt: number;
  typecnt: number;
  charcnt: number;
}

function readHeader(view: DataView, at: number): Header {
  if (view.byteLength < at + HEADER) throw new TzifError('truncated header');
  if (view.getUint32(at) !== 0x545a6966) throw new TzifError("no 'TZif' magic");
  const v = view.getUint8(at + 4);
  const version = v === 0 ? 1 : v - 0x30;
  if (version < 1 || version > 9) throw new TzifError(`unknown version byte ${v}`);
  const n = (k: number) => view.getUint32(at + 20 + 4 * k);
  const h = { version, isutcnt: n(0), isstdcnt: n(1), leapcnt: n(2), timecnt: n(3), typecnt: n(4), charcnt: n(5) };
  if (h.typecnt === 0) throw new TzifError('no local time types');
  if ((h.isutcnt !== 0 && h.isutcnt !== h.typecnt) || (h.isstdcnt !== 0 && h.isstdcnt !== h.typecnt)) {
    throw new TzifError('indicator counts do not match the type count');
  }
  return h;
}

function blockLength(h: Header, timeSize: number): number {
  return h.timecnt * timeSize + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt;
}

export function parseTzif(bytes: Uint8Array): TzifZone {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = readHeader(view, 0);
  let at = HEADER;
  let timeSize = 4;
  if (h.version >= 2) {
    // Skip the 32-bit block: the 64-bit one after it is complete.
    at += blockLength(h, 4);
    h = readHeader(view, at);
    at += HEADER;
    timeSize = 8;
  }
  // Leap-second ("right/") zones count TAI-like seconds; calendars use POSIX time.
  if (h.leapcnt > 0) throw new TzifError('leap-second zones are not supported');
  const end = at + blockLength(h, timeSize);
  if (view.byteLength < end) throw new TzifError('truncated data block');

  const times: number[] = [];
  for (let k = 0; k < h.timecnt; k++) {
    const t = timeSize === 8 ? Number(view.getBigInt64(at + k * 8)) : view.getInt32(at + k * 4);
    if (k > 0 && t <= times[k - 1]!) throw new TzifError('transition times are not ascending');
    times.push(t);
  }
  at += h.timecnt * timeSize;
  const typeIndex: number[] = [];
  for (let k = 0; k < h.timecnt; k++) {
    const idx = view.getUint8(at + k);
    if (idx >= h.typecnt) throw new TzifError(`transition ${k} names type ${idx} of ${h.typecnt}`);
    typeIndex.push(idx);
  }
  at += h.timecnt;
  const typeOffsets: number[] = [];
  for (let k = 0; k < h.typecnt; k++) {
    const off = view.getInt32(at + k * 6);
    // RFC 8536: utoff must not be −2^31 and should be within a day.
    if (off < -89_999 || off > 93_599) throw new TzifError(`offset ${off} s is out of range`);
    typeOffsets.push(off);
  }

  let footer: PosixTz | null = null;
  if (h.version >= 2) {
    if (bytes[end] !== 0x0a) throw new TzifError('missing footer');
    const close = bytes.indexOf(0x0a, end + 1);
    if (close < 0) throw new TzifError('unterminated footer');
    const tz = new TextDecoder('ascii').decode(bytes.subarray(end + 1, close));
    if (tz !== '') {
      try {
        footer = parsePosixTz(tz);
      } catch (e) {
        throw new TzifError(e instanceof PosixTzError ? e.message : String(e));
      }
    }
  }
  return { times, offsets: typeIndex.map((k) => typeOffsets[k]!), initialOffset: typeOffsets[0]!, footer };
}

/** UTC offset in seconds (east positive) at `t` seconds after the epoch. */
export function tzifOffsetAt(zone: TzifZone, t: number): number {
  const { times } = zone;
  const n = times.length;
  if (n === 0 || t < times[0]!) return n === 0 && zone.footer ? posixOffsetAt(zone.footer, t) : zone.initialOffset;
  if (t >= times[n - 1]! && zone.footer) return posixOffsetAt(zone.footer, t);
  // The last transition at or before t.
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return zone.offsets[lo]!;
}
