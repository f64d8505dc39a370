// Biamp Tesira Text Protocol (TTP), pure: lines in, typed messages out.
// `InstanceTag command attribute [index] [index] [value]\n`, answers `+OK …`,
// `-ERR …` (also `-CANNOT_DELIVER`, `-GENERAL_FAILURE`), and subscription
// publishes `! "publishToken":"Label" "value":-10.000000`.
import { LineFramer } from '../../src/transport/framing.js';

export type TtpValue = number | boolean | string | null | TtpValue[] | { [k: string]: TtpValue };

export type TtpMessage =
  /** `+OK` with the fields of a verbose answer (`"value":-10.0` → {value:-10}) or a terse value. */
  | { kind: 'ok'; fields: Record<string, TtpValue>; value: TtpValue | undefined }
  | { kind: 'error'; code: 'ERR' | 'CANNOT_DELIVER' | 'GENERAL_FAILURE' | string; text: string }
  | { kind: 'publish'; label: string; value: TtpValue | undefined; fields: Record<string, TtpValue> }
  | { kind: 'banner'; text: string }
  /** Echo of a command, or noise: neither an answer nor a publish. */
  | { kind: 'other'; line: string }
  /** Bytes dropped: no line end came within the line limit. */
  | { kind: 'overflow'; bytes: number; times: number; limit: number };

export class TtpParser {
  private readonly lines = new LineFramer(64 * 1024);
  push(chunk: Buffer): TtpMessage[] {
    const out = this.lines.push(chunk.toString('utf8')).flatMap(parseTtpLine);
    const dropped = this.lines.takeOverflow();
    if (dropped) out.push({ kind: 'overflow', ...dropped });
    return out;
  }
  reset(): void {
    this.lines.reset();
  }
}

/** One line → zero, one or two messages (a publish may end in ` +OK` on the same line). */
export function parseTtpLine(raw: string): TtpMessage[] {
  // Biamp "Telnet" page, Other Considerations: a line may end in CR NUL instead of CR LF. The framer
  // ends the line at the CR, so the NUL starts the next one; it is no TTP text.
  const line = raw.replaceAll('\0', '').trim();
  if (line === '') return [];
  if (line.startsWith('Welcome')) return [{ kind: 'banner', text: line }];
  if (line.startsWith('+OK')) {
    const rest = line.slice(3).trim();
    return [okMessage(rest)];
  }
  if (line.startsWith('-')) {
    const m = /^-([A-Z_]+)\s*(.*)$/.exec(line);
    return [m ? { kind: 'error', code: m[1], text: m[2] } : { kind: 'other', line }];
  }
  if (line.startsWith('!')) {
    let body = line.slice(1).trim();
    let trailingOk = false;
    if (/\s\+OK$/.test(body)) {
      trailingOk = true;
      body = body.replace(/\s\+OK$/, '');
    }
    const fields = parseFields(body);
    if (!fields || typeof fields.publishToken !== 'string') return [{ kind: 'other', line }];
    const out: TtpMessage[] = [{ kind: 'publish', label: fields.publishToken, value: fields.value, fields }];
    if (trailingOk) out.push({ kind: 'ok', fields: {}, value: undefined });
    return out;
  }
  return [{ kind: 'other', line }];
}

function okMessage(rest: string): TtpMessage {
  if (rest === '') return { kind: 'ok', fields: {}, value: undefined };
  if (rest.startsWith('"')) {
    const fields = parseFields(rest);
    if (fields) return { kind: 'ok', fields, value: fields.value };
  }
  // Non-verbose sessions answer with the bare value.
  const v = new ValueReader(rest).readValue();
  return { kind: 'ok', fields: {}, value: v ?? rest };
}

/** `"a":1 "b":"x"` → {a:1, b:'x'}; null when the text is not such a list. */
export function parseFields(text: string): Record<string, TtpValue> | null {
  const r = new ValueReader(`{${text}}`);
  const v = r.readValue();
  return v !== undefined && r.atEnd() && typeof v === 'object' && v !== null && !Array.isArray(v) ? v : null;
}

/** TTP values look like JSON but lists and objects are separated by spaces, not commas. */
class ValueReader {
  private i = 0;
  constructor(private readonly s: string) {}
  atEnd(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }
  private ws(): void {
    while (this.i < this.s.length && /[\s,]/.test(this.s[this.i])) this.i++;
  }
  readValue(depth = 0): TtpValue | undefined {
    if (depth > 32) return undefined;
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) return undefined;
    if (c === '"') return this.readString();
    if (c === '[') {
      this.i++;
      const out: TtpValue[] = [];
      for (;;) {
        this.ws();
        if (this.s[this.i] === ']') {
          this.i++;
          return out;
        }
        const v = this.readValue(depth + 1);
        if (v === undefined) return undefined;
        out.push(v);
      }
    }
    if (c === '{') {
      this.i++;
      const out: Record<string, TtpValue> = {};
      for (;;) {
        this.ws();
        if (this.s[this.i] === '}') {
          this.i++;
          return out;
        }
        const k = this.readString();
        if (k === undefined) return undefined;
        this.ws();
        if (this.s[this.i] !== ':') return undefined;
        this.i++;
        const v = this.readValue(depth + 1);
        if (v === undefined) return undefined;
        out[k] = v;
      }
    }
    const m = /^[^\s,\]}]+/.exec(this.s.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    const word = m[0];
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    const n = Number(word);
    return Number.isFinite(n) ? n : word;
  }
  private readString(): string | undefined {
    if (this.s[this.i] !== '"') return undefined;
    let out = '';
    for (this.i++; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === '\\' && this.i + 1 < this.s.length) out += this.s[++this.i];
      else if (c === '"') {
        this.i++;
        return out;
      } else out += c;
    }
    return undefined;
  }
}

/** Quotes an instance tag when it holds spaces or quotes (TTP accepts "Level 1"). */
export function quoteTag(tag: string): string {
  return /[\s"]/.test(tag) ? `"${tag.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : tag;
}

export function formatTtpValue(v: number | boolean | string): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return quoteTag(v);
}

/** `Level1 set level 1 -10\n` */
export function encodeTtp(
  instance: string,
  command: string,
  attribute: string,
  indexes: number[] = [],
  value?: number | boolean | string,
): string {
  const parts = [quoteTag(instance), command, attribute, ...indexes.map(String)];
  if (value !== undefined) parts.push(formatTtpValue(value));
  return `${parts.join(' ')}\n`;
}

/** `Level1 subscribe level 1 MyLabel 500\n` */
export function encodeSubscribe(
  instance: string,
  attribute: string,
  index: number,
  label: string,
  minIntervalMs: number,
): string {
  return `${quoteTag(instance)} subscribe ${attribute} ${index} ${label} ${Math.round(minIntervalMs)}\n`;
}

/** `DEVICE recallPreset 1001\n`, or `DEVICE recallPresetByName "Name"\n` for a name. */
export function encodeRecallPreset(id: number | string): string {
  return typeof id === 'number' ? `DEVICE recallPreset ${id}\n` : `DEVICE recallPresetByName ${quoteTag(id)}\n`;
}

/** Readable error for a TTP failure line. */
export function describeTtpError(code: string, text: string): string {
  return text ? `-${code} ${text}` : `-${code}`;
}
