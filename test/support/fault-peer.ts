// A scriptable TCP peer for the fault matrix: the agent connects to it; in
// "device" mode it forwards both ways to a real device stand-in (a driver's
// simulator), otherwise it plays a fault. It counts every accepted connection
// so tests can hold the reconnects to the backoff schedule.
import net from 'node:net';

export type PeerMode =
  /** Forward to the device stand-in. */
  | 'device'
  /** Accept, then close at once. */
  | 'close'
  /** Accept and never answer (a hung device; forwarded connections go quiet too). */
  | 'silent'
  /** Answer every chunk with bytes no protocol has. */
  | 'garbage'
  /** Play the driver's "handshake rejected" script instead of the device. */
  | 'reject'
  /** Forward, but hold the device's answers until `release()`. */
  | 'hold';

/** What a device that refuses the handshake says (per protocol). */
export interface RejectScript {
  /** Sent on accept (server-first protocols: banner, dump). */
  greeting?: string;
  /** Sent in answer to each chunk from the agent. */
  answer?: (fromAgent: Buffer) => string | null;
}

export const GARBAGE = Buffer.from([0x00, 0xff, 0xfe, 0x07, 0x1b, 0x5b, 0x3f, 0x0d, 0x0a, 0x80, 0x81, 0x3e, 0x0a]);

interface Pair {
  agent: net.Socket;
  device: net.Socket | null;
}

export class ScriptablePeer {
  mode: PeerMode = 'device';
  /** Connections accepted since the peer was created (or `connects` was reset). */
  connects = 0;
  port = 0;
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  private held: { pair: Pair; data: Buffer }[] = [];
  /** Real time (ms) of the last bytes forwarded either way. */
  private lastTraffic = 0;
  /** `performance.now()` when the peer last wrote bytes to the agent (benchmarks time silence from it). */
  lastToAgentAt = 0;

  constructor(
    private readonly upstream: () => { host: string; port: number },
    private readonly reject: RejectScript = {},
  ) {}

  /** Starts listening (again, on the same port after `refuse`). */
  async listen(): Promise<number> {
    if (this.server) return this.port;
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Reserves a port and closes it: connects are refused until `listen`. */
  async refuseFromBoot(): Promise<number> {
    await this.listen();
    await this.refuse();
    return this.port;
  }

  /** Stops listening and drops every connection: the device is gone (connects are refused). */
  async refuse(): Promise<void> {
    const s = this.server;
    this.server = null;
    this.dropAll();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** Drops every open connection; the listener stays (the device rebooted its network side). */
  dropAll(): void {
    for (const p of this.pairs) this.closePair(p);
    this.held = [];
  }

  /** Delivers the device answers held in "hold" mode. */
  release(): void {
    const held = this.held.splice(0);
    for (const h of held) if (!h.pair.agent.destroyed) h.pair.agent.write(h.data);
  }

  /**
   * Paces a fake clock about to move `stepMs`: while bytes flowed in the last 200 ms of real time
   * (a handshake or a request under way), fake time may run at most 10× real time, so a request's
   * timeout never fires only because loopback TCP took real milliseconds (Nagle + delayed ACK can
   * hold a device's second write for 40 ms). When the line is idle, time jumps freely.
   */
  async pace(stepMs: number): Promise<void> {
    if (Date.now() - this.lastTraffic < 200) await new Promise((r) => setTimeout(r, Math.ceil(stepMs / 10)));
  }

  /** Connections currently open towards the agent. */
  get open(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    await this.refuse();
  }

  private accept(agent: net.Socket): void {
    this.connects++;
    agent.on('error', () => undefined);
    const pair: Pair = { agent, device: null };
    this.pairs.add(pair);
    agent.on('close', () => this.closePair(pair));
    switch (this.mode) {
      case 'close':
        agent.destroy();
        return;
      case 'reject':
        if (this.reject.greeting) agent.write(this.reject.greeting);
        agent.on('data', (d) => {
          const a = this.reject.answer?.(d);
          if (a) agent.write(a);
        });
        return;
      default:
        this.forward(pair);
    }
  }

  private forward(pair: Pair): void {
    const { host, port } = this.upstream();
    const device = net.createConnection({ host, port });
    pair.device = device;
    device.on('error', () => undefined);
    device.on('close', () => this.closePair(pair));
    device.setNoDelay(true);
    pair.agent.setNoDelay(true);
    device.on('data', (d) => {
      this.lastTraffic = Date.now();
      if (this.mode === 'silent') return;
      if (this.mode === 'garbage') return void pair.agent.write(GARBAGE);
      if (this.mode === 'hold') return void this.held.push({ pair, data: d });
      this.lastToAgentAt = performance.now();
      pair.agent.write(d);
    });
    pair.agent.on('data', (d) => {
      if (this.mode === 'silent') return;
      if (this.mode === 'garbage') return void pair.agent.write(GARBAGE);
      this.lastTraffic = Date.now();
      device.write(d);
    });
  }

  private closePair(p: Pair): void {
    if (!this.pairs.delete(p)) return;
    p.agent.destroy();
    p.device?.destroy();
  }
}
