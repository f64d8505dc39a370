// Blackmagic Videohub Ethernet protocol (TCP 9990), pure: text in, typed
// messages out, no I/O. Blocks are an ALL-CAPS header ending in ":", lines,
// then a blank line. `ACK` / `NAK` answer requests. Indexes are 0-based on
// the wire; this module keeps them 0-based and the driver converts for people.
import { LineFramer } from '../../src/transport/framing.js';

export type VideohubMessage =
  | { kind: 'block'; header: string; lines: string[] }
  | { kind: 'ack' }
  | { kind: 'nak' }
  /** A line outside any block that is neither a header nor ACK/NAK. */
  | { kind: 'garbage'; line: string }
  /** Bytes dropped: no line end came within the line limit (a desynchronised or hostile stream). */
  | { kind: 'overflow'; bytes: number; times: number; limit: number };

const HEADER = /^[A-Z0-9][A-Z0-9 _/-]*:$/;
/** A block longer than this is a desynchronised stream, not a real status block. */
const MAX_BLOCK_LINES = 4096;

/** Splits a byte stream into blocks; copes with any chunking. */
export class VideohubParser {
  private readonly lines = new LineFramer(8192);
  private header: string | null = null;
  private body: string[] = [];

  push(chunk: Buffer | string): VideohubMessage[] {
    const out: VideohubMessage[] = [];
    // The protocol is UTF-8 both ways (labels such as "Sala Süd"): lines are cut on bytes, then decoded.
    for (const raw of this.lines.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)) {
      const line = Buffer.from(raw, 'latin1').toString('utf8').replace(/\s+$/, '');
      if (this.header !== null) {
        if (line === '') {
          out.push({ kind: 'block', header: this.header, lines: this.body });
          this.header = null;
          this.body = [];
        } else if (this.body.length >= MAX_BLOCK_LINES) {
          out.push({ kind: 'garbage', line: `block ${this.header} exceeded ${MAX_BLOCK_LINES} lines` });
          this.header = null;
          this.body = [];
        } else {
          this.body.push(line);
        }
        continue;
      }
      if (line === '') continue;
      // Companion counts a bare ACK line as a header; its block ends at the blank line.
      if (line === 'ACK') out.push({ kind: 'ack' });
      else if (line === 'NAK') out.push({ kind: 'nak' });
      else if (HEADER.test(line)) this.header = line.slice(0, -1);
      else out.push({ kind: 'garbage', line: line.slice(0, 200) });
    }
    const dropped = this.lines.takeOverflow();
    if (dropped) out.push({ kind: 'overflow', ...dropped });
    return out;
  }

  reset(): void {
    this.lines.reset();
    this.header = null;
    this.body = [];
  }
}

export type LockState = 'owned' | 'locked' | 'unlocked';
const LOCK_CODES: Record<string, LockState> = { O: 'owned', L: 'locked', U: 'unlocked' };

/** What one status block means; unknown blocks are kept by name so callers can ignore them. */
export type VideohubUpdate =
  | { type: 'preamble'; version: string | null }
  | {
      type: 'device';
      present: 'true' | 'false' | 'needs_update';
      model: string | null;
      inputs: number | null;
      outputs: number | null;
    }
  | { type: 'input_labels' | 'output_labels'; labels: [index: number, label: string][] }
  | { type: 'routing'; routes: [output: number, input: number][] }
  | { type: 'locks'; locks: [output: number, state: LockState][] }
  | { type: 'configuration'; values: Record<string, string> }
  | { type: 'end_prelude' }
  | { type: 'unknown'; header: string };

export function keyValues(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
  }
  return out;
}

function indexed(lines: string[], re: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  for (const l of lines) {
    const m = re.exec(l);
    if (m) out.push(m); // unknown lines are ignored, as the protocol asks
  }
  return out;
}

function toCount(v: string | undefined): number | null {
  if (v === undefined || !/^\d+$/.test(v)) return null;
  return Number(v);
}

export function interpretBlock(header: string, lines: string[]): VideohubUpdate {
  switch (header) {
    case 'PROTOCOL PREAMBLE':
      return { type: 'preamble', version: keyValues(lines)['Version'] ?? null };
    case 'VIDEOHUB DEVICE': {
      const kv = keyValues(lines);
      const p = kv['Device present'];
      return {
        type: 'device',
        present: p === 'false' ? 'false' : p === 'needs_update' ? 'needs_update' : 'true',
        model: kv['Model name'] ?? null,
        inputs: toCount(kv['Video inputs']),
        outputs: toCount(kv['Video outputs']),
      };
    }
    case 'INPUT LABELS':
    case 'OUTPUT LABELS':
      return {
        type: header === 'INPUT LABELS' ? 'input_labels' : 'output_labels',
        labels: indexed(lines, /^(\d+) ?(.*)$/).map((m) => [Number(m[1]), m[2]]),
      };
    case 'VIDEO OUTPUT ROUTING':
      return { type: 'routing', routes: indexed(lines, /^(\d+) (\d+)$/).map((m) => [Number(m[1]), Number(m[2])]) };
    case 'VIDEO OUTPUT LOCKS':
      return { type: 'locks', locks: indexed(lines, /^(\d+) ([OLU])$/).map((m) => [Number(m[1]), LOCK_CODES[m[2]]]) };
    case 'CONFIGURATION':
      return { type: 'configuration', values: keyValues(lines) };
    case 'END PRELUDE':
      return { type: 'end_prelude' };
    default:
      return { type: 'unknown', header };
  }
}

// ---- requests ----

export const PING = 'PING:\n\n';

/** A status-dump request: the header and a blank line. */
export function encodeQuery(header: string): string {
  return `${header}:\n\n`;
}

/** `VIDEO OUTPUT ROUTING:` with one `output input` line per change (0-based). */
export function encodeRouting(routes: [output: number, input: number][]): string {
  return `VIDEO OUTPUT ROUTING:\n${routes.map(([o, i]) => `${o} ${i}\n`).join('')}\n`;
}

export type LockRequest = 'lock' | 'unlock' | 'force_unlock';
const LOCK_REQUEST_CODES: Record<LockRequest, string> = { lock: 'O', unlock: 'U', force_unlock: 'F' };
export function encodeLock(output: number, req: LockRequest): string {
  return `VIDEO OUTPUT LOCKS:\n${output} ${LOCK_REQUEST_CODES[req]}\n\n`;
}

/** A label may not contain a line break (it would end the block early). */
export function sanitizeLabel(label: string): string {
  return label.replace(/[\r\n]+/g, ' ').trim();
}

export function encodeLabel(kind: 'input' | 'output', index: number, label: string): string {
  return `${kind === 'input' ? 'INPUT' : 'OUTPUT'} LABELS:\n${index} ${sanitizeLabel(label)}\n\n`;
}
