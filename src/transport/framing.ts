// Stream framers: devices deliver bytes in arbitrary chunks; these turn a
// byte stream into whole frames and keep the remainder for the next chunk.
// A frame that grows past its limit without a delimiter is garbage: it is
// dropped, and `takeOverflow()` tells the parser how many bytes went, so the
// driver can log it through ctx.deviceNoise (rate limited) instead of the
// bytes vanishing without a trace.

/** Bytes a framer dropped since the last look: how many, in how many overflows, the limit they passed. */
export interface FramerOverflow {
  bytes: number;
  times: number;
  limit: number;
}

/** Splits on a delimiter (e.g. "\r\n", "\0", 0xFF). Keeps the delimiter out. */
export class DelimiterFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly delim: Buffer;
  constructor(
    delimiter: string | number | Buffer,
    /** Frames longer than this are dropped (garbage protection). */
    private readonly maxFrame = 64 * 1024,
    private readonly includeDelimiter = false,
  ) {
    this.delim =
      typeof delimiter === 'number' ? Buffer.from([delimiter]) : Buffer.isBuffer(delimiter) ? delimiter : Buffer.from(delimiter);
  }
  /** Feeds a chunk, returns complete frames. Oversized garbage is discarded and reported via `overflow`. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const i = this.buf.indexOf(this.delim, start);
      if (i < 0) break;
      out.push(this.buf.subarray(start, this.includeDelimiter ? i + this.delim.length : i));
      start = i + this.delim.length;
    }
    this.buf = this.buf.subarray(start);
    if (this.buf.length > this.maxFrame) {
      this.overflowed += this.buf.length;
      this.unreported.bytes += this.buf.length;
      this.unreported.times++;
      this.buf = Buffer.alloc(0);
    }
    return out;
  }
  /** Bytes dropped because no delimiter came within `maxFrame` (since the framer was made). */
  overflowed = 0;
  private unreported = { bytes: 0, times: 0 };
  /** What was dropped since the last call, or null when nothing was. */
  takeOverflow(): FramerOverflow | null {
    if (this.unreported.times === 0) return null;
    const o = { ...this.unreported, limit: this.maxFrame };
    this.unreported = { bytes: 0, times: 0 };
    return o;
  }
  reset(): void {
    this.buf = Buffer.alloc(0);
  }
  get pending(): number {
    return this.buf.length;
  }
}

/** Text lines split on CR, LF or CRLF (a CRLF split across chunks is one
 * break); empty lines are kept, since some protocols end blocks with them. */
export class LineFramer {
  private cur = '';
  private skipLF = false;
  constructor(private readonly maxLine = 64 * 1024) {}
  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 /* LF */ || c === 13 /* CR */) {
        if (c === 10 && this.skipLF && i === start && this.cur === '') {
          this.skipLF = false;
          start = i + 1;
          continue;
        }
        lines.push(this.cur + text.slice(start, i));
        this.cur = '';
        this.skipLF = c === 13;
        start = i + 1;
      } else if (this.skipLF) {
        this.skipLF = false;
      }
    }
    this.cur += text.slice(start);
    if (this.cur.length > this.maxLine) {
      this.overflowed += this.cur.length;
      this.unreported.bytes += this.cur.length;
      this.unreported.times++;
      this.cur = '';
    }
    return lines;
  }
  /** Characters dropped because no line end came within `maxLine` (since the framer was made). */
  overflowed = 0;
  private unreported = { bytes: 0, times: 0 };
  /** What was dropped since the last call, or null when nothing was (bytes for Buffer input, else characters). */
  takeOverflow(): FramerOverflow | null {
    if (this.unreported.times === 0) return null;
    const o = { ...this.unreported, limit: this.maxLine };
    this.unreported = { bytes: 0, times: 0 };
    return o;
  }
  reset(): void {
    this.cur = '';
    this.skipLF = false;
  }
}
