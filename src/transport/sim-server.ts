// The TCP listener every device simulator needs (they ship in `room-agent
// simulate`, so this is not test code): it listens again on the same port
// after a stop so a driver can reconnect to the address it was given, keeps
// track of its client sockets, and on stop drops them all like a power cut.
import net from 'node:net';

export class SimServer {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private lastPort = 0;

  /** `onSocket` gets every accepted socket (socket errors are already swallowed). */
  constructor(
    private readonly onSocket: (socket: net.Socket) => void,
    private readonly host = '127.0.0.1',
  ) {}

  /** The port listened on last (0 before the first listen); kept across `close`. */
  get port(): number {
    return this.lastPort;
  }

  get clientCount(): number {
    return this.sockets.size;
  }

  /** Listens on `port` (0 = ephemeral; default: the port of the previous listen). Rejects on EADDRINUSE etc. */
  async listen(port = this.lastPort): Promise<number> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // A client resetting the connection must not crash the simulator.
      socket.on('error', () => undefined);
      this.onSocket(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => resolve());
    });
    this.server = server;
    this.lastPort = (server.address() as net.AddressInfo).port;
    return this.lastPort;
  }

  /** Destroys every client socket and stops listening. Idempotent. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Writes `bytes` in random pieces of 1..maxPiece bytes, so a client's reassembly is exercised. */
export function writeInPieces(socket: net.Socket, bytes: Buffer, maxPiece: number): void {
  let at = 0;
  while (at < bytes.length) {
    const n = 1 + Math.floor(Math.random() * Math.min(maxPiece, bytes.length - at));
    socket.write(bytes.subarray(at, at + n));
    at += n;
  }
}
