// vMix TCP API (port 8099), pure: bytes in, typed messages out, no I/O.
// Responses are `<COMMAND> <OK|ER|length> [text]\r\n`; when the status is a
// number, exactly that many *bytes* follow (the XML document, with its own
// trailing CRLF), and they may be split across TCP chunks.

export type VmixMessage =
  | { kind: 'status'; command: string; ok: boolean; text: string }
  | { kind: 'data'; command: string; text: string; body: string }
  /** A line that does not follow the response grammar (garbage, noise). */
  | { kind: 'garbage'; line: string };

/** Largest body we accept; a bigger declared length is treated as garbage. */
const MAX_BODY = 16 * 1024 * 1024;

export class VmixParser {
  private buf: Buffer = Buffer.alloc(0);
  /** Set while we are collecting the bytes of a length-prefixed response. */
  private pendingBody: { command: string; text: string; length: number } | null = null;

  push(chunk: Buffer): VmixMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: VmixMessage[] = [];
    for (;;) {
      if (this.pendingBody) {
        if (this.buf.length < this.pendingBody.length) break;
        const body = this.buf.subarray(0, this.pendingBody.length).toString('utf8');
        this.buf = this.buf.subarray(this.pendingBody.length);
        out.push({ kind: 'data', command: this.pendingBody.command, text: this.pendingBody.text, body: trimCrlf(body) });
        this.pendingBody = null;
        continue;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) {
        // A line longer than any real response line is garbage; drop it.
        if (this.buf.length > 64 * 1024) {
          out.push({ kind: 'garbage', line: `${this.buf.length} bytes without a line end` });
          this.buf = Buffer.alloc(0);
        }
        break;
      }
      const line = this.buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      this.buf = this.buf.subarray(nl + 1);
      const msg = parseLine(line);
      if (msg === null) continue;
      if ('length' in msg) this.pendingBody = msg;
      else out.push(msg);
    }
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
    this.pendingBody = null;
  }
}

function trimCrlf(s: string): string {
  return s.endsWith('\r\n') ? s.slice(0, -2) : s;
}

/** One response line; `null` for an empty line; `{length}` when a body follows. */
function parseLine(line: string): VmixMessage | { command: string; text: string; length: number } | null {
  if (line === '') return null;
  const m = /^([A-Z]+) (OK|ER|\d+)(?: (.*))?$/.exec(line);
  if (!m) return { kind: 'garbage', line };
  const [, command, status, text = ''] = m;
  if (status === 'OK' || status === 'ER') return { kind: 'status', command, ok: status === 'OK', text };
  const length = Number(status);
  if (!Number.isSafeInteger(length) || length > MAX_BODY) return { kind: 'garbage', line };
  return { command, text, length };
}

/** Tally per input: index 0 is input 1. */
export type TallyLight = 'off' | 'program' | 'preview';

/** `TALLY OK 0121` → ['off','program','preview','program']; unknown digits count as off. */
export function parseTally(digits: string): TallyLight[] {
  const out: TallyLight[] = [];
  for (const d of digits.trim()) out.push(d === '1' ? 'program' : d === '2' ? 'preview' : 'off');
  return out;
}

/** First input (1-based) lit program / preview in a tally, or null. */
export function tallyInputs(t: TallyLight[]): { program: number | null; preview: number | null } {
  const p = t.indexOf('program');
  const v = t.indexOf('preview');
  return { program: p < 0 ? null : p + 1, preview: v < 0 ? null : v + 1 };
}

export interface VmixInput {
  number: number;
  key: string;
  title: string;
  type: string;
}

export interface VmixXmlState {
  version: string | null;
  inputs: VmixInput[];
  /** `<active>`: the input on program. */
  program: number | null;
  preview: number | null;
}

/** Reads what we need from the `XML` document; tolerant of unknown elements. */
export function parseVmixXml(xml: string): VmixXmlState {
  const inputs: VmixInput[] = [];
  const inputsBlock = /<inputs>([\s\S]*?)<\/inputs>/.exec(xml)?.[1] ?? '';
  for (const m of inputsBlock.matchAll(/<input\b([^>]*?)(\/>|>)/g)) {
    const attrs = parseAttrs(m[1]);
    const number = Number(attrs.number);
    if (!Number.isInteger(number) || number < 1) continue;
    inputs.push({ number, key: attrs.key ?? '', title: attrs.title ?? '', type: attrs.type ?? '' });
  }
  return {
    version: /<version>([^<]*)<\/version>/.exec(xml)?.[1] ?? null,
    inputs,
    program: intElement(xml, 'active'),
    preview: intElement(xml, 'preview'),
  };
}

function intElement(xml: string, name: string): number | null {
  const v = new RegExp(`<${name}>(\\d+)</${name}>`).exec(xml)?.[1];
  return v === undefined ? null : Number(v);
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z_][\w-]*)="([^"]*)"/g)) out[m[1]] = decodeXml(m[2]);
  return out;
}

export function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

export function encodeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * vMix functions this driver sends. vMix is reported to answer `FUNCTION OK`
 * even for unknown names, so we refuse names outside this list instead of
 * trusting the reply (vMix reportedly answers FUNCTION OK even for an unknown function name; check names against the vMix shortcut function reference).
 */
export const VMIX_FUNCTIONS = new Set([
  'Cut',
  'Fade',
  'CutDirect',
  'ActiveInput',
  'PreviewInput',
  'SetOutput2',
  'SetOutput3',
  'SetOutput4',
  'SetOutputExternal2',
  'ScriptStart',
]);

/** `FUNCTION PreviewInput Input=5\r\n`; the query uses HTTP API syntax, URL-encoded. */
export function encodeFunction(name: string, params: Record<string, string | number> = {}): string {
  if (!VMIX_FUNCTIONS.has(name)) throw new Error(`unknown vMix function "${name}"`);
  const query = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `FUNCTION ${name}${query ? ` ${query}` : ''}\r\n`;
}

/** Parses a FUNCTION request line (simulator side): name and decoded query. */
export function decodeFunction(rest: string): { name: string; params: Record<string, string> } {
  const sp = rest.indexOf(' ');
  const name = sp < 0 ? rest : rest.slice(0, sp);
  const params: Record<string, string> = {};
  if (sp >= 0) {
    for (const pair of rest.slice(sp + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const k = eq < 0 ? pair : pair.slice(0, eq);
      const v = eq < 0 ? '' : pair.slice(eq + 1);
      params[safeDecode(k)] = safeDecode(v);
    }
  }
  return { name, params };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
