// A protocol-faithful Videohub on loopback: the state dump on connect (with or
// without END PRELUDE), ACK/NAK, PING, per-client locks (O/L/U), labels, and
// status blocks with only the changed items pushed to every client.
import type net from 'node:net';
import type { Logger } from 'pino';
import { SimServer } from '../../src/transport/sim-server.js';
import { encodeRouting, VideohubParser } from './protocol.js';

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
  parser: VideohubParser;
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

  constructor(private readonly o: VideohubSimOptions = {}) {
    this.inputs = o.inputs ?? 8;
    this.outputs = o.outputs ?? 8;
    this.routes = Array.from({ length: this.outputs }, (_, i) => i % this.inputs);
    this.inputLabels = Array.from({ length: this.inputs }, (_, i) => o.inputLabels?.[i] ?? `Input ${i + 1}`);
    this.outputLabels = Array.from({ length: this.outputs }, (_, i) => o.outputLabels?.[i] ?? `Output ${i + 1}`);
    this.lockOwner = Array.from({ length: this.outputs }, () => null);
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
    this.broadcast(() => encodeRouting([[output, input]]));
  }

  /** Another controller takes the lock of an output (the driver then sees `L`). */
  lockByOther(output: number): void {
    const ghost = { socket: null, parser: null } as unknown as Session;
    this.lockOwner[output] = ghost;
    this.broadcast((s) => `VIDEO OUTPUT LOCKS:\n${output} ${this.lockCode(output, s)}\n\n`);
  }

  /** Sends raw bytes to every client (garbage tests). */
  sendRaw(text: string | Buffer): void {
    for (const s of this.sessions) s.socket.write(text);
  }

  private accept(socket: net.Socket): void {
    const session: Session = { socket, parser: new VideohubParser() };
    this.sessions.add(session);
    socket.on('close', () => {
      this.sessions.delete(session);
      this.lockOwner.forEach((owner, i) => {
        if (owner === session) this.lockOwner[i] = null;
      });
    });
    socket.on('data', (chunk) => {
      if (this.silent) return;
      for (const m of session.parser.push(chunk)) {
        if (m.kind === 'block') this.onBlock(session, m.header, m.lines);
        else if (m.kind === 'garbage') this.o.logger?.debug({ line: m.line }, 'videohub sim: ignored line');
      }
    });
    socket.write(this.dump(session));
  }

  private dump(s: Session): string {
    const present = this.o.devicePresent ?? 'true';
    let out = 'PROTOCOL PREAMBLE:\nVersion: 2.3\n\n';
    out +=
      `VIDEOHUB DEVICE:\nDevice present: ${present}\nModel name: ${this.o.model ?? `Smart Videohub ${this.inputs}x${this.outputs}`}\n` +
      `Friendly name: Room matrix\nUnique ID: 7C2E0D0A1B2C\nVideo inputs: ${this.inputs}\nVideo processing units: 0\n` +
      `Video outputs: ${this.outputs}\nVideo monitoring outputs: 0\nSerial ports: 0\n\n`;
    if (present !== 'true') return out;
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
        this.broadcast(() => encodeRouting(items.map(([o]) => [o, this.routes[o]])));
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
