import net from 'node:net';
import { Link, type LinkOptions } from './link.js';

export interface TcpLinkOptions extends LinkOptions {
  host: string;
  port: number;
  /** Give up a connect attempt after this long (ms). */
  connectTimeoutMs?: number;
  /** TCP keep-alive probe delay (ms); 0 disables. Detects pulled cables on idle links. */
  keepAliveMs?: number;
}

/** TCP client link with reconnect. Writes while down are dropped (and logged):
 * a device that is offline must not receive stale commands later. */
export class TcpLink extends Link {
  private socket: net.Socket | null = null;
  private readonly o: TcpLinkOptions;
  constructor(o: TcpLinkOptions) {
    super(o);
    this.o = o;
  }
  describe(): string {
    return `tcp://${this.o.host}:${this.o.port}`;
  }
  protected open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ host: this.o.host, port: this.o.port });
      let opened = false;
      const timer = setTimeout(() => {
        s.destroy(new Error(`connect timeout after ${this.o.connectTimeoutMs ?? 5000} ms`));
      }, this.o.connectTimeoutMs ?? 5000);
      s.setNoDelay(true);
      s.once('connect', () => {
        clearTimeout(timer);
        opened = true;
        if (this.o.keepAliveMs !== 0) s.setKeepAlive(true, this.o.keepAliveMs ?? 10_000);
        this.socket = s;
        resolve();
      });
      s.on('data', (chunk: Buffer) => this.emit('data', chunk));
      s.on('error', (err) => {
        if (!opened) {
          clearTimeout(timer);
          reject(err);
        } else {
          this.logger?.debug({ link: this.describe(), err: err.message }, 'socket error');
        }
      });
      s.on('close', () => {
        if (opened && this.socket === s) {
          this.socket = null;
          this.lost('connection closed by peer');
        }
      });
    });
  }
  protected async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) s.destroy();
  }
  write(data: Buffer | string): void {
    if (!this.socket) {
      this.logger?.debug({ link: this.describe() }, 'write while down dropped');
      return;
    }
    this.socket.write(data);
  }
}
