// Q-SYS QRC (TCP 1710), pure: JSON-RPC 2.0 messages, each ending in a NUL
// byte. Bytes in, typed messages out; encoding helpers; error-code texts.
import { DelimiterFramer } from '../../src/transport/framing.js';

export type QrcMessage =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number | null; code: number; message: string; data?: unknown }
  /** A method call: server pushes (EngineStatus, ChangeGroup.Poll) carry no id; requests to a Core do. */
  | { kind: 'notification'; method: string; params: unknown; id: number | null }
  | { kind: 'garbage'; text: string; reason: string }
  /** Bytes dropped: no NUL came within the frame limit. */
  | { kind: 'overflow'; bytes: number; times: number; limit: number };

export class QrcParser {
  private readonly framer = new DelimiterFramer(0, 4 * 1024 * 1024);
  /** Bytes thrown away because no NUL came within 4 MiB. */
  get overflowed(): number {
    return this.framer.overflowed;
  }
  push(chunk: Buffer): QrcMessage[] {
    const out = this.framer.push(chunk).flatMap((frame): QrcMessage[] => {
      const text = frame.toString('utf8').trim();
      return text === '' ? [] : [decodeQrc(text)];
    });
    const dropped = this.framer.takeOverflow();
    if (dropped) out.push({ kind: 'overflow', ...dropped });
    return out;
  }
  reset(): void {
    this.framer.reset();
  }
}

/** One frame (without its NUL) → a typed message; never throws. */
export function decodeQrc(text: string): QrcMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { kind: 'garbage', text: text.slice(0, 200), reason: `not JSON: ${(e as Error).message}` };
  }
  if (!isObject(v)) return { kind: 'garbage', text: text.slice(0, 200), reason: 'not a JSON object' };
  const id = typeof v.id === 'number' ? v.id : null;
  if (typeof v.method === 'string') return { kind: 'notification', method: v.method, params: v.params, id };
  if (isObject(v.error)) {
    const code = typeof v.error.code === 'number' ? v.error.code : -32603;
    const message = typeof v.error.message === 'string' ? v.error.message : '';
    return { kind: 'error', id, code, message, data: v.error.data };
  }
  if (id !== null && 'result' in v) return { kind: 'result', id, result: v.result };
  return { kind: 'garbage', text: text.slice(0, 200), reason: 'neither a result, an error nor a method call' };
}

export function encodeQrcRequest(id: number, method: string, params: unknown): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\0`;
}

export function encodeQrcResult(id: number, result: unknown): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, result })}\0`;
}

export function encodeQrcError(id: number | null, code: number, message: string): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\0`;
}

export function encodeQrcNotification(method: string, params: unknown): string {
  return `${JSON.stringify({ jsonrpc: '2.0', method, params })}\0`;
}

/** QRC error codes: JSON-RPC's own and QSC's (QSC QRC error table). */
export const QRC_ERRORS: Record<number, string> = {
  [-32700]: 'parse error',
  [-32600]: 'invalid request',
  [-32601]: 'method not found',
  [-32602]: 'invalid params',
  [-32603]: 'server error',
  2: 'invalid page request id',
  3: 'bad page request',
  4: 'missing file',
  5: 'change groups exhausted',
  6: 'unknown change group',
  7: 'unknown component',
  8: 'unknown control',
  9: 'illegal mixer channel',
  10: 'logon required',
};

export function describeQrcError(code: number, message: string): string {
  const known = QRC_ERRORS[code] ?? 'error';
  return message && message.toLowerCase() !== known ? `${known} (${code}): ${message}` : `${known} (${code})`;
}

export interface EngineStatus {
  state: string;
  designName: string | null;
  designCode: string | null;
  isRedundant: boolean;
  isEmulator: boolean;
  platform: string | null;
}

export function parseEngineStatus(params: unknown): EngineStatus | null {
  if (!isObject(params) || typeof params.State !== 'string') return null;
  return {
    state: params.State,
    designName: typeof params.DesignName === 'string' ? params.DesignName : null,
    designCode: typeof params.DesignCode === 'string' ? params.DesignCode : null,
    isRedundant: params.IsRedundant === true,
    isEmulator: params.IsEmulator === true,
    platform: typeof params.Platform === 'string' ? params.Platform : null,
  };
}

/** How an engine state shows as the device status: only an Active Core runs the design we control. */
export function engineDeviceStatus(e: EngineStatus): { status: 'online' | 'offline' | 'error'; message: string } {
  const design = e.designName ? ` design "${e.designName}"` : '';
  switch (e.state) {
    case 'Active':
      return { status: 'online', message: `Core active,${design || ' no design name'}` };
    case 'Standby':
      return { status: 'offline', message: `Core in Standby (its redundant partner is active)${design}` };
    case 'Idle':
      return { status: 'offline', message: 'Core idle: no design is running' };
    default:
      return { status: 'error', message: `Core engine state "${e.state}"${design}` };
  }
}

export interface ControlChange {
  component: string | null;
  name: string;
  value: unknown;
  string: string | null;
}

/** Controls from a ChangeGroup.Poll push/answer, Control.Get or Component.Get result. */
export function parseControlList(list: unknown, component: string | null = null): ControlChange[] {
  if (!Array.isArray(list)) return [];
  const out: ControlChange[] = [];
  for (const c of list) {
    if (!isObject(c) || typeof c.Name !== 'string') continue;
    out.push({
      component: typeof c.Component === 'string' ? c.Component : component,
      name: c.Name,
      value: c.Value,
      string: typeof c.String === 'string' ? c.String : null,
    });
  }
  return out;
}

/** `{Id, Changes:[…]}` from ChangeGroup.Poll (pushed by AutoPoll, or a Poll result). */
export function parseChangeGroupPoll(params: unknown): { id: string; changes: ControlChange[] } | null {
  if (!isObject(params) || (typeof params.Id !== 'string' && typeof params.Id !== 'number')) return null;
  return { id: String(params.Id), changes: parseControlList(params.Changes) };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
