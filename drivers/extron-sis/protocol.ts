// Extron SIS (Simple Instruction Set), pure: text in, typed messages out.
// Commands need no terminator; every response ends with CR LF. Numbers are
// padded to the model's width (`Out03` or `Out003`), so any width is accepted.
// `Password:` arrives without a line end, so it is recognised in the remainder.

export type SisLayer = 'av' | 'video' | 'audio';

export type SisMessage =
  | { kind: 'tie'; output: number; input: number; layer: SisLayer }
  /** `In05 All`: one input to every output. */
  | { kind: 'tie_all'; input: number; layer: SisLayer }
  | { kind: 'qik' }
  | { kind: 'preset'; op: 'recall' | 'save'; preset: number }
  | { kind: 'verbose'; mode: number }
  | { kind: 'size'; videoInputs: number; videoOutputs: number; audioInputs: number | null; audioOutputs: number | null }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'banner'; text: string; model: string | null; firmware: string | null }
  | { kind: 'password_prompt' }
  | { kind: 'login'; role: string }
  /** A bare value: a read tie in untagged mode (`07`), the firmware (`1.23`), the part number. */
  | { kind: 'value'; text: string }
  /** Mute, lockout and other notices we do not act on, and lines we do not know. */
  | { kind: 'other'; text: string }
  /** A line with control bytes or absurd length: a desynchronised or wrong device. */
  | { kind: 'garbage'; text: string };

export const SIS_ERRORS: Record<string, string> = {
  E01: 'invalid input number',
  E06: 'invalid input change',
  E10: 'invalid command',
  E11: 'invalid preset number',
  E12: 'invalid output number',
  E13: 'invalid value',
  E14: 'illegal command for this configuration (breakaway output: read video and audio separately)',
  E17: 'timeout',
  E21: 'invalid room number',
  E22: 'busy',
  E24: 'privilege violation',
  E25: 'device not present',
  E26: 'maximum number of connections exceeded',
  E27: 'invalid event number',
  E28: 'bad filename or file not found',
};

const LAYER_WORDS: Record<string, SisLayer> = { All: 'av', Vid: 'video', RGB: 'video', Aud: 'audio' };
const MAX_LINE = 512;

export function parseSisLine(line: string): SisMessage | null {
  const t = line.trim();
  if (t === '') return null;
  if (t.length > MAX_LINE || /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(t)) return { kind: 'garbage', text: t.slice(0, 120) };
  let m: RegExpExecArray | null;
  if ((m = /^Out(\d+) In(\d+) (All|Vid|RGB|Aud)$/.exec(t))) {
    return { kind: 'tie', output: Number(m[1]), input: Number(m[2]), layer: LAYER_WORDS[m[3]] };
  }
  if ((m = /^In(\d+) (All|Vid|RGB|Aud)$/.exec(t))) return { kind: 'tie_all', input: Number(m[1]), layer: LAYER_WORDS[m[2]] };
  if (t === 'Qik') return { kind: 'qik' };
  if ((m = /^(Rpr|Spr)(\d+)$/.exec(t))) return { kind: 'preset', op: m[1] === 'Rpr' ? 'recall' : 'save', preset: Number(m[2]) };
  if ((m = /^Vrb(\d)$/.exec(t))) return { kind: 'verbose', mode: Number(m[1]) };
  if ((m = /^V(\d+)X(\d+)(?: A(\d+)X(\d+))?$/.exec(t))) {
    return {
      kind: 'size',
      videoInputs: Number(m[1]),
      videoOutputs: Number(m[2]),
      audioInputs: m[3] ? Number(m[3]) : null,
      audioOutputs: m[4] ? Number(m[4]) : null,
    };
  }
  if ((m = /^(E\d\d)$/.exec(t))) return { kind: 'error', code: m[1], message: SIS_ERRORS[m[1]] ?? 'unknown error' };
  if (/Extron Electronics/i.test(t)) {
    // "(c) Copyright 2026, Extron Electronics, DXP 88 HDMI, V1.05, 60-1080-01"
    const parts = t.split(',').map((s) => s.trim());
    const i = parts.findIndex((p) => /^Extron Electronics$/i.test(p));
    return { kind: 'banner', text: t, model: parts[i + 1] || null, firmware: parts[i + 2]?.replace(/^V/, '') || null };
  }
  if ((m = /^Login (\w+)$/.exec(t))) return { kind: 'login', role: m[1] };
  if (/^Password:$/.test(t)) return { kind: 'password_prompt' };
  if (/^[\d.]+$/.test(t) || /^\d{2}-\d{3,4}-\d{2}$/.test(t)) return { kind: 'value', text: t };
  return { kind: 'other', text: t };
}

/** Byte stream → messages; split and merged chunks give the same result. */
export class SisParser {
  private rest = '';

  push(chunk: Buffer | string): SisMessage[] {
    const text = this.rest + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const out: SisMessage[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR at the very end may be the first half of CR LF: wait for the next chunk.
      if (c === 13 && i === text.length - 1) break;
      const msg = parseSisLine(text.slice(start, i));
      if (msg) out.push(msg);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.rest = text.slice(start);
    // The password prompt ends without a line break.
    if (this.rest.trim() === 'Password:') {
      out.push({ kind: 'password_prompt' });
      this.rest = '';
    } else if (this.rest.length > MAX_LINE) {
      out.push({ kind: 'garbage', text: this.rest.slice(0, 120) });
      this.rest = '';
    }
    return out;
  }

  reset(): void {
    this.rest = '';
  }
}

// ---- commands (numbers are sent unpadded; every model accepts 1–3 digits) ----

const TIE_CHAR: Record<SisLayer, string> = { av: '!', video: '%', audio: '$' };

/** `1*3!` ties input 1 to output 3; input 0 unties. */
export function encodeTie(input: number, output: number, layer: SisLayer): string {
  return `${input}*${output}${TIE_CHAR[layer]}`;
}
export function encodeReadTie(output: number, layer: SisLayer): string {
  return `${output}${TIE_CHAR[layer]}`;
}
export const encodePresetRecall = (n: number): string => `${n}.`;
export const encodePresetSave = (n: number): string => `${n},`;
/** `Esc 3CV`: verbose + tagged responses, so change notices reach a Telnet session. */
export const encodeVerbose = (mode: 0 | 1 | 2 | 3): string => `\x1b${mode}CV`;
export const INFO = 'I';
/** Firmware query; Extron's recommended keep-alive. */
export const FIRMWARE = 'Q';
