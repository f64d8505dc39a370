import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { Link, type LinkOptions } from './link.js';

export interface UdpLinkOptions extends LinkOptions {
  host: string;
  port: number;
  /** Local port to bind (0 = any). Sony VISCA-over-IP cameras may insist on 52381. */
  localPort?: number;
  localAddress?: string;
  /** Accept datagrams only from the device's address (and port when strict). */
  strictSourcePort?: boolean;
  /**
   * connect() the socket to the device's address and port: each send skips the
   * address lookup and the kernel's route lookup, and the kernel itself drops
   * datagrams from any other address or port (strict source port implied). An ICMP
   * port unreachable from the device is then reported on the socket (ECONNREFUSED):
   * it is logged at debug and otherwise ignored, like a lost datagram (liveness stays
   * the driver's job), and the socket keeps working.
   */
  connected?: boolean;
}

/** UDP "link": up once bound. UDP cannot tell whether the device is there,
 * so liveness is the driver's job (a request timing out means offline). */
export class UdpLink extends Link {
  private socket: dgram.Socket | null = null;
  private readonly o: UdpLinkOptions;
  constructor(o: UdpLinkOptions) {
    super(o);
    this.o = o;
  }
  describe(): string {
    return `udp://${this.o.host}:${this.o.port}`;
  }
  protected open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = dgram.createSocket({ type: this.o.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false, lookup: ipLookup });
      let bound = false;
      s.on('error', (err) => {
        if (!bound) reject(err);
        else if (this.o.connected && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
          // The device's port is closed (ICMP port unreachable): for UDP that is a lost datagram.
          this.logger?.debug({ link: this.describe(), err: err.message }, 'udp: device port unreachable');
        } else {
          this.logger?.debug({ link: this.describe(), err: err.message }, 'udp error');
          this.socket = null;
          s.close();
          this.lost(err.message);
        }
      });
      s.on('message', (msg, rinfo) => {
        // A connected socket receives only the device's datagrams (the kernel filters them).
        if (!this.o.connected) {
          if (rinfo.address !== this.o.host && !isLoopbackPair(rinfo.address, this.o.host)) return;
          if (this.o.strictSourcePort && rinfo.port !== this.o.port) return;
        }
        // dgram's rinfo carries address and port already: no second object per datagram.
        this.emit('data', msg, rinfo);
      });
      const ready = () => {
        bound = true;
        this.socket = s;
        resolve();
      };
      s.bind({ port: this.o.localPort ?? 0, address: this.o.localAddress, exclusive: true }, () => {
        if (!this.o.connected) return ready();
        // A connect error (no route, a name that does not resolve) fails the open like a bind error;
        // dgram passes it to the callback (its typings declare no argument).
        const connected = (err?: Error) => (err ? reject(err) : ready());
        s.connect(this.o.port, this.o.host, connected as () => void);
      });
    });
  }
  protected async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
  write(data: Buffer | string): void {
    if (!this.socket) {
      this.logger?.debug({ link: this.describe() }, 'write while down dropped');
      return;
    }
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.o.connected) this.socket.send(buf);
    else this.socket.send(buf, this.o.port, this.o.host);
  }
  /** The locally bound port (for tests and diagnostics). */
  get localPort(): number | undefined {
    return this.socket?.address().port;
  }
}

/** dgram resolves the address of every send, and dns.lookup answers even an IP literal on the
 * next tick, so the datagram would leave only after everything else the caller does in this turn.
 * An IP literal needs no resolver: answer at once, and the send happens inside write(). */
export const ipLookup: NonNullable<dgram.SocketOptions['lookup']> = (host, options, cb) => {
  const family = net.isIP(host);
  if (family) cb(null, host, family);
  else dns.lookup(host, options, cb);
};

function isLoopbackPair(a: string, b: string): boolean {
  const lo = (x: string) => x === 'localhost' || x.startsWith('127.') || x === '::1';
  return lo(a) && lo(b);
}
