import dgram from 'node:dgram';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { ConferenceProtocol } from './protocol.js';

// The units' side, written from their manuals (not from the driver's parsers):
// Taiden HCS-3600 p.106: E5 idH idL shows microphone id, E5 00 00 the panorama.
const taidenPosition = (id: number) => Buffer.from([0xe5, (id >> 8) & 0xff, id & 0xff]);
// SDC 8000 camera control protocol p.110-111: "%" + data + the 16-bit sum of the
// data's ASCII codes as 4 upper-case hex digits + CR.
function sdcFrame(data: string): string {
  let sum = 0;
  for (const ch of data) sum = (sum + ch.charCodeAt(0)) & 0xffff;
  return `%${data}${sum.toString(16).toUpperCase().padStart(4, '0')}\r`;
}
// Confidea G3 camera control p.85: {"UID": n, "status": s}; 0 off, 1 on, 2 request, 3 prior.
const CONFIDEA_STATUS = { OFF: 0, ON: 1, REQUEST: 2, PRIOR: 3 } as const;
const confideaDatagram = (uid: number, status: number) => Buffer.from(`{"UID": ${uid}, "status": ${status}}`, 'utf8');

// binding-mock ships types only for its CommonJS build.
type BindingMockModule = typeof import('@serialport/binding-mock', { with: { 'resolution-mode': 'require' }});
type MockPortBinding = import('@serialport/binding-mock', { with: { 'resolution-mode': 'require' }}).MockPortBinding;
const { MockBinding } = createRequire(import.meta.url)('@serialport/binding-mock') as BindingMockModule;

export interface ConferenceMicSimulatorOptions {
  protocol: ConferenceProtocol;
  transport: 'tcp' | 'udp' | 'serial';
  /** tcp: where to listen; udp: where to send (default 127.0.0.1). */
  host?: string;
  /** tcp: listen port (0 = any); udp: the agent's listen port (0 = pick a free one). */
  port?: number;
  /** serial: the binding-mock path (see `trackingMockBinding`). */
  serial?: { path: string; tracker: MockTracker };
  chairman?: readonly number[];
}

/**
 * `@serialport/binding-mock` with a registry of opened ports, so a simulator
 * can play the device side of a port the driver opened (`emitData`).
 */
export interface MockTracker {
  binding: typeof MockBinding;
  opened(path: string): MockPortBinding | undefined;
}
export function trackingMockBinding(): MockTracker {
  const open = new Map<string, MockPortBinding>();
  const binding = Object.create(MockBinding) as typeof MockBinding;
  binding.open = async (options) => {
    const port = await MockBinding.open(options);
    open.set(options.path, port);
    return port;
  };
  return { binding, opened: (p) => (open.get(p)?.isOpen ? open.get(p) : undefined) };
}

/**
 * A delegate system's camera output on loopback. The unit-side rules are
 * played faithfully: Taiden sends only the position to show (chairman first,
 * else lowest id, panorama when none); SDC 8000 sends %M/%m/%P/%p and %1r
 * when the last microphone goes off; Confidea sends one JSON datagram per change.
 */
export class ConferenceMicSimulator {
  private readonly on = new Set<number>();
  private readonly chairman: Set<number>;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private udp: dgram.Socket | null = null;
  endpoint: Record<string, unknown> = {};

  constructor(private readonly o: ConferenceMicSimulatorOptions) {
    this.chairman = new Set(o.chairman ?? []);
  }

  async start(): Promise<void> {
    const host = this.o.host ?? '127.0.0.1';
    if (this.o.transport === 'tcp') {
      const server = net.createServer((s) => {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      });
      this.server = server;
      await new Promise<void>((r) => server.listen(this.o.port ?? 0, host, r));
      const a = server.address() as net.AddressInfo;
      this.endpoint = { transport: 'tcp', host: a.address, port: a.port };
    } else if (this.o.transport === 'udp') {
      const s = dgram.createSocket('udp4');
      this.udp = s;
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      let port = this.o.port ?? 0;
      if (port === 0) port = await freeUdpPort();
      this.target = port;
      this.endpoint = { transport: 'udp', host: '127.0.0.1', listen_port: port };
    } else {
      if (!this.o.serial) throw new Error('serial simulator needs a binding-mock tracker and path');
      MockBinding.createPort(this.o.serial.path, { echo: false, record: true });
      this.endpoint = { transport: 'serial', path: this.o.serial.path };
    }
  }

  /** UDP: where datagrams go (the driver's bound `listen_port`). */
  target = 0;

  get clients(): number {
    return this.sockets.size;
  }

  micOn(id: number): void {
    this.on.add(id);
    if (this.o.protocol === 'taiden') this.send(taidenPosition(this.taidenShown(id)));
    else if (this.o.protocol === 'sdc8000') this.send(sdcFrame(`${this.chairman.has(id) ? 'P' : 'M'}${pad(id)}`));
    else this.send(confideaDatagram(id, this.chairman.has(id) ? CONFIDEA_STATUS.PRIOR : CONFIDEA_STATUS.ON));
  }

  micOff(id: number): void {
    this.on.delete(id);
    if (this.o.protocol === 'taiden') this.send(taidenPosition(this.taidenShown(null)));
    else if (this.o.protocol === 'sdc8000') {
      this.send(sdcFrame(`${this.chairman.has(id) ? 'p' : 'm'}${pad(id)}`));
      if (this.on.size === 0) this.send(sdcFrame('1r0000'));
    } else this.send(confideaDatagram(id, CONFIDEA_STATUS.OFF));
  }

  /** SDC 8000 periodic sync: the list of microphones that are on. */
  sync(): void {
    const ids = [...this.on].sort((a, b) => a - b);
    this.send(sdcFrame(`S${ids.length ? ids.map(pad).join('') : '0000'}`));
  }

  /** Raw bytes as the unit would send them (e.g. a frame with a bad checksum). */
  send(data: Buffer | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (this.o.transport === 'tcp') for (const s of this.sockets) s.write(buf);
    else if (this.o.transport === 'udp') this.udp?.send(buf, this.target, this.o.host ?? '127.0.0.1');
    else this.o.serial?.tracker.opened(this.o.serial.path)?.emitData(buf);
  }

  /** Drops TCP clients (gateway rebooted). */
  dropClients(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.dropClients();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  /** Taiden rule: the newly switched-on mic, else chairman if on, else the lowest id, else panorama (0). */
  private taidenShown(justOn: number | null): number {
    if (justOn !== null) return justOn;
    const on = [...this.on].sort((a, b) => a - b);
    return on.find((id) => this.chairman.has(id)) ?? on[0] ?? 0;
  }
}

function pad(id: number): string {
  return String(id).padStart(4, '0');
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startConferenceMicSimulator(o: ConferenceMicSimulatorOptions): Promise<ConferenceMicSimulator> {
  const sim = new ConferenceMicSimulator(o);
  await sim.start();
  return sim;
}
