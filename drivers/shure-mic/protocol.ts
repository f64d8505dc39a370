// Shure command strings (MXA910 / MXA920 / MXA710 / P300, TCP 2202).
// Pure: text in, typed messages out. Messages look like `< REP 01 PARAM VALUE >`;
// REP is also sent unsolicited on every change, so no polling is needed.

/** Gate parameters that mean "this lobe / coverage area has an active talker". */
export const GATE_PARAMS = {
  lobes: 'AUTOMIX_GATE_OUT_EXT_SIG',
  coverage_areas: 'AUTOMIX_GATE_OUT_CA',
} as const;
export type GateSource = keyof typeof GATE_PARAMS;

export type ShureMessage =
  | { kind: 'rep'; channel: number | null; param: string; value: string }
  | { kind: 'sample'; values: string[] }
  | { kind: 'error'; text: string }
  | { kind: 'other'; text: string };

/** Largest message we keep while waiting for `>` (Companion caps at 128 kB). */
export const MAX_MESSAGE = 128 * 1024;

/**
 * Splits the byte stream on `>`; each message starts at the last `<` before
 * it. Text outside `< … >` (e.g. a stray error after a Telnet probe) is dropped.
 */
export class ShureFramer {
  private buf = '';
  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: string[] = [];
    for (;;) {
      const end = this.buf.indexOf('>');
      if (end < 0) break;
      const start = this.buf.lastIndexOf('<', end);
      if (start >= 0) out.push(this.buf.slice(start + 1, end).trim());
      this.buf = this.buf.slice(end + 1);
    }
    if (this.buf.length > MAX_MESSAGE) this.buf = '';
    return out;
  }
  reset(): void {
    this.buf = '';
  }
}

/** The words of a message, split on whitespace (what `\s` matches in latin1 text). */
function words(body: string): string[] {
  // A scan instead of split(/\s+/).filter(): every gate change goes through here.
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= body.length; i++) {
    const c = i < body.length ? body.charCodeAt(i) : 32;
    if (c === 32 || (c >= 9 && c <= 13) || c === 160) {
      if (start >= 0) out.push(body.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  return out;
}

const rest = (w: string[], from: number) => (w.length === from + 1 ? w[from] : w.slice(from).join(' '));

/** Parses the inside of one `< … >` message. Channel numbers of any width. */
export function parseMessage(body: string): ShureMessage {
  const w = words(body);
  if (w[0] === 'REP') {
    if (w[1] === 'ERR') return { kind: 'error', text: body };
    if (w.length >= 4 && /^\d+$/.test(w[1])) {
      return { kind: 'rep', channel: Number(w[1]), param: w[2], value: rest(w, 3) };
    }
    if (w.length >= 2) return { kind: 'rep', channel: null, param: w[1], value: rest(w, 2) };
  }
  if (w[0] === 'SAMPLE') return { kind: 'sample', values: w.slice(1) };
  return { kind: 'other', text: body };
}

/** A gate report: which channel, on or off. Null when the message is not one. */
export function gateOf(msg: ShureMessage, source: GateSource): { channel: number; on: boolean } | null {
  if (msg.kind !== 'rep' || msg.channel === null || msg.param !== GATE_PARAMS[source]) return null;
  if (msg.value === 'ON') return { channel: msg.channel, on: true };
  if (msg.value === 'OFF') return { channel: msg.channel, on: false };
  return null;
}

/** Channel numbers are sent with two digits (`0` = all channels). */
export function getCommand(param: string, channel?: number): string {
  return channel === undefined ? `< GET ${param} >` : `< GET ${String(channel).padStart(2, '0')} ${param} >`;
}

export function repMessage(channel: number, param: string, value: string, width = 2): string {
  return `< REP ${String(channel).padStart(width, '0')} ${param} ${value} >`;
}
