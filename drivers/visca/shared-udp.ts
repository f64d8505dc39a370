// Sony cameras that answer only to port 52381 need the controller to send
// from 52381 too, and only one socket per PC can bind it (PROTOCOLS §1.2,
// §8.1). This link shares one bound socket between every camera that asks
// for the same local port, and hands each camera the datagrams from its own
// address. Reconnect and backoff stay in the Link base class.
import dgram from 'node:dgram';
import { Link, type LinkOptions } from '../../src/transport/link.js';
import { ipLookup } from '../../src/transport/udp.js';

export interface SharedUdpLinkOptions extends LinkOptions {
  host: string;
  port: number;
  localPort: number;
  localAddress?: string;
}

type Receiver = { host: string; port: number; deliver: (msg: Buffer) => void; fail: (reason: string) => void };

interface SharedSocket {
  key: string;
  socket: dgram.Socket;
  receivers: Set<Receiver>;
  ready: Promise<void>;
  closed: boolean;
}

const sockets = new Map<string, SharedSocket>();

const isLoopback = (x: string) => x === 'localhost' || x.startsWith('127.') || x === '::1';
const sameHost = (a: string, b: string) => a === b || (isLoopback(a) && isLoopback(b));

function create(key: string, localAddress: string | undefined, localPort: number, family: 'udp4' | 'udp6'): SharedSocket {
  // ipLookup: the datagram leaves inside write(), not a tick later (see udp.ts).
  const socket = dgram.createSocket({ type: family, reuseAddr: false, lookup: ipLookup });
  let bound = false;
  const shared: SharedSocket = { key, socket, receivers: new Set(), ready: Promise.resolve(), closed: false };
  shared.ready = new Promise<void>((resolve, reject) => {
    socket.on('error', (err) => {
      if (!bound) return reject(err);
      // Every camera on this socket loses its link; the next open binds a fresh one.
      void shutdown(shared);
      for (const r of [...shared.receivers]) r.fail(err.message);
    });
    socket.bind({ port: localPort, address: localAddress, exclusive: true }, () => {
      bound = true;
      resolve();
    });
  });
  shared.ready.catch(() => void shutdown(shared));
  socket.on('message', (msg, rinfo) => {
    const mine = [...shared.receivers].filter((r) => sameHost(r.host, rinfo.address));
    // Several cameras behind one address (or all on loopback in tests): tell them apart by source port.
    const target = mine.length > 1 ? mine.find((r) => r.port === rinfo.port) : mine[0];
    target?.deliver(msg);
  });
  return shared;
}

function shutdown(shared: SharedSocket): Promise<void> {
  if (shared.closed) return Promise.resolve();
  shared.closed = true;
  if (sockets.get(shared.key) === shared) sockets.delete(shared.key);
  return new Promise((resolve) => {
    try {
      shared.socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

async function acquire(localAddress: string | undefined, localPort: number, family: 'udp4' | 'udp6'): Promise<SharedSocket> {
  const key = `${family}:${localAddress ?? '*'}:${localPort}`;
  for (;;) {
    let shared = sockets.get(key);
    if (!shared) {
      shared = create(key, localAddress, localPort, family);
      sockets.set(key, shared);
    }
    await shared.ready;
    // It may have been released by the last other camera while we waited.
    if (!shared.closed) return shared;
  }
}

function release(shared: SharedSocket, r: Receiver): Promise<void> {
  shared.receivers.delete(r);
  return shared.receivers.size === 0 ? shutdown(shared) : Promise.resolve();
}

export class SharedUdpLink extends Link {
  private shared: SharedSocket | null = null;
  private receiver: Receiver | null = null;
  constructor(private readonly o: SharedUdpLinkOptions) {
    super(o);
  }
  describe(): string {
    return `udp://${this.o.host}:${this.o.port} (from local port ${this.o.localPort})`;
  }
  protected async open(): Promise<void> {
    const shared = await acquire(this.o.localAddress, this.o.localPort, this.o.host.includes(':') ? 'udp6' : 'udp4');
    for (const r of shared.receivers) {
      if (sameHost(r.host, this.o.host) && r.port === this.o.port) {
        throw new Error(`another camera already uses ${this.o.host}:${this.o.port} on local port ${this.o.localPort}`);
      }
    }
    const receiver: Receiver = {
      host: this.o.host,
      port: this.o.port,
      deliver: (msg) => this.emit('data', msg),
      fail: (reason) => this.lost(reason),
    };
    shared.receivers.add(receiver);
    this.shared = shared;
    this.receiver = receiver;
  }
  protected async close(): Promise<void> {
    const { shared, receiver } = this;
    this.shared = null;
    this.receiver = null;
    if (shared && receiver) await release(shared, receiver);
  }
  write(data: Buffer | string): void {
    if (!this.shared) {
      this.logger?.debug({ link: this.describe() }, 'write while down dropped');
      return;
    }
    this.shared.socket.send(typeof data === 'string' ? Buffer.from(data) : data, this.o.port, this.o.host);
  }
}
