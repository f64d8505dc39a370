// Kramer Protocol 3000, pure: text in, typed messages out, no I/O.
// Host: `#[dest@]COMMAND p1,p2<CR>`. Device: `~[id@]COMMAND params [OK|ERRnnn]<CR><LF>`.
// Route numbering differs per model (layer numbers, the "disconnect" input),
// so those are settings passed in, not constants.

export type P3kLayer = 'av' | 'video' | 'audio';

export type P3kMessage =
  /** `~01@ OK`, `~OK`, `~01@ok`: the handshake answer. */
  | { kind: 'ok'; id: number | null }
  | { kind: 'reply'; id: number | null; command: string; params: string; result: 'ok' | 'error' | null; error: P3kError | null }
  /** Device start message: `Kramer Electronics LTD., VS-88H Version 1.2`. */
  | { kind: 'start'; model: string | null; version: string | null; text: string }
  | { kind: 'garbage'; text: string };

export interface P3kError {
  code: string;
  message: string;
}

export const P3K_ERRORS: Record<string, string> = {
  '001': 'syntax error',
  '002': 'command not available on this device',
  '003': 'parameter out of range',
  '004': 'unauthorized access',
};

const MAX_LINE = 1024;

function error(code: string): P3kError {
  return { code: `ERR${code}`, message: P3K_ERRORS[code] ?? 'unknown error' };
}

export function parseP3kLine(raw: string): P3kMessage | null {
  const line = raw.trim();
  // Blank lines, and our own command echoed back by units with echo on.
  if (line === '' || line.startsWith('#')) return null;
  if (line.length > MAX_LINE || /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(line)) return { kind: 'garbage', text: line.slice(0, 120) };
  let m = /Kramer Electronics LTD\.?,\s*(.*?)\s+Version\s+(\S+)/i.exec(line);
  if (m) return { kind: 'start', model: m[1] || null, version: m[2], text: line };
  // Device-initiated lines may come without the `~` on some firmware: accept both.
  m = /^~?(?:(\d+)@)?\s*(.*)$/.exec(line);
  if (!m) return { kind: 'garbage', text: line.slice(0, 120) };
  if (!line.startsWith('~') && m[1] === undefined && !/^(AV|VID|AUD|ROUTE|V|A)\s/.test(m[2])) {
    return { kind: 'garbage', text: line.slice(0, 120) };
  }
  const id = m[1] !== undefined ? Number(m[1]) : null;
  const body = m[2];
  if (/^ok$/i.test(body)) return { kind: 'ok', id };
  const cm = /^([A-Za-z][A-Za-z0-9-]*\??)(?:\s+(.*))?$/.exec(body);
  if (!cm) return { kind: 'garbage', text: line.slice(0, 120) };
  const command = cm[1].toUpperCase().replace(/\?$/, '');
  let params = (cm[2] ?? '').trim();
  // `~01@ERR 002` / `~01@ERR002`: an error with no command echo.
  const bare = /^ERR\s*(\d{3})$/i.exec(body);
  if (bare) return { kind: 'reply', id, command: 'ERR', params: '', result: 'error', error: error(bare[1]) };
  let result: 'ok' | 'error' | null = null;
  let err: P3kError | null = null;
  const tail = /(?:^|\s)(OK|ok|ERR\s*(\d{3}))$/.exec(params);
  if (tail) {
    params = params.slice(0, tail.index).trim();
    if (tail[2]) {
      result = 'error';
      err = error(tail[2]);
    } else result = 'ok';
  }
  return { kind: 'reply', id, command: command === 'V' ? 'VID' : command === 'A' ? 'AUD' : command, params, result, error: err };
}

/** Byte stream → messages. Lines end in CR LF; a lone CR or LF also ends one. */
export class P3kParser {
  private rest = '';
  push(chunk: Buffer | string): P3kMessage[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const out: P3kMessage[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 13 && i === text.length - 1) break; // maybe half of CR LF
      const msg = parseP3kLine(text.slice(start, i));
      if (msg) out.push(msg);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.rest = text.slice(start);
    if (this.rest.length > MAX_LINE) {
      out.push({ kind: 'garbage', text: this.rest.slice(0, 120) });
      this.rest = '';
    }
    return out;
  }
  reset(): void {
    this.rest = '';
  }
}

// ---- route numbering (per model) ----

export interface RouteNumbering {
  /** `#ROUTE` layer numbers: Kramer manuals say video 1, audio 2; the Companion module uses 0 and 1. */
  layers: { video: number; audio: number };
  /** The input value meaning "disconnected": 0 on most models, inputs + 1 on others (5 = OFF on a 4×4). */
  disconnect: 'zero' | 'inputs_plus_one';
  inputs: number;
}

export interface RouteReport {
  layer: P3kLayer;
  output: number;
  /** null = disconnected. */
  input: number | null;
}

function decodeInput(value: number, n: RouteNumbering): number | null {
  if (value === 0 || (n.disconnect === 'inputs_plus_one' && value === n.inputs + 1)) return null;
  return value;
}
export function encodeInput(input: number | null, n: RouteNumbering): number {
  if (input === null || input === 0) return n.disconnect === 'zero' ? 0 : n.inputs + 1;
  return input;
}

const LAYER_OF_COMMAND: Record<string, P3kLayer> = { VID: 'video', AV: 'av', AUD: 'audio' };

/** Route facts in a reply or a device-initiated line (`VID 1>2,3>4`, `ROUTE 1,2,3`). */
export function routesIn(msg: P3kMessage, n: RouteNumbering): RouteReport[] {
  if (msg.kind !== 'reply' || msg.result === 'error') return [];
  const layer = LAYER_OF_COMMAND[msg.command];
  if (layer) {
    const out: RouteReport[] = [];
    for (const m of msg.params.matchAll(/(\d+)>(\d+)/g)) {
      out.push({ layer, input: decodeInput(Number(m[1]), n), output: Number(m[2]) });
    }
    return out;
  }
  if (msg.command === 'ROUTE') {
    const m = /^(\d+),(\d+),(\d+)$/.exec(msg.params.replace(/\s+/g, ''));
    if (!m) return [];
    const ln = Number(m[1]);
    const l: P3kLayer | null = ln === n.layers.video ? 'video' : ln === n.layers.audio ? 'audio' : null;
    return l ? [{ layer: l, output: Number(m[2]), input: decodeInput(Number(m[3]), n) }] : [];
  }
  return [];
}

/** `IN 4,OUT 4` from `#INFO-IO?`. */
export function parseInfoIo(params: string): { inputs: number; outputs: number } | null {
  const i = /IN\s*(\d+)/i.exec(params);
  const o = /OUT\s*(\d+)/i.exec(params);
  return i && o ? { inputs: Number(i[1]), outputs: Number(o[1]) } : null;
}

// ---- commands ----

export function encodeCommand(command: string, params: (string | number)[] = [], dest?: number): string {
  const head = dest !== undefined ? `#${dest}@${command}` : `#${command}`;
  return `${head}${params.length ? ` ${params.join(',')}` : ''}\r`;
}
export const HANDSHAKE = '#\r';

const COMMAND_OF_LAYER: Record<P3kLayer, string> = { av: 'AV', video: 'VID', audio: 'AUD' };
/** `#VID 1>2`, `#AV 3>7`, `#AUD 1>2`. */
export function encodeSwitch(layer: P3kLayer, input: number | null, output: number, n: RouteNumbering, dest?: number): string {
  return encodeCommand(COMMAND_OF_LAYER[layer], [`${encodeInput(input, n)}>${output}`], dest);
}
/** `#ROUTE layer,dest,src` for one layer. */
export function encodeRoute(
  layer: 'video' | 'audio',
  input: number | null,
  output: number,
  n: RouteNumbering,
  dest?: number,
): string {
  return encodeCommand('ROUTE', [n.layers[layer], output, encodeInput(input, n)], dest);
}
export function encodeSwitchQuery(layer: 'video' | 'audio', output: number, dest?: number): string {
  return encodeCommand(`${COMMAND_OF_LAYER[layer]}?`, [output], dest);
}
export function encodeRouteQuery(layer: 'video' | 'audio', output: number, n: RouteNumbering, dest?: number): string {
  return encodeCommand('ROUTE?', [n.layers[layer], output], dest);
}

/**
 * Whether `msg` answers our set of `output` on `command` (`VID`, `AV`, `AUD` or `ROUTE`).
 * Models differ: the manuals' examples end in ` OK` (`~01@VID 1>2 OK`), but the VS-44DT and
 * VS-62HA command pages show the set answered with the route alone (`~01@VID 1>2`,
 * `~01@ROUTE 1,2,1`) — Kramer VS-44DT manual p.65 and VS-62HA p.68. Both, and an error, settle the request.
 */
export function answersSet(msg: P3kMessage, command: string, output: number, n: RouteNumbering): boolean {
  if (msg.kind !== 'reply' || msg.command !== command) return false;
  if (msg.result !== null) return true;
  return routesIn(msg, n).some((r) => r.output === output);
}
