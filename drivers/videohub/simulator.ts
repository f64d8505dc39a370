// A protocol-faithful Videohub on loopback: the state dump on connect (with or
// without END PRELUDE), ACK/NAK, PING, per-client locks (O/L/U), labels, and
// status blocks with only the changed items pushed to every client. Written
// from the Blackmagic Videohub Ethernet Protocol (Videohub manual, Developer
// Information pp.75-77), not from the driver: it has its own block reader.
// Text is UTF-8 both ways (issue 17 §5: labels such as "Sala Süd").
import type net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import { SimServer } from '../../src/transport/sim-server.js';

/** The device's own block reader: a block is an ALL-CAPS header with a colon, lines, then a blank line. */
class BlockReader {
  private readonly decoder = new StringDecoder('utf8');
  private text = '';
  push(chunk: Buffer): { header: string; lines: string[] }[] {
    this.text += this.decoder.write(chunk);
    const out: { header: string; lines: string[] }[] = [];
    for (;;) {
      const lf = this.text.replace(/\r\n/g, '\n');
      const end = lf.indexOf('\n\n');
      if (end < 0) {
        this.text = lf;
        break;
      }
      const lines = lf.slice(0, end).split('\n');
      this.text = lf.slice(end + 2);
      const head = lines.shift() ?? '';
      const m = /^([A-Z][A-Z ]*):(.*)$/.exec(head);
      if (m) out.push({ header: m[1], lines });
    }
    if (this.text.length > 65_536) this.text = '';
    return out;
  }
}

const routingBlock = (pairs: [number, number][]) => `VIDEO OUTPUT ROUTING:\n${pairs.map(([o, i]) => `${o} ${i}\n`).join('')}\n`;

export interface VideohubSimOptions {
  host?: string;
  port?: number;
  inputs?: number;
  outputs?: number;
  model?: string;
  /** Newer firmware ends the dump with `END PRELUDE:`; older firmware does not. */
  endPrelude?: boolean;
  /** `false` / `needs_update`: the dump stops after the device block. */
  devicePresent?: 'true' | 'false' | 'needs_update';
  inputLabels?: string[];
  outputLabels?: string[];
  logger?: Logger;
}

interface Session {
  socket: net.Socket;
  reader: BlockReader;
}

export class VideohubSimulator {
  readonly inputs: number;
  readonly outputs: number;
  /** 0-based input per 0-based output. */
  readonly routes: number[];
  readonly inputLabels: string[];
  readonly outputLabels: string[];
  /** Owner session of each output lock, or null. */
  private readonly lockOwner: (Session | null)[];
  /** Every request block received (header + lines), for assertions. */
  readonly received: string[] = [];
  private readonly server: SimServer;
  private readonly sessions = new Set<Session>();
  /** A hung device: keeps the socket open but answers nothing. */
  silent = false;
  /** `Device present:` of the router behind the server (`attach` / `detach` change it). */
  private present: 'true' | 'false' | 'needs_update';

  constructor(private readonly o: VideohubSimOptions = {}) {
    this.inputs = o.inputs ?? 8;
    this.outputs = o.outputs ?? 8;
    this.routes = Array.from({ length: this.outputs }, (_, i) => i % this.inputs);
    this.inputLabels = Array.from({ length: this.inputs }, (_, i) => o.inputLabels?.[i] ?? `Input ${i + 1}`);
    this.outputLabels = Array.from({ length: this.outputs }, (_, i) => o.outputLabels?.[i] ?? `Output ${i + 1}`);
    this.lockOwner = Array.from({ length: this.outputs }, () => null);
    this.present = o.devicePresent ?? 'true';
    this.server = new SimServer((s) => this.accept(s), o.host ?? '127.0.0.1');
  }

  get address(): { host: string; port: number } {
    return { host: this.o.host ?? '127.0.0.1', port: this.server.port };
  }
  get clientCount(): number {
    return this.sessions.size;
  }

  /** Listens (again, on the same port after a `stop`, so a driver can reconnect). */
  async start(): Promise<number> {
    return this.server.listen(this.server.port || this.o.port || 0);
  }

  /** Drops every client and stops listening, like a power cut. Routes survive. */
  async stop(): Promise<void> {
    this.sessions.clear();
    this.lockOwner.fill(null);
    await this.server.close(); // drops every client socket
  }

  /** A change made by the front panel or another controller: pushed to every client. */
  route(output: number, input: number): void {
    this.routes[output] = input;
    this.broadcast(() => routingBlock([[output, input]]));
  }

  /** Another controller takes the lock of an output (the driver then sees `L`). */
  lockByOther(output: number): void {
    const ghost = { socket: null, reader: null } as unknown as Session;
    this.lockOwner[output] = ghost;
    this.broadcast((s) => `VIDEO OUTPUT LOCKS:\n${output} ${this.lockCode(output, s)}\n\n`);
  }

  /** Sends raw bytes to every client (garbage tests). */
  sendRaw(text: string | Buffer): void {
    for (const s of this.sessions) s.socket.write(text);
  }

  private accept(socket: net.Socket): void {
    const session: Session = { socket, reader: new BlockReader() };
    this.sessions.add(session);
    socket.on('close', () => {
      this.sessions.delete(session);
      this.lockOwner.forEach((owner, i) => {
        if (owner === session) this.lockOwner[i] = null;
      });
    });
    socket.on('data', (chunk) => {
      if (this.silent) return;
      for (const m of session.reader.push(chunk)) this.onBlock(session, m.header, m.lines);
    });
    socket.write(this.dump(session));
  }

  /**
   * The router behind the Videohub Server comes (back): "If the Videohub Server
   * detects a new Videohub attached, it will resend all blocks except the
   * protocol preamble" (Videohub Ethernet Protocol, Device Information).
   */
  attach(): void {
    this.present = 'true';
    this.broadcast((s) => this.dump(s, false));
  }

  /** The router is unplugged from the server: `Device present: false`, nothing more follows. */
  detach(state: 'false' | 'needs_update' = 'false'): void {
    this.present = state;
    this.broadcast((s) => this.dump(s, false));
  }

  private dump(s: Session, preamble = true): string {
    const present = this.present;
    let out = preamble ? 'PROTOCOL PREAMBLE:\nVersion: 2.3\n\n' : '';
    // Absent or needing an update, the block "will simply be" the one line (Device Information).
    if (present !== 'true') return `${out}VIDEOHUB DEVICE:\nDevice present: ${present}\n\n`;
    out +=
      `VIDEOHUB DEVICE:\nDevice present: ${present}\nModel name: ${this.o.model ?? `Smart Videohub ${this.inputs}x${this.outputs}`}\n` +
      `Friendly name: Room matrix\nUnique ID: 7C2E0D0A1B2C\nVideo inputs: ${this.inputs}\nVideo processing units: 0\n` +
      `Video outputs: ${this.outputs}\nVideo monitoring outputs: 0\nSerial ports: 0\n\n`;
    for (const h of ['INPUT LABELS', 'OUTPUT LABELS', 'VIDEO OUTPUT LOCKS', 'VIDEO OUTPUT ROUTING'])
      out += this.block(h, s) ?? '';
    if (this.o.endPrelude !== false) out += 'CONFIGURATION:\nTake Mode: false\n\nEND PRELUDE:\n\n';
    return out;
  }

  private block(header: string, s: Session): string | null {
    const body = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => `${i} ${f(i)}\n`).join('');
    switch (header) {
      case 'INPUT LABELS':
        return `INPUT LABELS:\n${body(this.inputs, (i) => this.inputLabels[i])}\n`;
      case 'OUTPUT LABELS':
        return `OUTPUT LABELS:\n${body(this.outputs, (i) => this.outputLabels[i])}\n`;
      case 'VIDEO OUTPUT LOCKS':
        return `VIDEO OUTPUT LOCKS:\n${body(this.outputs, (i) => this.lockCode(i, s))}\n`;
      case 'VIDEO OUTPUT ROUTING':
        return `VIDEO OUTPUT ROUTING:\n${body(this.outputs, (i) => String(this.routes[i]))}\n`;
      default:
        return null;
    }
  }

  private lockCode(output: number, s: Session): string {
    const owner = this.lockOwner[output];
    return owner === null ? 'U' : owner === s ? 'O' : 'L';
  }

  private onBlock(s: Session, header: string, lines: string[]): void {
    this.received.push([`${header}:`, ...lines].join('\n'));
    const reply = (t: string) => s.socket.write(t);
    if (header === 'PING') return void reply('ACK\n\n');
    if (lines.length === 0) {
      const b = this.block(header, s);
      return void reply(b ? `ACK\n\n${b}` : 'NAK\n\n');
    }
    const pairs = lines.map((l) => /^(\d+) (.*)$/.exec(l));
    if (pairs.some((p) => p === null)) return void reply('NAK\n\n');
    const items = pairs.map((p) => [Number(p![1]), p![2]] as const);
    switch (header) {
      case 'VIDEO OUTPUT ROUTING': {
        const ok = items.every(([o, i]) => o < this.outputs && /^\d+$/.test(i) && Number(i) < this.inputs);
        const free = items.every(([o]) => this.lockOwner[o] === null || this.lockOwner[o] === s);
        if (!ok || !free) return void reply('NAK\n\n');
        reply('ACK\n\n');
        for (const [o, i] of items) this.routes[o] = Number(i);
        this.broadcast(() => routingBlock(items.map(([o]) => [o, this.routes[o]])));
        return;
      }
      case 'VIDEO OUTPUT LOCKS': {
        for (const [o, code] of items) {
          if (o >= this.outputs || !/^[OUF]$/.test(code)) return void reply('NAK\n\n');
          const owner = this.lockOwner[o];
          if (code !== 'F' && owner !== null && owner !== s) return void reply('NAK\n\n');
        }
        reply('ACK\n\n');
        for (const [o, code] of items) this.lockOwner[o] = code === 'O' ? s : null;
        this.broadcast((c) => `VIDEO OUTPUT LOCKS:\n${items.map(([o]) => `${o} ${this.lockCode(o, c)}\n`).join('')}\n`);
        return;
      }
      case 'INPUT LABELS':
      case 'OUTPUT LABELS': {
        const table = header === 'INPUT LABELS' ? this.inputLabels : this.outputLabels;
        if (items.some(([i]) => i >= table.length)) return void reply('NAK\n\n');
        reply('ACK\n\n');
        for (const [i, label] of items) table[i] = label;
        this.broadcast(() => `${header}:\n${items.map(([i]) => `${i} ${table[i]}\n`).join('')}\n`);
        return;
      }
      default:
        reply('NAK\n\n');
    }
  }

  private broadcast(text: (s: Session) => string): void {
    for (const s of this.sessions) s.socket.write(text(s));
  }
}
