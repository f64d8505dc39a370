// A vMix TCP API simulator (port 8099 protocol) for tests and `simulated = true`.
// It answers like vMix: `VERSION OK` on connect, `FUNCTION OK Completed`
// (also for unknown names, as vMix reportedly does), `FUNCTION ER …` for a bad
// input, `TALLY OK 0121…`, `SUBSCRIBE OK TALLY` then a TALLY line on every
// change, and `XML <bytes>\r\n<vmix>…` with the length in bytes. Written from
// the vMix TCP API page (vmix.com/help28/TCPAPI.html: "Responses", UTF-8,
// CR LF) and the HTTP API's function query syntax, not from the driver: it
// does not use the driver's codec.
import type net from 'node:net';
import type { Logger } from 'pino';
import { SimServer, writeInPieces } from '../../src/transport/sim-server.js';

/** `Name Key=Value&Key=Value` (URL-encoded, as in the HTTP API) → name and params. */
function decodeFunction(rest: string): { name: string; params: Record<string, string> } {
  const sp = rest.indexOf(' ');
  const name = sp < 0 ? rest : rest.slice(0, sp);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(sp < 0 ? '' : rest.slice(sp + 1))) params[k] = v;
  return { name, params };
}

const encodeXml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface VmixSimInput {
  title: string;
  type?: string;
}

export interface VmixSimulatorOptions {
  host?: string;
  inputs?: VmixSimInput[];
  version?: string;
  logger?: Logger;
  /** Split every write into random pieces (exercises the client's reassembly). */
  chunked?: boolean;
}

interface Session {
  socket: net.Socket;
  buf: string;
  tally: boolean;
}

export const DEFAULT_VMIX_INPUTS: VmixSimInput[] = [
  { title: 'Camera 1 – Präsentator', type: 'Capture' },
  { title: 'Camera 2 – Room', type: 'Capture' },
  { title: 'Laptop HDMI', type: 'Capture' },
  { title: 'Logo & Lower third', type: 'Image' },
];

export class VmixSimulator {
  private readonly server: SimServer;
  private readonly sessions = new Set<Session>();
  readonly inputs: VmixSimInput[];
  program = 1;
  preview = 2;
  /** Extra outputs set with SetOutput2..4 (bus → input number). */
  readonly outputs = new Map<number, number>();
  /** Every request line received, for tests. */
  readonly received: string[] = [];

  constructor(private readonly o: VmixSimulatorOptions = {}) {
    this.inputs = (o.inputs ?? DEFAULT_VMIX_INPUTS).map((i) => ({ ...i }));
    this.server = new SimServer((s) => this.accept(s), o.host ?? '127.0.0.1');
  }

  /** Listens (port 0 = ephemeral, or the port it had before a `stop`). */
  async start(port = this.server.port): Promise<number> {
    return this.server.listen(port);
  }

  get listeningPort(): number {
    return this.server.port;
  }

  /** Drops every client and stops listening (a vMix that was closed or crashed). */
  async stop(): Promise<void> {
    this.sessions.clear();
    await this.server.close(); // drops every client socket
  }

  get clients(): number {
    return this.sessions.size;
  }

  tallyString(): string {
    return this.inputs.map((_, i) => (i + 1 === this.program ? '1' : i + 1 === this.preview ? '2' : '0')).join('');
  }

  xml(): string {
    const inputs = this.inputs
      .map(
        (inp, i) =>
          `<input key="${keyOf(i)}" number="${i + 1}" type="${encodeXml(inp.type ?? 'Capture')}" title="${encodeXml(inp.title)}" state="Running">${encodeXml(inp.title)}</input>`,
      )
      .join('');
    return `<vmix><version>${this.o.version ?? '27.0.0.49'}</version><edition>4K</edition><inputs>${inputs}</inputs><active>${this.program}</active><preview>${this.preview}</preview></vmix>`;
  }

  /** When true the simulator reads requests but never answers (a hung vMix). */
  silent = false;
  /** When true, changes are made but no TALLY is pushed (tests that state is not our echo). */
  silentTally = false;
  /**
   * When set, `XML` is answered with a single-line error (`XML ER <text>`): the
   * TCP API page says ER replies must be handled even for commands that
   * normally return data; issue 17 §5 saw `XML ER Not ready`.
   */
  xmlError: string | null = null;

  /** Sends raw bytes to every client (noise, garbage, hand-made responses). */
  injectRaw(data: string | Buffer): void {
    for (const s of this.sessions) s.socket.write(data);
  }

  /** Changes program as an operator at the vMix console would (pushes tally). */
  setProgram(n: number): void {
    this.program = n;
    this.pushTally();
  }

  private accept(socket: net.Socket): void {
    const session: Session = { socket, buf: '', tally: false };
    this.sessions.add(session);
    socket.setNoDelay(true);
    socket.on('close', () => this.sessions.delete(session));
    socket.on('data', (chunk) => {
      session.buf += chunk.toString('utf8');
      for (;;) {
        const i = session.buf.indexOf('\r\n');
        if (i < 0) break;
        const line = session.buf.slice(0, i);
        session.buf = session.buf.slice(i + 2);
        const reply = this.handle(session, line);
        if (reply !== null) this.write(session, reply);
      }
    });
    this.write(session, `VERSION OK ${this.o.version ?? '27.0.0.49'}\r\n`);
  }

  private handle(s: Session, line: string): string | null {
    this.received.push(line);
    if (this.silent) return null;
    const sp = line.indexOf(' ');
    const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    switch (cmd) {
      case 'FUNCTION':
        return this.runFunction(rest);
      case 'TALLY':
        return `TALLY OK ${this.tallyString()}\r\n`;
      case 'SUBSCRIBE':
        if (rest.toUpperCase() !== 'TALLY') return `SUBSCRIBE ER Unknown subscription\r\n`;
        s.tally = true;
        return 'SUBSCRIBE OK TALLY\r\n';
      case 'UNSUBSCRIBE':
        s.tally = false;
        return 'UNSUBSCRIBE OK TALLY\r\n';
      case 'XML': {
        if (this.xmlError !== null) return `XML ER ${this.xmlError}\r\n`;
        const doc = `${this.xml()}\r\n`;
        return `XML ${Buffer.byteLength(doc, 'utf8')}\r\n${doc}`;
      }
      case 'PING':
        return 'PING OK PONG\r\n';
      case 'QUIT':
        s.socket.end();
        return null;
      default:
        return `${cmd || 'UNKNOWN'} ER Unknown command\r\n`;
    }
  }

  private runFunction(rest: string): string {
    const { name, params } = decodeFunction(rest);
    const input = params.Input === undefined ? undefined : this.resolveInput(params.Input);
    const needsInput = ['ActiveInput', 'PreviewInput', 'CutDirect'].includes(name) || name.startsWith('SetOutput');
    if (needsInput && input === null) return `FUNCTION ER Input not found\r\n`;
    if (needsInput && input === undefined) return `FUNCTION ER Input parameter missing\r\n`;
    switch (name) {
      case 'Cut':
      case 'Fade':
      case 'Transition1':
        [this.program, this.preview] = [this.preview, this.program];
        break;
      case 'ActiveInput':
      case 'CutDirect':
        this.program = input as number;
        break;
      case 'PreviewInput':
        this.preview = input as number;
        break;
      case 'SetOutput2':
      case 'SetOutput3':
      case 'SetOutput4':
        this.outputs.set(Number(name.slice(-1)), input as number);
        break;
      default:
        // vMix answers OK Completed even for names it does not know.
        break;
    }
    // vMix answers before it pushes the resulting tally change.
    queueMicrotask(() => this.pushTally());
    return 'FUNCTION OK Completed\r\n';
  }

  /** Input by number, key or title, as vMix accepts; null when unknown. */
  private resolveInput(v: string): number | null {
    const n = Number(v);
    if (Number.isInteger(n)) return n >= 1 && n <= this.inputs.length ? n : null;
    const i = this.inputs.findIndex((inp, idx) => inp.title === v || keyOf(idx) === v);
    return i < 0 ? null : i + 1;
  }

  private pushTally(): void {
    if (this.silentTally) return;
    const line = `TALLY OK ${this.tallyString()}\r\n`;
    for (const s of this.sessions) if (s.tally) this.write(s, line);
  }

  private write(s: Session, text: string): void {
    if (s.socket.destroyed) return;
    const bytes = Buffer.from(text, 'utf8');
    if (!this.o.chunked || bytes.length < 2) {
      s.socket.write(bytes);
      return;
    }
    // Random cut points, including inside multi-byte UTF-8 characters.
    writeInPieces(s.socket, bytes, 17);
  }
}

function keyOf(i: number): string {
  return `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;
}
