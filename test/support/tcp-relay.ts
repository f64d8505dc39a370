// A TCP relay on loopback that counts the connections it accepts: a witness on the wire of how
// often the agent connected to a device, independent of the driver and of the simulator behind it.
import net from 'node:net';

export class CountingRelay {
  /** Connections accepted so far. */
  accepted = 0;
  /** Client sockets still open. */
  readonly open = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host?: string; port: number }): Promise<CountingRelay> {
    let relay: CountingRelay | null = null;
    const server = net.createServer((client) => {
      if (!relay) return client.destroy();
      relay.accepted++;
      relay.open.add(client);
      const upstream = net.connect(target.port, target.host ?? '127.0.0.1');
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => {
        relay?.open.delete(client);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    relay = new CountingRelay(server, (server.address() as net.AddressInfo).port);
    return relay;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
