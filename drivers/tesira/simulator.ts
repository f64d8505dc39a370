// A Tesira TTP simulator for tests and `simulated = true`. Over Telnet it
// sends IAC DO/WILL requests and starts the session (banner) only once every
// one has been refused, as the real server does; over RS-232 (binding-mock)
// there is no negotiation and no banner. It keeps an instance table of Level
// and Mute blocks, answers get/set/toggle/subscribe/unsubscribe and
// `DEVICE recallPreset`, and publishes subscribed values on every change.
import type { BindingInterface } from '../../src/transport/serial.js';
import { serialSessionDevice } from '../../src/transport/serial-mock.js';
import { SimServer } from '../../src/transport/sim-server.js';

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
/** What the server asks at connect: DO TERMINAL-TYPE, WILL ECHO, DO NAWS. */
const NEGOTIATION = [
  [DO, 24],
  [WILL, 1],
  [DO, 31],
] as const;

export const TTP_BANNER = 'Welcome to the Tesira Text Protocol Server...';

export interface TesiraBlock {
  kind: 'level' | 'mute';
  /** Channel index (1-based) → value (dB or boolean). */
  channels: Record<number, number | boolean>;
}

export interface TesiraSimulatorOptions {
  host?: string;
  blocks?: Record<string, TesiraBlock>;
  /** Preset id → values to apply (`Tag/channel` → value). */
  presets?: Record<number, Record<string, number | boolean>>;
  /** Echo each command line back, as an interactive Telnet server may. */
  echo?: boolean;
}

type Writer = (data: Buffer | string) => void;

class Session {
  private readonly unanswered = new Set<string>();
  private started: boolean;
  private buf = '';
  private iac: number[] = [];
  /** `Tag|attribute|index` → label. */
  readonly subs = new Map<string, string>();
  verbose = true;

  constructor(
    private readonly sim: TesiraSimulator,
    readonly write: Writer,
    telnet: boolean,
  ) {
    this.started = !telnet;
    if (telnet) {
      const out: number[] = [];
      for (const [verb, opt] of NEGOTIATION) {
        this.unanswered.add(`${verb}:${opt}`);
        out.push(IAC, verb, opt);
      }
      write(Buffer.from(out));
    }
  }

  get isStarted(): boolean {
    return this.started;
  }

  feed(chunk: Buffer): void {
    const text: number[] = [];
    for (const b of chunk) {
      if (this.iac.length || b === IAC) {
        this.iac.push(b);
        if (this.iac.length === 2 && this.iac[1] === IAC) {
          text.push(IAC);
          this.iac = [];
        } else if (this.iac.length === 3) {
          this.answer(this.iac[1], this.iac[2]);
          this.iac = [];
        }
        continue;
      }
      text.push(b);
    }
    // The session does not go ahead until every option was refused; text before that is ignored.
    if (!this.started) return;
    this.buf += Buffer.from(text).toString('utf8');
    for (;;) {
      const i = this.buf.search(/[\r\n]/);
      if (i < 0) break;
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (line) this.sim.handleLine(this, line);
    }
  }

  private answer(verb: number, opt: number): void {
    // Only a refusal (WONT to our DO, DONT to our WILL) lets the session start.
    if (verb === WONT) this.unanswered.delete(`${DO}:${opt}`);
    if (verb === DONT) this.unanswered.delete(`${WILL}:${opt}`);
    if (!this.started && this.unanswered.size === 0) {
      this.started = true;
      this.write(`${TTP_BANNER}\r\n`);
    }
  }
}

export class TesiraSimulator {
  private readonly server: SimServer;
  private readonly sessions = new Set<Session>();
  readonly blocks: Map<string, TesiraBlock>;
  /** Every command line received, for tests. */
  readonly received: string[] = [];
  silent = false;

  constructor(private readonly o: TesiraSimulatorOptions = {}) {
    this.blocks = new Map(
      Object.entries(o.blocks ?? DEFAULT_BLOCKS).map(([k, b]) => [k, { kind: b.kind, channels: { ...b.channels } }]),
    );
    this.server = new SimServer((socket) => {
      const session = new Session(this, (d) => !socket.destroyed && socket.write(d), true);
      this.sessions.add(session);
      socket.on('close', () => this.sessions.delete(session));
      socket.on('data', (c) => session.feed(c));
    }, o.host ?? '127.0.0.1');
  }

  /** Listens (port 0 = ephemeral, or the port it had before a `stop`). */
  async start(port = this.server.port): Promise<number> {
    return this.server.listen(port);
  }

  get listeningPort(): number {
    return this.server.port;
  }

  /** Sessions that completed negotiation (got the banner). */
  get startedSessions(): number {
    return [...this.sessions].filter((s) => s.isStarted).length;
  }

  async stop(): Promise<void> {
    this.sessions.clear();
    await this.server.close(); // drops every TCP client
  }

  /** Serves TTP on a binding-mock serial port at `path`: a binding for that SerialLink only. */
  serialBinding(path: string): BindingInterface {
    return serialSessionDevice(path, {
      open: (peer) => {
        // TTP text is UTF-8 (labels, names); the serial peer takes strings as latin1.
        const session = new Session(this, (d) => peer.send(typeof d === 'string' ? Buffer.from(d, 'utf8') : d), false);
        this.sessions.add(session);
        return session;
      },
      data: (s, d) => s.feed(d),
      close: (s) => this.sessions.delete(s),
    }).binding;
  }

  /** Changes a value as a wall panel would; subscribers get a publish. */
  setValue(tag: string, channel: number, value: number | boolean): void {
    const b = this.blocks.get(tag);
    if (!b) return;
    b.channels[channel] = value;
    this.publish(tag, b.kind, channel);
  }

  injectRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.write(data);
  }

  handleLine(s: Session, line: string): void {
    this.received.push(line);
    if (this.silent) return;
    if (this.o.echo) s.write(`${line}\r\n`);
    s.write(`${this.execute(s, line)}\r\n`);
  }

  private execute(s: Session, line: string): string {
    const t = tokenize(line);
    const need = (n: number) => (t.length < n ? `-ERR Parse error at ${line.length + 1}: not enough parameters supplied` : null);
    const badVerb = `-ERR Parse error at ${t[0].length + 2}: verb was not one of the commands supported by Services`;
    if (t[0] === 'SESSION') {
      if (t[1] === 'set' && t[2] === 'verbose') {
        s.verbose = t[3] !== 'false';
        return '+OK';
      }
      return t[1] === 'get' ? '+OK "list":[]' : badVerb;
    }
    if (t[0] === 'DEVICE') {
      if (t[1] !== 'recallPreset' && t[1] !== 'recallPresetByName') return badVerb;
      const missing = need(3);
      if (missing) return missing;
      const preset = this.o.presets?.[Number(t[2])];
      // The exact text for an unknown preset is not documented; this one is ours.
      if (!preset) return '-ERR preset not found';
      for (const [key, v] of Object.entries(preset)) {
        const [tag, ch] = key.split('/');
        this.setValue(tag, Number(ch), v);
      }
      return '+OK';
    }
    const missing = need(4);
    if (missing) return missing;
    const [tag, verb, attr, idxText] = t;
    const block = this.blocks.get(tag);
    if (!block || attr !== block.kind) return '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}';
    const idx = Number(idxText);
    if (!(idx in block.channels)) return '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}';
    const key = `${tag}|${attr}|${idx}`;
    const fmt = (v: number | boolean) => (typeof v === 'number' ? v.toFixed(6) : String(v));
    switch (verb) {
      case 'get':
        return s.verbose ? `+OK "value":${fmt(block.channels[idx])}` : `+OK ${fmt(block.channels[idx])}`;
      case 'set': {
        const m = need(5);
        if (m) return m;
        const v = block.kind === 'mute' ? t[4] === 'true' : Math.max(-100, Math.min(12, Number(t[4])));
        if (typeof v === 'number' && !Number.isFinite(v)) return `-ERR Parse error at ${line.length}: invalid value`;
        block.channels[idx] = v;
        queueMicrotask(() => this.publish(tag, attr, idx));
        return '+OK';
      }
      case 'toggle':
        if (block.kind !== 'mute') return badVerb;
        block.channels[idx] = !block.channels[idx];
        queueMicrotask(() => this.publish(tag, attr, idx));
        return '+OK';
      case 'subscribe': {
        const label = t[4] ?? key;
        s.subs.set(key, label);
        s.write(`! "publishToken":"${label}" "value":${fmt(block.channels[idx])}\r\n`);
        return '+OK';
      }
      case 'unsubscribe':
        s.subs.delete(key);
        return '+OK';
      default:
        return badVerb;
    }
  }

  private publish(tag: string, attr: string, idx: number): void {
    const key = `${tag}|${attr}|${idx}`;
    const v = this.blocks.get(tag)?.channels[idx];
    if (v === undefined) return;
    const text = typeof v === 'number' ? v.toFixed(6) : String(v);
    for (const s of this.sessions) {
      const label = s.subs.get(key);
      if (label) s.write(`! "publishToken":"${label}" "value":${text}\r\n`);
    }
  }
}

function tokenize(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
}

export const DEFAULT_BLOCKS: Record<string, TesiraBlock> = {
  Level1: { kind: 'level', channels: { 1: -10, 2: -10 } },
  Mute1: { kind: 'mute', channels: { 1: false, 2: false } },
};
