// A Q-SYS Core QRC simulator (TCP, JSON-RPC 2.0, NUL-terminated) for tests
// and `simulated = true`: EngineStatus on connect, optional Logon, Named
// Controls and Components, change groups with AutoPoll pushes, snapshots
// (component controls `load.N`), QRC error codes, and the 60 s idle close.
// Written from the QRC pages (QRC_Overview: TCP 1710, JSON-RPC 2.0, each
// message ends with a NUL byte; QRC_Commands: methods and the error table),
// not from the driver: it has its own framing and encoders.
import type net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { SimServer, writeInPieces } from '../../src/transport/sim-server.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const frame = (msg: Record<string, unknown>) => `${JSON.stringify({ jsonrpc: '2.0', ...msg })}\0`;
const encodeQrcResult = (id: number | string, result: unknown) => frame({ id, result });
const encodeQrcError = (id: number | string | null, code: number, message: string) => frame({ id, error: { code, message } });
const encodeQrcNotification = (method: string, params: unknown) => frame({ method, params });

type QrcMessage =
  | { kind: 'request'; id: number | string | null; method: string; params: unknown }
  | { kind: 'other' }
  | { kind: 'garbage' };

/** The Core's reader: NUL-terminated JSON; a request has a method (and an id unless it is a notification). */
class QrcReader {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  push(chunk: Buffer): QrcMessage[] {
    this.text += this.decoder.write(chunk);
    const parts = this.text.split('\0');
    this.text = parts.pop() ?? '';
    if (this.text.length > 4 * 1024 * 1024) this.text = '';
    const out: QrcMessage[] = [];
    for (const part of parts) {
      if (part.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(part);
      } catch {
        out.push({ kind: 'garbage' });
        continue;
      }
      if (!isObject(v)) out.push({ kind: 'garbage' });
      else if (typeof v.method === 'string') {
        const id = typeof v.id === 'number' || typeof v.id === 'string' ? v.id : null;
        out.push({ kind: 'request', id, method: v.method, params: v.params });
      } else out.push({ kind: 'other' });
    }
    return out;
  }
}

export interface QrcSimControl {
  value: number;
  /** 'gain' values are dB (-100…20); 'boolean' values are 0/1. */
  kind: 'gain' | 'boolean' | 'trigger';
}

export interface QrcSimulatorOptions {
  host?: string;
  /** Set both to require `Logon` before anything else (error 10 otherwise). */
  user?: string;
  password?: string;
  named?: Record<string, QrcSimControl>;
  components?: Record<string, Record<string, QrcSimControl>>;
  /** Snapshot bank component name → snapshot number → values it recalls (control key → value). */
  snapshots?: Record<string, Record<number, Record<string, number>>>;
  designName?: string;
  /** The Core closes a socket that has been silent this long (QRC: 60 s). */
  idleTimeoutMs?: number;
  /** Split every write into random pieces. */
  chunked?: boolean;
}

interface Group {
  keys: Set<string>;
  sent: Map<string, number>;
  timer: NodeJS.Timeout | null;
}

interface Session {
  socket: net.Socket;
  parser: QrcReader;
  loggedOn: boolean;
  groups: Map<string, Group>;
  idle: NodeJS.Timeout | null;
}

/** Control key: `Name` for a Named Control, `Component/Name` for a component control. */
export const controlKey = (component: string | null, name: string): string => (component ? `${component}/${name}` : name);

export class QrcSimulator {
  private readonly server: SimServer;
  private readonly sessions = new Set<Session>();
  readonly controls = new Map<string, QrcSimControl>();
  private readonly componentNames = new Set<string>();
  engineState = 'Active';
  /** Every request (method, params) received, for tests. */
  readonly received: { method: string; params: unknown }[] = [];
  /** When true, requests are read but never answered (a hung Core). */
  silent = false;

  constructor(private readonly o: QrcSimulatorOptions = {}) {
    for (const [n, c] of Object.entries(o.named ?? {})) this.controls.set(n, { ...c });
    for (const [comp, ctls] of Object.entries(o.components ?? {})) {
      this.componentNames.add(comp);
      for (const [n, c] of Object.entries(ctls)) this.controls.set(controlKey(comp, n), { ...c });
    }
    for (const [bank, snaps] of Object.entries(o.snapshots ?? {})) {
      this.componentNames.add(bank);
      for (const n of Object.keys(snaps)) this.controls.set(controlKey(bank, `load.${n}`), { value: 0, kind: 'trigger' });
    }
    this.server = new SimServer((s) => this.accept(s), o.host ?? '127.0.0.1');
  }

  /** Listens (port 0 = ephemeral, or the port it had before a `stop`). */
  async start(port = this.server.port): Promise<number> {
    return this.server.listen(port);
  }

  get listeningPort(): number {
    return this.server.port;
  }

  get clients(): number {
    return this.sessions.size;
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) this.drop(s);
    await this.server.close();
  }

  /** Changes a control as the design (or a touch panel) would; AutoPoll reports it. */
  setControl(key: string, value: number): void {
    const c = this.controls.get(key);
    if (c) c.value = value;
  }

  /** Changes the engine state and pushes EngineStatus to every client. */
  setEngineState(state: string): void {
    this.engineState = state;
    for (const s of this.sessions) this.write(s, encodeQrcNotification('EngineStatus', this.engineStatus()));
  }

  /** Sends raw bytes to every client. */
  injectRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.socket.write(data);
  }

  private engineStatus(): Record<string, unknown> {
    return {
      State: this.engineState,
      DesignName: this.o.designName ?? 'Room Agent Demo',
      DesignCode: 'qX1sim',
      IsRedundant: false,
      IsEmulator: true,
    };
  }

  private accept(socket: net.Socket): void {
    const s: Session = { socket, parser: new QrcReader(), loggedOn: !this.o.user, groups: new Map(), idle: null };
    this.sessions.add(s);
    socket.on('close', () => this.drop(s));
    socket.on('data', (chunk) => {
      this.touch(s);
      for (const m of s.parser.push(chunk)) this.handle(s, m);
    });
    this.touch(s);
    this.write(s, encodeQrcNotification('EngineStatus', this.engineStatus()));
  }

  private touch(s: Session): void {
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => s.socket.destroy(), this.o.idleTimeoutMs ?? 60_000);
  }

  private drop(s: Session): void {
    if (s.idle) clearTimeout(s.idle);
    for (const g of s.groups.values()) if (g.timer) clearInterval(g.timer);
    s.groups.clear();
    s.socket.destroy();
    this.sessions.delete(s);
  }

  private handle(s: Session, m: QrcMessage): void {
    if (m.kind === 'garbage') {
      this.write(s, encodeQrcError(null, -32700, 'Parse error'));
      return;
    }
    if (m.kind !== 'request') return; // results/errors are not requests
    this.received.push({ method: m.method, params: m.params });
    if (this.silent) return;
    this.respond(s, m.id, m.method, m.params);
  }

  private respond(s: Session, id: number | string | null, method: string, params: unknown): void {
    const reply = (result: unknown) => {
      if (id !== null) this.write(s, encodeQrcResult(id, result));
    };
    const fail = (code: number, message: string) => this.write(s, encodeQrcError(id, code, message));
    if (method === 'Logon') {
      const p = isObject(params) ? params : {};
      if (this.o.user && (p.User !== this.o.user || p.Password !== this.o.password)) {
        fail(10, 'Logon required');
        return;
      }
      s.loggedOn = true;
      reply(true);
      return;
    }
    if (!s.loggedOn) {
      fail(10, 'Logon required');
      return;
    }
    try {
      const result = this.run(s, method, params);
      reply(result);
    } catch (e) {
      const err = e as { code?: number; message: string };
      fail(err.code ?? -32603, err.message);
    }
  }

  private run(s: Session, method: string, params: unknown): unknown {
    const p = isObject(params) ? params : {};
    switch (method) {
      case 'NoOp':
        return true;
      case 'StatusGet':
        return { ...this.engineStatus(), Platform: 'Core 110f (simulated)', Status: { Code: 0, String: 'OK' } };
      case 'Control.Get': {
        const names = Array.isArray(params) ? params : [];
        return names.map((n) => this.describe(null, String(n)));
      }
      case 'Control.Set':
        this.set(null, String(p.Name), p.Value, p.Ramp);
        return this.describe(null, String(p.Name));
      case 'Component.Get': {
        const comp = this.component(p.Name);
        const ctls = Array.isArray(p.Controls) ? p.Controls : [];
        return { Name: comp, Controls: ctls.map((c) => this.describe(comp, String(isObject(c) ? c.Name : c), false)) };
      }
      case 'Component.Set': {
        const comp = this.component(p.Name);
        const ctls = Array.isArray(p.Controls) ? p.Controls : [];
        for (const c of ctls) if (isObject(c)) this.set(comp, String(c.Name), c.Value, c.Ramp);
        return true;
      }
      case 'Component.GetComponents':
        return [...this.componentNames].map((Name) => ({ Name, Type: 'simulated', Properties: [] }));
      case 'ChangeGroup.AddControl': {
        const g = this.group(s, p.Id, true);
        for (const n of Array.isArray(p.Controls) ? p.Controls : []) g.keys.add(this.known(null, String(n)));
        return true;
      }
      case 'ChangeGroup.AddComponentControl': {
        const g = this.group(s, p.Id, true);
        const c = isObject(p.Component) ? p.Component : {};
        const comp = this.component(c.Name);
        for (const x of Array.isArray(c.Controls) ? c.Controls : []) {
          g.keys.add(this.known(comp, String(isObject(x) ? x.Name : x)));
        }
        return true;
      }
      case 'ChangeGroup.Poll':
        return { Id: String(p.Id), Changes: this.changes(this.group(s, p.Id, false)) };
      case 'ChangeGroup.AutoPoll': {
        const g = this.group(s, p.Id, false);
        const rate = typeof p.Rate === 'number' && p.Rate > 0 ? p.Rate : 1;
        if (g.timer) clearInterval(g.timer);
        const gid = String(p.Id);
        g.timer = setInterval(() => {
          const changes = this.changes(g);
          if (changes.length) this.write(s, encodeQrcNotification('ChangeGroup.Poll', { Id: gid, Changes: changes }));
        }, rate * 1000);
        return true;
      }
      case 'ChangeGroup.Destroy': {
        const g = this.group(s, p.Id, false);
        if (g.timer) clearInterval(g.timer);
        s.groups.delete(String(p.Id));
        return true;
      }
      case 'ChangeGroup.Invalidate':
        this.group(s, p.Id, false).sent.clear();
        return true;
      default:
        throw Object.assign(new Error('Method not found'), { code: -32601 });
    }
  }

  private component(name: unknown): string {
    if (typeof name !== 'string' || !this.componentNames.has(name)) {
      throw Object.assign(new Error(`Unknown component "${String(name)}"`), { code: 7 });
    }
    return name;
  }

  private known(comp: string | null, name: string): string {
    const key = controlKey(comp, name);
    if (!this.controls.has(key)) throw Object.assign(new Error(`Unknown control "${name}"`), { code: 8 });
    return key;
  }

  private group(s: Session, id: unknown, create: boolean): Group {
    if (typeof id !== 'string' && typeof id !== 'number') throw Object.assign(new Error('Id required'), { code: -32602 });
    let g = s.groups.get(String(id));
    if (!g && create) s.groups.set(String(id), (g = { keys: new Set(), sent: new Map(), timer: null }));
    if (!g) throw Object.assign(new Error(`Unknown change group "${id}"`), { code: 6 });
    return g;
  }

  private set(comp: string | null, name: string, value: unknown, ramp: unknown): void {
    const key = this.known(comp, name);
    const c = this.controls.get(key)!;
    const v = typeof value === 'boolean' ? Number(value) : Number(value);
    if (!Number.isFinite(v)) throw Object.assign(new Error('Value must be a number'), { code: -32602 });
    if (c.kind === 'trigger') {
      this.recall(comp, name);
      return;
    }
    const target = c.kind === 'gain' ? Math.max(-100, Math.min(20, v)) : v ? 1 : 0;
    const rampMs = typeof ramp === 'number' && ramp > 0 ? ramp * 1000 : 0;
    // A ramp ends at the target; intermediate steps are not simulated.
    if (rampMs) setTimeout(() => (c.value = target), rampMs).unref();
    else c.value = target;
  }

  private recall(bank: string | null, name: string): void {
    const n = Number(name.slice('load.'.length));
    const values = bank ? this.o.snapshots?.[bank]?.[n] : undefined;
    for (const [key, v] of Object.entries(values ?? {})) this.setControl(key, v);
  }

  private describe(comp: string | null, name: string, withComponent = true): Record<string, unknown> {
    const c = this.controls.get(this.known(comp, name))!;
    return {
      ...(comp && withComponent ? { Component: comp } : {}),
      Name: name,
      Value: c.value,
      String: c.kind === 'gain' ? `${c.value.toFixed(1)}dB` : c.value ? 'true' : 'false',
      Position: c.kind === 'gain' ? (c.value + 100) / 120 : c.value,
    };
  }

  private changes(g: Group): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const key of g.keys) {
      const c = this.controls.get(key)!;
      if (g.sent.get(key) === c.value) continue;
      g.sent.set(key, c.value);
      const slash = key.indexOf('/');
      out.push(slash < 0 ? this.describe(null, key) : this.describe(key.slice(0, slash), key.slice(slash + 1)));
    }
    return out;
  }

  private write(s: Session, text: string): void {
    if (s.socket.destroyed) return;
    const bytes = Buffer.from(text, 'utf8');
    if (!this.o.chunked) {
      s.socket.write(bytes);
      return;
    }
    writeInPieces(s.socket, bytes, 23);
  }
}
