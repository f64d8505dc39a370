// A Tesira TTP simulator for tests and `simulated = true`, written from Biamp's
// TTP pages only (never from our driver; see docs/drivers/tesira.md for every
// source). Over Telnet it asks for options in rounds and starts the session
// (DO 0x0A, then the banner framed in CR LF) only once every request of every
// round was refused; options asked later in a session (`negotiate`) do not block
// it. Over RS-232 (binding-mock) there is no negotiation and no banner. It plays
// Level, Mute and Standard Mixer blocks, SESSION (verbose, detailedResponse,
// aliases), DEVICE (presets, hostname, serialNumber, version), the documented
// error texts and per-session subscriptions that publish only on a change.
import type { BindingInterface } from '../../src/transport/serial.js';
import { serialSessionDevice } from '../../src/transport/serial-mock.js';
import { SimServer } from '../../src/transport/sim-server.js';
import { BlockModel, type TesiraBlock, VERBS, type Verb } from './simulator-blocks.js';
import {
  BANNER_FRAME,
  DO,
  DONT,
  ERR,
  formatValue,
  IAC,
  LAST_REQUEST,
  NEGOTIATION_ROUNDS,
  okValue,
  parseBool,
  parseNumber,
  publishLine,
  TelnetReader,
  type Token,
  type TtpValue,
  tokenize,
  WILL,
  WONT,
} from './simulator-codec.js';

export { TTP_BANNER } from './simulator-codec.js';
export type { TesiraBlock } from './simulator-blocks.js';

export interface TesiraSimulatorOptions {
  host?: string;
  blocks?: Record<string, TesiraBlock>;
  /** Preset id → values to apply (`Tag/channel` → value; on a Level block a boolean is the mute). */
  presets?: Record<number, Record<string, number | boolean>>;
  /** Preset name → id, for `DEVICE recallPresetByName`. */
  presetNames?: Record<string, number>;
  /** Echo each command line back, as an interactive Telnet server may (not from the manual). */
  echo?: boolean;
  /** Line ending of every line after the banner: CR LF, or CR NUL which the Telnet page says the server may use. */
  lineEnd?: '\r\n' | '\r\0';
  /** Write a subscription's first publish and its `+OK` on one line, as the Subscriptions page prints it. */
  subscribeOkOnOneLine?: boolean;
  /** DEVICE attributes (get). */
  device?: { hostname?: string; serialNumber?: string; version?: string };
}

type Writer = (data: Buffer | string) => void;
interface Subscription {
  block: string;
  attr: string;
  idx: number[];
  last: string;
}

/** Device services of the Device attribute page answered with +OK and no effect (presets are played). */
const QUIET_SERVICES = new Set(['startAudio', 'stopAudio', 'savePreset', 'savePresetByName', 'clearLogs', 'wake', 'sleep']);

class Session {
  private readonly telnet = new TelnetReader();
  private readonly unanswered = new Set<string>();
  private round = 0;
  private started: boolean;
  private buf = '';
  /** `label` (with its attribute) → what was last published for it. */
  readonly subs = new Map<string, Subscription>();
  /** Requests asked after the session started and not refused yet (`negotiate`). */
  readonly lateRequests = new Set<string>();
  verbose = true;
  detailed = false;

  constructor(
    private readonly sim: TesiraSimulator,
    private readonly out: Writer,
    telnet: boolean,
  ) {
    this.started = !telnet;
    if (telnet) this.ask(NEGOTIATION_ROUNDS[0] ?? []);
  }

  get isStarted(): boolean {
    return this.started;
  }

  write(data: Buffer | string): void {
    this.out(data);
  }

  line(text: string): void {
    this.out(`${text}${this.sim.lineEnd}`);
  }

  ask(requests: readonly (readonly [number, number])[], late = false): void {
    for (const [verb, opt] of requests) (late ? this.lateRequests : this.unanswered).add(`${verb}:${opt}`);
    this.out(Buffer.from(requests.flatMap(([verb, opt]) => [IAC, verb, opt])));
  }

  feed(chunk: Buffer): void {
    const data = this.telnet.feed(chunk, (verb, opt) => this.answer(verb, opt));
    // Text before the session starts is ignored: "the session will not go ahead" (Telnet page).
    if (!this.started) return;
    this.buf += Buffer.from(data).toString('utf8').replaceAll('\0', '');
    for (;;) {
      // TTP Subscriptions: "A Line feed or Carriage Return is used to define the end of the command."
      const i = this.buf.search(/[\r\n]/);
      if (i < 0) break;
      const line = this.buf.slice(0, i).trimEnd();
      this.buf = this.buf.slice(i + 1);
      if (line.trim()) this.sim.handleLine(this, line);
    }
  }

  private answer(verb: number, opt: number): void {
    // Only a refusal answers here: WONT answers our DO, DONT our WILL. An acceptance would lead into
    // sub-negotiations the manual does not describe; the simulator does not play them.
    const asked = verb === WONT ? `${DO}:${opt}` : verb === DONT ? `${WILL}:${opt}` : null;
    if (!asked) return;
    this.lateRequests.delete(asked);
    if (this.started || !this.unanswered.delete(asked) || this.unanswered.size > 0) return;
    this.round++;
    const next = NEGOTIATION_ROUNDS[this.round];
    if (next) {
      this.ask(next);
      return;
    }
    this.started = true;
    this.out(Buffer.concat([Buffer.from([IAC, ...LAST_REQUEST]), Buffer.from(BANNER_FRAME, 'latin1')]));
  }
}

export class TesiraSimulator {
  private readonly server: SimServer;
  private readonly sessions = new Set<Session>();
  private readonly models = new Map<string, BlockModel>();
  readonly blocks: Map<string, TesiraBlock>;
  /** Every command line received, for tests. */
  readonly received: string[] = [];
  silent = false;
  readonly lineEnd: string;

  constructor(private readonly o: TesiraSimulatorOptions = {}) {
    this.lineEnd = o.lineEnd ?? '\r\n';
    this.blocks = new Map(
      Object.entries(o.blocks ?? DEFAULT_BLOCKS).map(([k, b]) => [
        k,
        { ...b, channels: { ...b.channels }, ...(b.mutes ? { mutes: { ...b.mutes } } : {}) },
      ]),
    );
    for (const [tag, b] of this.blocks) this.models.set(tag, new BlockModel(b));
    this.server = new SimServer((socket) => {
      this.connections++;
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

  /** TCP connections accepted since the simulator was made. */
  connections = 0;

  /** Sessions that completed negotiation (got the banner). */
  get startedSessions(): number {
    return [...this.sessions].filter((s) => s.isStarted).length;
  }

  /** Option requests asked with `negotiate` that no session has refused yet. */
  get unrefusedLateRequests(): number {
    return [...this.sessions].reduce((n, s) => n + s.lateRequests.size, 0);
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

  /** Changes a value as a wall panel would (a boolean is a mute); subscribers get a publish. */
  setValue(tag: string, channel: number, value: number | boolean): void {
    const model = this.models.get(tag);
    if (!model) return;
    model.write(attrOf(model, value), [channel], value);
    this.flush();
  }

  /** Asks every started Telnet session for an option again (Telnet page: negotiation may happen at any point). */
  negotiate(verb: number, opt: number): void {
    for (const s of this.sessions) if (s.isStarted) s.ask([[verb, opt]], true);
  }

  /**
   * A configuration sent to the system: every session loses its subscriptions and stays connected
   * (TTP Subscriptions: "Subscriptions are lost when the Tesira server is rebooted or a change in
   * configuration is sent to the system").
   */
  pushConfiguration(): void {
    for (const s of this.sessions) s.subs.clear();
  }

  injectRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.write(data);
  }

  handleLine(s: Session, line: string): void {
    this.received.push(line);
    if (this.silent) return;
    if (this.o.echo) s.line(line);
    for (const l of this.execute(s, line, tokenize(line))) s.line(l);
  }

  /** Publishes every subscription whose value changed ("subsequent messaging is suppressed until … the state … changes"). */
  private flush(): void {
    for (const s of this.sessions) {
      for (const [label, sub] of s.subs) {
        const now = this.valueText(sub.block, sub.attr, sub.idx);
        if (now === sub.last) continue;
        sub.last = now;
        s.line(publishLine(s.verbose, label.slice(label.indexOf('\n') + 1), now));
      }
    }
  }

  private valueText(tag: string, attr: string, idx: number[]): string {
    const model = this.models.get(tag) as BlockModel;
    return formatValue(model.read(attr, idx), model.attributes[attr]?.kind === 'int');
  }

  private execute(s: Session, line: string, t: Token[]): string[] {
    const [tag, second, third] = t;
    const params = [ERR.params(line.length)];
    if (!tag) return [];
    if (tag.text === 'SESSION') return this.session(s, t, line);
    if (tag.text === 'DEVICE') return this.device(s, t, line);
    const model = this.models.get(tag.text);
    if (!model) return [ERR.address];
    if (!second) return params;
    if (!VERBS.includes(second.text)) return [ERR.verb(second.at)];
    if (!third) return params;
    const spec = model.attributes[third.text];
    if (!spec) return [ERR.attribute(third.text, model.interfaceName)];
    const verb = second.text as Verb;
    // A command the table does not list for this attribute: the text is not documented; we use the verb error.
    if (!spec.verbs.includes(verb)) return [ERR.verb(second.at)];
    const idx: number[] = [];
    for (const [k, name] of spec.indexes.entries()) {
      const tok = t[3 + k];
      if (!tok) return params;
      const n = parseNumber(tok.text);
      if (n === undefined || !Number.isInteger(n)) return [ERR.value(tok.at)];
      if (n < 1 || n > model.count(name)) return [ERR.index(model.indexName(name), model.count(name), n)];
      idx.push(n);
    }
    const [arg, rate] = t.slice(3 + spec.indexes.length);
    const integer = spec.kind === 'int';
    switch (verb) {
      case 'get':
        return [okValue(s.verbose, formatValue(model.read(third.text, idx), integer))];
      case 'subscribe': {
        const label = arg?.text ?? '';
        void rate; // the minimum interval (ms): publishes here are immediate
        const value = this.valueText(tag.text, third.text, idx);
        // The same label again renews the subscription; another label opens a second one (Subscriptions page).
        s.subs.set(`${tag.text} ${third.text} ${idx.join(' ')}\n${label}`, {
          block: tag.text,
          attr: third.text,
          idx,
          last: value,
        });
        const first = publishLine(s.verbose, label, value);
        return this.o.subscribeOkOnOneLine ? [`${first} +OK`] : [first, '+OK'];
      }
      case 'unsubscribe':
        s.subs.delete(`${tag.text} ${third.text} ${idx.join(' ')}\n${arg?.text ?? ''}`);
        return ['+OK'];
      case 'toggle':
        model.write(third.text, idx, !model.read(third.text, idx));
        break;
      default: {
        if (!arg) return params;
        const v = this.parse(spec.kind, arg.text);
        if (v === undefined) return [ERR.value(arg.at)];
        const base = verb === 'set' ? 0 : (model.read(third.text, idx) as number);
        model.write(third.text, idx, typeof v === 'number' ? base + (verb === 'decrement' ? -v : v) : v);
      }
    }
    queueMicrotask(() => this.flush());
    return ['+OK'];
  }

  private parse(kind: string, text: string): TtpValue | undefined {
    if (kind === 'bool') return parseBool(text);
    if (kind === 'level') return parseNumber(text);
    return kind === 'text' ? text : undefined;
  }

  /** SESSION (TTP Syntax, "Special Addresses"; error text for an unknown attribute from TTP Responses). */
  private session(s: Session, t: Token[], line: string): string[] {
    const [, verb, attr, value] = t;
    if (!verb) return [ERR.params(line.length)];
    if (!['get', 'set', 'toggle'].includes(verb.text)) return [ERR.verb(verb.at)];
    if (!attr) return [ERR.params(line.length)];
    if (attr.text === 'aliases' && verb.text === 'get') {
      const list = `[${['DEVICE', ...this.blocks.keys()].map((a) => JSON.stringify(a)).join(' ')}]`;
      return [okValue(s.verbose, list, 'list')];
    }
    const key = attr.text === 'verbose' ? 'verbose' : attr.text === 'detailedResponse' ? 'detailed' : null;
    if (!key) return [ERR.attribute(attr.text, 'TextSession')];
    if (verb.text === 'get') return [okValue(s.verbose, String(s[key]))];
    if (verb.text === 'toggle') s[key] = !s[key];
    else {
      if (!value) return [ERR.params(line.length)];
      const b = parseBool(value.text);
      if (b === undefined) return [ERR.value(value.at)];
      // detailedResponse is stored only: its effect on replies is not documented on Biamp's pages.
      s[key] = b;
    }
    return ['+OK'];
  }

  /** DEVICE services and attributes (Device attribute page). */
  private device(s: Session, t: Token[], line: string): string[] {
    const [, service, arg] = t;
    if (!service) return [ERR.params(line.length)];
    if (service.text === 'get') {
      if (!arg) return [ERR.params(line.length)];
      const info = { hostname: 'TesiraForte', serialNumber: '00000000', version: '4.7.1.23', ...this.o.device };
      const v = info[arg.text as keyof typeof info];
      return v === undefined ? [ERR.attribute(arg.text, 'DeviceInterface')] : [okValue(s.verbose, JSON.stringify(v))];
    }
    if (QUIET_SERVICES.has(service.text)) return ['+OK'];
    if (service.text !== 'recallPreset' && service.text !== 'recallPresetByName') return [ERR.verb(service.at)];
    if (!arg) return [ERR.params(line.length)];
    const id = service.text === 'recallPreset' ? parseNumber(arg.text) : this.o.presetNames?.[arg.text];
    if (service.text === 'recallPreset' && (id === undefined || !Number.isInteger(id))) return [ERR.value(arg.at)];
    const preset = id === undefined ? undefined : this.o.presets?.[id];
    // The answer to an unknown preset is not documented; this text is ours.
    if (!preset) return ['-ERR preset not found'];
    for (const [key, v] of Object.entries(preset)) {
      const [tag = '', ch] = key.split('/');
      const model = this.models.get(tag);
      if (model) model.write(attrOf(model, v), [Number(ch)], v);
    }
    queueMicrotask(() => this.flush());
    return ['+OK'];
  }
}

/** The attribute a wall-panel change or a preset entry sets: a boolean is a mute, a number a level. */
function attrOf(model: BlockModel, value: number | boolean): string {
  const mixer = model.design.kind === 'mixer';
  if (typeof value === 'boolean') return mixer ? 'inputMute' : 'mute';
  return mixer ? 'inputLevel' : 'level';
}

export const DEFAULT_BLOCKS: Record<string, TesiraBlock> = {
  Level1: { kind: 'level', channels: { 1: -10, 2: -10 } },
  Mute1: { kind: 'mute', channels: { 1: false, 2: false } },
};
