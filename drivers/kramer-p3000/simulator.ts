// A protocol-faithful Kramer Protocol 3000 matrix on loopback TCP (port 5000
// on real units) and on a binding-mock serial port: handshake, `#VID` / `#AV`
// / `#AUD`, `#ROUTE` with per-model layer numbers and disconnect value,
// queries, presets, `#INFO-IO?`, chained commands (`|`), ERR codes, the start
// message at power-on and device-initiated route lines after front-panel changes.
import type { Logger } from 'pino';
import type { BindingInterface } from '../../src/transport/serial.js';
import { type SerialDevice, serialSessionDevice } from '../../src/transport/serial-mock.js';
import { SimServer } from '../../src/transport/sim-server.js';

export interface P3kSimOptions {
  host?: string;
  port?: number;
  inputs?: number;
  outputs?: number;
  model?: string;
  /** `#ROUTE` layer numbers of this model. */
  layers?: { video: number; audio: number };
  disconnect?: 'zero' | 'inputs_plus_one';
  /** Machine number in replies (`~01@`). */
  machineId?: number;
  /** false: a video-only model (`#AUD` → ERR002). */
  audio?: boolean;
  presets?: number;
  /**
   * Reply forms. `legacy` (default): set replies end in " OK" and errors replace
   * it (`~01@VID 9>3 ERR003`), as in PL-50 §10.4 "Result and Error Codes".
   * `current`: set replies echo without OK (`~01@VID 2>3`, `~01@ROUTE 1,3,2`,
   * VS-62HA Protocol 3000 commands p.68) and errors are `~01@CMD ERR 003`, or
   * `~01@ERR 002` for an unknown command (VM-218DT "Result and Error Codes").
   * `#ROUTE` answers without OK in both modes: every manual that has it shows
   * `~nn@ROUTE layer,dest,src` (VS-62HA p.68, KADS-1 p.67).
   */
  firmware?: 'legacy' | 'current';
  logger?: Logger;
}

interface Session {
  write(text: string): void;
  close(): void;
  buf: string;
}

type Layer = 'av' | 'video' | 'audio';

export class P3kSimulator {
  readonly inputs: number;
  readonly outputs: number;
  /** Input per output (index 0 = output 1); 0 = disconnected. */
  readonly video: number[];
  readonly audio: number[];
  private readonly presetStore = new Map<number, { video: number[]; audio: number[] }>();
  /** Every command line received (without CR), for assertions. */
  readonly received: string[] = [];
  private readonly server: SimServer;
  private serial: SerialDevice | null = null;
  private readonly sessions = new Set<Session>();
  silent = false;

  constructor(private readonly o: P3kSimOptions = {}) {
    this.inputs = o.inputs ?? 8;
    this.outputs = o.outputs ?? 8;
    this.video = Array.from({ length: this.outputs }, (_, i) => (i % this.inputs) + 1);
    this.audio = [...this.video];
    this.server = new SimServer((socket) => {
      const s = this.open(
        (t) => {
          if (!socket.destroyed) socket.write(t);
        },
        () => socket.destroy(),
      );
      socket.on('close', () => this.sessions.delete(s));
      socket.on('data', (d) => this.onBytes(s, d));
    }, o.host ?? '127.0.0.1');
  }

  get address(): { host: string; port: number } {
    return { host: this.o.host ?? '127.0.0.1', port: this.server.port };
  }

  async start(): Promise<number> {
    return this.server.listen(this.server.port || this.o.port || 0);
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.close();
    this.sessions.clear();
    await this.server.close();
  }

  /** The RS-232 port, as a binding-mock port at `path`. */
  serialBinding(path: string): BindingInterface {
    this.serial = serialSessionDevice(path, {
      open: (peer) =>
        this.open(
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

  /** A front-panel switch: every client gets a device-initiated `VID in>out` line. */
  frontPanelRoute(layer: Layer, input: number, output: number): void {
    this.apply(layer, input, output);
    this.broadcast(
      null,
      `${this.tag()}${layer === 'av' ? 'AV' : layer === 'video' ? 'VID' : 'AUD'} ${this.wireIn(input)}>${output}`,
    );
  }
  /** Power-on: the start message goes out on every connection. */
  powerOn(): void {
    this.broadcast(null, `Kramer Electronics LTD., ${this.model()} Version 1.2.3`);
  }
  sendRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.write(typeof data === 'string' ? data : data.toString('latin1'));
  }

  private model(): string {
    return this.o.model ?? `VS-${this.inputs}${this.outputs}HN`;
  }
  private tag(): string {
    return `~${String(this.o.machineId ?? 1).padStart(2, '0')}@`;
  }
  private wireIn(input: number): number {
    return input === 0 && this.o.disconnect === 'inputs_plus_one' ? this.inputs + 1 : input;
  }
  /** Wire input → internal (0 = disconnected); null when out of range. */
  private parseIn(v: number): number | null {
    if (v === 0 && this.o.disconnect !== 'inputs_plus_one') return 0;
    if (v === this.inputs + 1 && this.o.disconnect === 'inputs_plus_one') return 0;
    return v >= 1 && v <= this.inputs ? v : null;
  }

  private open(write: (t: string) => void, close: () => void): Session {
    const s: Session = { write, close, buf: '' };
    this.sessions.add(s);
    return s;
  }

  private onBytes(s: Session, d: Buffer): void {
    if (this.silent) return;
    s.buf += d.toString('latin1');
    for (;;) {
      const i = s.buf.indexOf('\r');
      if (i < 0) break;
      const line = s.buf.slice(0, i).replace(/^\n+/, '');
      s.buf = s.buf.slice(i + 1);
      this.received.push(line);
      // Chained commands run in order after the CR.
      const parts = line.split('|');
      for (const [k, part] of parts.entries()) this.command(s, k === 0 ? part : `#${part.replace(/^#/, '')}`);
    }
    if (s.buf.length > 4096) s.buf = '';
  }

  private command(s: Session, line: string): void {
    const say = (text: string) => s.write(`${this.tag()}${text}\r\n`);
    if (line === '#') return void say(' OK');
    const m = /^#(?:(\d+)@)?([A-Za-z][A-Za-z0-9-]*\??)(?: (.*))?$/.exec(line.trim());
    if (!m) return void say(`ERR001`);
    if (m[1] !== undefined && Number(m[1]) !== (this.o.machineId ?? 1)) return; // another machine's command
    const cmd = m[2].toUpperCase();
    const args = (m[3] ?? '').trim();
    const current = this.o.firmware === 'current';
    const err = (code: string) =>
      say(current ? `${cmd.replace('?', '')} ERR ${code}` : `${cmd.replace('?', '')} ${args} ERR${code}`.replace('  ', ' '));
    const setReply = (text: string) => say(current ? text : `${text} OK`);
    switch (cmd) {
      case 'VID':
      case 'V':
      case 'AV':
      case 'AUD':
      case 'A': {
        const layer: Layer = cmd.startsWith('V') ? 'video' : cmd === 'AV' ? 'av' : 'audio';
        if (layer !== 'video' && this.o.audio === false) return void err('002');
        const pairs = args.split(',').map((p) => /^(\d+)>(\d+|\*)$/.exec(p.trim()));
        if (pairs.some((p) => !p)) return void err('001');
        for (const p of pairs) {
          const input = this.parseIn(Number(p![1]));
          const outs = p![2] === '*' ? Array.from({ length: this.outputs }, (_, i) => i + 1) : [Number(p![2])];
          if (input === null || outs.some((o) => o < 1 || o > this.outputs)) return void err('003');
          for (const o of outs) this.apply(layer, input, o);
        }
        const name = layer === 'video' ? 'VID' : layer === 'av' ? 'AV' : 'AUD';
        setReply(`${name} ${args}`);
        this.broadcast(s, `${this.tag()}${name} ${args}`);
        return;
      }
      case 'VID?':
      case 'AUD?': {
        const audio = cmd === 'AUD?';
        if (audio && this.o.audio === false) return void err('002');
        const table = audio ? this.audio : this.video;
        const outs = args === '*' ? table.map((_, i) => i + 1) : [Number(args)];
        if (outs.some((o) => !Number.isInteger(o) || o < 1 || o > this.outputs)) return void err('003');
        return void say(`${audio ? 'AUD' : 'VID'} ${outs.map((o) => `${this.wireIn(table[o - 1])}>${o}`).join(',')}`);
      }
      case 'ROUTE':
      case 'ROUTE?': {
        const query = cmd === 'ROUTE?';
        const nums = args.split(',').map((x) => x.trim());
        if (nums.length !== (query ? 2 : 3) || nums.some((x) => !/^\d+$/.test(x))) return void err('001');
        const layers = this.o.layers ?? { video: 1, audio: 2 };
        const ln = Number(nums[0]);
        const layer = ln === layers.video ? 'video' : ln === layers.audio && this.o.audio !== false ? 'audio' : null;
        const out = Number(nums[1]);
        if (!layer || out < 1 || out > this.outputs) return void err('003');
        if (query) return void say(`ROUTE ${ln},${out},${this.wireIn((layer === 'video' ? this.video : this.audio)[out - 1])}`);
        const input = this.parseIn(Number(nums[2]));
        if (input === null) return void err('003');
        this.apply(layer, input, out);
        say(`ROUTE ${args}`);
        this.broadcast(s, `${this.tag()}ROUTE ${args}`);
        return;
      }
      case 'PRST-STO':
      case 'PRST-RCL': {
        const n = Number(args);
        if (!Number.isInteger(n) || n < 1 || n > (this.o.presets ?? 16)) return void err('003');
        if (cmd === 'PRST-STO') this.presetStore.set(n, { video: [...this.video], audio: [...this.audio] });
        else {
          const p = this.presetStore.get(n);
          if (!p) return void err('003');
          this.video.splice(0, p.video.length, ...p.video);
          this.audio.splice(0, p.audio.length, ...p.audio);
        }
        return void say(`${cmd} ${n} OK`);
      }
      case 'INFO-IO?':
        return void say(`INFO-IO IN ${this.inputs},OUT ${this.outputs}`);
      case 'MODEL?':
        return void say(`MODEL ${this.model()}`);
      default:
        return void say(current ? 'ERR 002' : `${cmd.replace('?', '')} ERR002`);
    }
  }

  private apply(layer: Layer, input: number, output: number): void {
    if (layer !== 'audio') this.video[output - 1] = input;
    if (layer !== 'video') this.audio[output - 1] = input;
  }

  private broadcast(except: Session | null, line: string): void {
    for (const s of this.sessions) if (s !== except) s.write(`${line}\r\n`);
  }
}
