// A protocol-faithful Extron SIS matrix switcher (DXP / CrossPoint style) on
// Telnet (loopback TCP) and on a binding-mock serial port: Telnet option
// offers, copyright banner, optional password, verbose modes (Telnet default
// 0, RS-232 default 1), ties `!` `%` `&` `$`, reads, quick ties (`Qik`),
// presets, E-codes, front-panel notices and the 300 s idle timeout.
import type net from 'node:net';
import type { Logger } from 'pino';
import { TelnetFilter } from '../../src/transport/telnet.js';
import type { BindingInterface } from '../../src/transport/serial.js';
import { type SerialDevice, serialSessionDevice } from '../../src/transport/serial-mock.js';
import { SimServer } from '../../src/transport/sim-server.js';

export interface SisSimOptions {
  host?: string;
  port?: number;
  inputs?: number;
  outputs?: number;
  model?: string;
  /** Digits in responses: 2 on CrossPoint/DXP (`Out03`), 3 on Matrix 12800 (`Out003`). */
  pad?: number;
  password?: string;
  /** Telnet idle timeout (ms); Extron's default is 300 s. */
  idleTimeoutMs?: number;
  presets?: number;
  logger?: Logger;
}

interface Session {
  kind: 'telnet' | 'serial';
  write(text: string | Buffer): void;
  close(): void;
  verbose: number;
  authed: boolean;
  buf: string;
  telnet: TelnetFilter | null;
  idle: NodeJS.Timeout | null;
}

type Layer = 'av' | 'video' | 'audio';
const LAYER_OF: Record<string, Layer> = { '!': 'av', '%': 'video', '&': 'video', $: 'audio' };
const WORD: Record<Layer, string> = { av: 'All', video: 'Vid', audio: 'Aud' };
const IAC_OFFERS = Buffer.from([255, 251, 1, 255, 253, 31]); // WILL ECHO, DO NAWS

export class SisSimulator {
  readonly inputs: number;
  readonly outputs: number;
  /** Ties per output (index 0 = output 1); 0 = untied. */
  readonly video: number[];
  readonly audio: number[];
  private readonly presets = new Map<number, { video: number[]; audio: number[] }>();
  /** Every command received, as text, for assertions. */
  readonly received: string[] = [];
  /** Telnet replies to our option offers (IAC …). */
  readonly telnetReplies: Buffer[] = [];
  private readonly server: SimServer;
  private serial: SerialDevice | null = null;
  private readonly sessions = new Set<Session>();
  /** A hung device: keeps connections open, answers nothing. */
  silent = false;

  constructor(private readonly o: SisSimOptions = {}) {
    this.inputs = o.inputs ?? 8;
    this.outputs = o.outputs ?? 8;
    this.video = Array.from({ length: this.outputs }, (_, i) => (i % this.inputs) + 1);
    this.audio = [...this.video];
    this.server = new SimServer((s) => this.acceptTelnet(s), o.host ?? '127.0.0.1');
  }

  get address(): { host: string; port: number } {
    return { host: this.o.host ?? '127.0.0.1', port: this.server.port };
  }
  get clientCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<number> {
    return this.server.listen(this.server.port || this.o.port || 0);
  }

  /** Power cut: every connection drops, the listener closes. Ties survive. */
  async stop(): Promise<void> {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    await this.server.close();
  }

  /** The RS-232 port of the same switcher, as a binding-mock port at `path`. */
  serialBinding(path: string): BindingInterface {
    this.serial = serialSessionDevice(path, {
      open: (peer) =>
        this.newSession(
          'serial',
          (t) => peer.send(t),
          () => undefined,
        ),
      data: (s, d) => this.onBytes(s, d),
      close: (s) => this.sessions.delete(s),
    });
    return this.serial.binding;
  }

  /** Pulls the serial adapter (the driver's port fails); `plugInSerial` brings it back. */
  unplugSerial(): void {
    this.serial?.unplug();
  }
  plugInSerial(): void {
    this.serial?.plugIn();
  }

  /** A front-panel tie: verbose sessions (mode 1 or 3) get `Qik`, which does not say what changed. */
  frontPanelTie(input: number, output: number, layer: Layer): void {
    this.applyTie(input, output, layer);
    this.notify(null, 'Qik');
  }
  frontPanelPresetRecall(n: number): void {
    const p = this.presets.get(n);
    if (p) this.restore(p);
    this.notify(null, `Rpr${this.pad(n, 2)}`);
  }
  /** Power-on: the banner goes to every port, and verbose modes return to their defaults. */
  powerCycle(): void {
    for (const s of this.sessions) {
      s.verbose = s.kind === 'serial' ? 1 : 0;
      s.write(this.banner(s.kind));
    }
  }
  sendRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.write(data);
  }

  /**
   * The copyright message, sent at power-on and when an IP connection is made; the day, date and time
   * line follows only on a LAN connection (Extron CrossPoint 450 MAV Plus user guide, "Switcher-initiated
   * Messages": "{day,date,time} are reported only if the connection is via the LAN port").
   */
  private banner(kind: Session['kind']): string {
    const copyright = `(c) Copyright 2026, Extron Electronics, ${this.o.model ?? 'DXP 88 HDMI'}, V1.05, 60-1080-01\r\n`;
    return kind === 'telnet' ? `${copyright}Sun, 22 Nov 2026 12:00:00\r\n` : copyright;
  }

  private acceptTelnet(socket: net.Socket): void {
    const s = this.newSession(
      'telnet',
      (t) => {
        if (!socket.destroyed) socket.write(t);
      },
      () => socket.destroy(),
    );
    s.telnet = new TelnetFilter();
    socket.on('close', () => this.drop(s));
    socket.on('data', (d) => this.onBytes(s, d));
    s.write(IAC_OFFERS);
    s.write(this.banner('telnet'));
    if (this.o.password) s.write('\r\nPassword:');
    else s.authed = true;
    this.touch(s);
  }

  private newSession(kind: Session['kind'], write: (t: string | Buffer) => void, close: () => void): Session {
    const s: Session = {
      kind,
      write,
      close,
      verbose: kind === 'serial' ? 1 : 0,
      authed: kind === 'serial' || !this.o.password,
      buf: '',
      telnet: null,
      idle: null,
    };
    this.sessions.add(s);
    return s;
  }

  private drop(s: Session): void {
    if (s.idle) clearTimeout(s.idle);
    this.sessions.delete(s);
  }

  private touch(s: Session): void {
    if (s.kind !== 'telnet') return;
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => {
      this.o.logger?.debug('extron sim: idle timeout, closing the Telnet session');
      s.close();
    }, this.o.idleTimeoutMs ?? 300_000);
  }

  private onBytes(s: Session, raw: Buffer): void {
    let data = raw;
    if (s.telnet) {
      const f = s.telnet.push(raw);
      data = f.data;
      if (raw.includes(255)) this.telnetReplies.push(raw);
    }
    if (this.silent) return;
    this.touch(s);
    s.buf += data.toString('latin1');
    if (!s.authed) {
      const i = s.buf.search(/[\r\n]/);
      if (i < 0) return;
      const attempt = s.buf.slice(0, i);
      s.buf = s.buf.slice(i + 1).replace(/^\n/, '');
      if (attempt === this.o.password) {
        s.authed = true;
        s.write('\r\nLogin Administrator\r\n');
      } else {
        s.write('\r\nPassword:');
        return;
      }
    }
    this.runCommands(s);
  }

  private runCommands(s: Session): void {
    for (;;) {
      const b = s.buf;
      if (b === '') return;
      let m: RegExpExecArray | null;
      if (/^[\r\n ]/.test(b)) {
        s.buf = b.slice(1);
      } else if (b[0] === '\x1b') {
        if ((m = /^\x1b([0-3])CV/.exec(b))) {
          s.verbose = Number(m[1]);
          this.reply(s, `Vrb${m[1]}`, b, m[0]);
        } else if ((m = /^\x1b\+Q([^\r]*)\r/.exec(b))) {
          this.quick(s, m[1], b, m[0]);
        } else if (b.length > 64 || /^\x1b[^0-9+]/.test(b)) {
          this.reply(s, 'E10', b, b.length > 64 ? b : b.slice(0, 2));
        } else return; // wait for the rest of the escape command
      } else if ((m = /^(\d{1,3})\*(\d{1,3})([!%&$])/.exec(b))) {
        this.tie(s, Number(m[1]), Number(m[2]), LAYER_OF[m[3]], b, m[0]);
      } else if ((m = /^(\d{1,3})\*([!%&$])/.exec(b))) {
        const input = Number(m[1]);
        const layer = LAYER_OF[m[2]];
        if (input > this.inputs) this.reply(s, 'E01', b, m[0]);
        else {
          for (let o = 1; o <= this.outputs; o++) this.applyTie(input, o, layer);
          this.reply(s, `In${this.pad(input)} ${WORD[layer]}`, b, m[0]);
          this.notify(s, `In${this.pad(input)} ${WORD[layer]}`);
        }
      } else if ((m = /^(\d{1,3})([!%&$])/.exec(b))) {
        this.readTie(s, Number(m[1]), LAYER_OF[m[2]], b, m[0]);
      } else if ((m = /^(\d{1,3})([.,])/.exec(b))) {
        this.preset(s, Number(m[1]), m[2] === '.' ? 'recall' : 'save', b, m[0]);
      } else if (/^[Ii]/.test(b)) {
        this.reply(s, `V${this.inputs}X${this.outputs} A${this.inputs}X${this.outputs}`, b, b[0]);
      } else if (/^[Nn]/.test(b)) {
        this.reply(s, '60-1080-01', b, b[0]);
      } else if (/^[Qq]/.test(b)) {
        this.reply(s, '1.05', b, b[0]);
      } else if (/^\d{1,3}(\*\d{0,3})?$/.test(b)) {
        return; // a number still being typed
      } else {
        this.reply(s, 'E10', b, b[0]);
      }
    }
  }

  /** Sends `text`, consumes `cmd` from the buffer. */
  private reply(s: Session, text: string, _buf: string, cmd: string): void {
    this.received.push(cmd);
    s.buf = s.buf.slice(cmd.length);
    s.write(`${text}\r\n`);
  }

  private pad(n: number, width = this.o.pad ?? 2): string {
    return String(n).padStart(width, '0');
  }

  private tie(s: Session, input: number, output: number, layer: Layer, b: string, cmd: string): void {
    if (input > this.inputs) return void this.reply(s, 'E01', b, cmd);
    if (output < 1 || output > this.outputs) return void this.reply(s, 'E12', b, cmd);
    this.applyTie(input, output, layer);
    const line = `Out${this.pad(output)} In${this.pad(input)} ${WORD[layer]}`;
    this.reply(s, line, b, cmd);
    this.notify(s, line);
  }

  private applyTie(input: number, output: number, layer: Layer): void {
    if (layer !== 'audio') this.video[output - 1] = input;
    if (layer !== 'video') this.audio[output - 1] = input;
  }

  private readTie(s: Session, output: number, layer: Layer, b: string, cmd: string): void {
    if (output < 1 || output > this.outputs) return void this.reply(s, 'E12', b, cmd);
    const v = this.video[output - 1];
    const a = this.audio[output - 1];
    if (layer === 'av' && v !== a) return void this.reply(s, 'E14', b, cmd);
    const input = layer === 'audio' ? a : v;
    const tagged = s.verbose >= 2;
    this.reply(s, tagged ? `Out${this.pad(output)} In${this.pad(input)} ${WORD[layer]}` : this.pad(input), b, cmd);
  }

  private quick(s: Session, body: string, b: string, cmd: string): void {
    const ties = [...body.matchAll(/(\d{1,3})\*(\d{1,3})([!%&$])/g)];
    if (ties.length === 0 || ties.map((t) => t[0]).join('') !== body) return void this.reply(s, 'E10', b, cmd);
    for (const t of ties) {
      if (Number(t[1]) > this.inputs) return void this.reply(s, 'E01', b, cmd);
      if (Number(t[2]) < 1 || Number(t[2]) > this.outputs) return void this.reply(s, 'E12', b, cmd);
    }
    for (const t of ties) this.applyTie(Number(t[1]), Number(t[2]), LAYER_OF[t[3]]);
    this.reply(s, 'Qik', b, cmd);
    this.notify(s, 'Qik');
  }

  private preset(s: Session, n: number, op: 'recall' | 'save', b: string, cmd: string): void {
    if (n < 1 || n > (this.o.presets ?? 32)) return void this.reply(s, 'E11', b, cmd);
    if (op === 'save') this.presets.set(n, { video: [...this.video], audio: [...this.audio] });
    else {
      const p = this.presets.get(n);
      if (!p) return void this.reply(s, 'E11', b, cmd);
      this.restore(p);
    }
    const line = `${op === 'save' ? 'Spr' : 'Rpr'}${this.pad(n, 2)}`;
    this.reply(s, line, b, cmd);
    this.notify(s, line);
  }

  private restore(p: { video: number[]; audio: number[] }): void {
    this.video.splice(0, p.video.length, ...p.video);
    this.audio.splice(0, p.audio.length, ...p.audio);
  }

  /** Change notices go to every other session in verbose mode 1 or 3. */
  private notify(except: Session | null, line: string): void {
    for (const s of this.sessions) {
      if (s !== except && s.authed && (s.verbose === 1 || s.verbose === 3)) s.write(`${line}\r\n`);
    }
  }
}
