// Written from Shure's command strings (pubs.shure.com/command-strings/MXA910
// and MXA920, pubs.shure.com/command-strings): `< GET x PARAM >`, `< SET x PARAM value >`,
// answers and unsolicited changes `< REP x PARAM value >`, `< REP ERR >`.
// It does not use the driver's codec.
import net from 'node:net';

const GATE_PARAMS = { lobes: 'AUTOMIX_GATE_OUT_EXT_SIG', coverage_areas: 'AUTOMIX_GATE_OUT_CA' } as const;
const repMessage = (channel: number, param: string, value: string, width: number) =>
  `< REP ${String(channel).padStart(width, '0')} ${param} ${value} >`;

/** Messages start at `<` and end at `>`; text outside them is ignored. */
class MessageReader {
  private text = '';
  push(chunk: Buffer): string[] {
    this.text += chunk.toString('utf8');
    const out: string[] = [];
    for (;;) {
      const start = this.text.indexOf('<');
      const end = this.text.indexOf('>', start);
      if (start < 0 || end < 0) break;
      out.push(this.text.slice(start + 1, end).trim());
      this.text = this.text.slice(end + 1);
    }
    if (this.text.length > 131_072) this.text = '';
    return out;
  }
}

export interface ShureSimulatorOptions {
  host?: string;
  port?: number;
  /** Lobes / coverage areas reported on `GET 0` (default 8). */
  channels?: number;
  /** Digits in channel numbers of reports (MXA910 docs show 1, others 2). */
  width?: number;
}

/**
 * A Shure device on loopback speaking command strings: answers `GET` with
 * REP per channel and pushes REP whenever a gate changes (`setGate`).
 * No Telnet negotiation, like the real port 2202.
 */
export class ShureSimulator {
  readonly received: string[] = [];
  private readonly server = net.createServer((s) => this.accept(s));
  private readonly sockets = new Set<net.Socket>();
  private readonly gates = { lobes: new Map<number, boolean>(), coverage_areas: new Map<number, boolean>() };
  host = '127.0.0.1';
  port = 0;
  constructor(private readonly o: ShureSimulatorOptions = {}) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.o.port ?? 0, this.o.host ?? '127.0.0.1', resolve));
    const a = this.server.address() as net.AddressInfo;
    this.host = a.address;
    this.port = a.port;
  }

  get clients(): number {
    return this.sockets.size;
  }

  /** Changes a gate and pushes the unsolicited REP to every client. */
  setGate(channel: number, on: boolean, source: keyof typeof GATE_PARAMS = 'lobes'): void {
    this.gates[source].set(channel, on);
    this.broadcast(repMessage(channel, GATE_PARAMS[source], on ? 'ON' : 'OFF', this.o.width ?? 2));
  }

  /** Sends raw text (e.g. a message split across writes) to every client. */
  broadcast(text: string): void {
    for (const s of this.sockets) s.write(text);
  }

  /** Drops every connection (cable pulled / device rebooted). */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.dropClients();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.setNoDelay(true);
    const framer = new MessageReader();
    s.on('data', (chunk) => {
      for (const body of framer.push(chunk)) {
        this.received.push(body);
        this.answer(s, body);
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  private answer(s: net.Socket, body: string): void {
    const words = body.split(/\s+/);
    if (words[0] === 'SET' && words.length >= 3) {
      // A SET is answered with the REP of the new value (`< SET 01 AUDIO_MUTE ON >` → `< REP 01 AUDIO_MUTE ON >`).
      s.write(`< REP ${words.slice(1).join(' ')} >`);
      return;
    }
    if (words[0] !== 'GET') {
      s.write('< REP ERR >');
      return;
    }
    const param = words.length >= 3 ? words[2] : words[1];
    const source = param === GATE_PARAMS.lobes ? 'lobes' : param === GATE_PARAMS.coverage_areas ? 'coverage_areas' : null;
    if (!source) {
      s.write('< REP ERR >');
      return;
    }
    const ch = words.length >= 3 ? Number(words[1]) : 0;
    const list = ch === 0 ? Array.from({ length: this.o.channels ?? 8 }, (_, i) => i + 1) : [ch];
    const width = this.o.width ?? 2;
    s.write(list.map((c) => repMessage(c, param, this.gates[source].get(c) ? 'ON' : 'OFF', width)).join(''));
  }
}

export async function startShureSimulator(o: ShureSimulatorOptions = {}): Promise<ShureSimulator> {
  const sim = new ShureSimulator(o);
  await sim.start();
  return sim;
}
