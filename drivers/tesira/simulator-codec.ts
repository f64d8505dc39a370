// The wire pieces of the Tesira simulator, written from Biamp's TTP pages
// (tesira-help.biamp.com / tesira-software-help.biamp.com, System Control >
// Tesira Text Protocol): the Telnet option rounds of "Telnet", the tokens of
// "TTP Syntax", the reply and error texts of "TTP Responses" and the publish
// forms of "TTP Subscriptions". Pure functions; no sockets here.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
const SB = 250;
const SE = 240;

/**
 * Telnet page, "Example Negotiation" (firmware-dependent, "for illustration"): the server's
 * requests in the page's order, grouped into the rounds a server sends after the previous
 * round was answered (the page: several may arrive in one frame).
 */
export const NEGOTIATION_ROUNDS: readonly (readonly (readonly [number, number])[])[] = [
  [
    [DO, 0x18], // terminal type
    [DO, 0x20], // terminal speed
    [DO, 0x23], // X display location
    [DO, 0x27], // new environment
    [DO, 0x24], // environment
  ],
  [
    [WILL, 0x03], // suppress go ahead
    [DO, 0x01], // echo
    [DO, 0x22], // linemode
    [DO, 0x1f], // window size
    [WILL, 0x05], // status
    [DO, 0x21], // remote flow control
  ],
  [
    [WILL, 0x01], // echo
    [DO, 0x06], // timing mark
    [DO, 0x00], // binary
  ],
];
/** The page's last request (DO 0x0A), sent with the banner: the example shows no answer awaited. */
export const LAST_REQUEST = [DO, 0x0a] as const;

/** The welcome line; the Telnet page: "preceded and followed by 0x0D and 0x0A". */
export const TTP_BANNER = 'Welcome to the Tesira Text Protocol Server...';
export const BANNER_FRAME = `\r\n${TTP_BANNER}\r\n`;

/** Splits Telnet input into data bytes and option commands (IAC IAC is a data 0xFF; SB…SE is skipped). */
export class TelnetReader {
  private pending: number[] = [];
  private inSub = false;

  feed(chunk: Uint8Array, onOption: (verb: number, opt: number) => void): number[] {
    const data: number[] = [];
    for (const b of chunk) {
      if (this.inSub) {
        this.pending.push(b);
        const n = this.pending.length;
        if (n >= 2 && this.pending[n - 2] === IAC && b === SE) {
          this.inSub = false;
          this.pending = [];
        }
        continue;
      }
      if (this.pending.length === 0) {
        if (b === IAC) this.pending.push(b);
        else data.push(b);
        continue;
      }
      this.pending.push(b);
      const [, cmd, opt] = this.pending;
      if (this.pending.length === 2) {
        if (cmd === IAC) data.push(IAC);
        else if (cmd === SB) {
          this.inSub = true;
          continue;
        } else if (cmd >= WILL && cmd <= DONT) continue;
        this.pending = [];
      } else if (opt !== undefined) {
        onOption(cmd, opt);
        this.pending = [];
      }
    }
    return data;
  }
}

/** One element of a command line with its 0-based offset (the "at N" of a parse error). */
export interface Token {
  text: string;
  at: number;
}

/**
 * TTP Syntax: elements are separated by spaces; an element may be in double quotes (an
 * instance tag with spaces, `"1""1"` as two indexes).
 */
export function tokenize(line: string): Token[] {
  return [...line.matchAll(/"([^"]*)"|([^\s"]+)/g)].map((m) => ({ text: m[1] ?? m[2] ?? '', at: m.index ?? 0 }));
}

/** TTP Responses, error table: every text below is the page's, with its offset rule. */
export const ERR = {
  address: '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}',
  /** "at 8" for `SESSION Get aliases`: the offset of the offending element. */
  verb: (at: number) => `-ERR Parse error at ${at}: verb was not one of the commands supported by Services`,
  /** "at 22" for the 22 characters of `Mixer1 set inputMute 1`: the end of the line. */
  params: (lineLength: number) => `-ERR Parse error at ${lineLength}: not enough parameters supplied`,
  /** "at 16" for `Input1 get gain channel1`: the offset of the value that does not parse. */
  value: (at: number) => `-ERR Parse error at ${at}: could not parse value`,
  attribute: (attr: string, iface: string) => `-ERR '${attr}' is not supported by ${iface}::Attributes`,
  index: (name: string, max: number, got: number) =>
    `-ERR INVALID_PARAMETER Index out of range:${name} min:1 max:${max} received:${got}`,
};

export type TtpValue = number | boolean | string | readonly number[] | readonly boolean[];

/**
 * Values as the pages print them: levels with six decimals of the device's single-precision
 * value (Subscriptions page: -98.1 dB publishes as -98.099998), integers bare, booleans as
 * words, strings in double quotes, lists in brackets separated by spaces.
 */
export function formatValue(v: TtpValue, integer = false): string {
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(' ')}]`;
  if (typeof v === 'number') return integer ? String(Math.trunc(v)) : Math.fround(v).toFixed(6);
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** `+OK "value":x` in verbose mode (the default), `+OK x` after `SESSION set verbose false` (TTP Responses). */
export function okValue(verbose: boolean, value: string, key = 'value'): string {
  return verbose ? `+OK "${key}":${value}` : `+OK ${value}`;
}

/** TTP Subscriptions: verbose `! "publishToken":"<label>" "value":<v>`, non-verbose `! "<label>" <v>`. */
export function publishLine(verbose: boolean, label: string, value: string): string {
  return verbose ? `! "publishToken":${JSON.stringify(label)} "value":${value}` : `! ${JSON.stringify(label)} ${value}`;
}

/** A number the way a TTP value may write it (`-10`, `-10.5`, `+3`); anything else does not parse. */
export function parseNumber(text: string): number | undefined {
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : undefined;
}

/** TTP Syntax, "Value": `true` / `false`. */
export function parseBool(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined;
}
