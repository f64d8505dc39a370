// SimServer: the simulators' TCP listener (same port after a restart, client
// tracking, everything dropped on close) and writeInPieces.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SimServer, writeInPieces } from '../src/transport/sim-server.js';
import { until } from './support/wait.js';

const servers: SimServer[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
});

function serve(onSocket: (s: net.Socket) => void): SimServer {
  const s = new SimServer(onSocket);
  servers.push(s);
  return s;
}

/** A client whose received bytes collect in `received` (flowing, so it sees the server's close). */
async function connect(port: number): Promise<net.Socket & { received: Buffer[] }> {
  const c = Object.assign(net.connect(port, '127.0.0.1'), { received: [] as Buffer[] });
  clients.push(c);
  c.on('error', () => undefined);
  c.on('data', (d) => c.received.push(d));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

const closed = (c: net.Socket) => new Promise<void>((r) => (c.destroyed ? r() : c.once('close', () => r())));

describe('SimServer', () => {
  it('serves clients, drops them all on close, and listens again on the same port', async () => {
    const sim = serve((s) => s.write('hello\n'));
    expect(sim.port).toBe(0);
    const port = await sim.listen(0);
    expect(port).toBeGreaterThan(0);
    expect(sim.port).toBe(port);
    const a = await connect(port);
    const b = await connect(port);
    await until(() => Buffer.concat(a.received).toString() === 'hello\n', 'the greeting');
    await until(() => sim.clientCount === 2, 'two clients');
    await sim.close();
    await Promise.all([closed(a), closed(b)]);
    expect(sim.clientCount).toBe(0);
    await expect(connect(port)).rejects.toThrow();
    // A restart (no port given) comes back where it was, so a driver can reconnect.
    expect(await sim.listen()).toBe(port);
    const c = await connect(port);
    await until(() => Buffer.concat(c.received).toString() === 'hello\n', 'the greeting after the restart');
  });

  it('forgets a client that hangs up, and survives a client reset', async () => {
    const sim = serve(() => undefined);
    const port = await sim.listen(0);
    const a = await connect(port);
    a.resetAndDestroy();
    await closed(a);
    const b = await connect(port);
    b.end();
    await closed(b);
    // Both are gone once the server side sees the close.
    await until(() => sim.clientCount === 0, 'no clients');
    await sim.close();
    await sim.close(); // idempotent
  });

  it('rejects when the port is taken', async () => {
    const first = serve(() => undefined);
    const port = await first.listen(0);
    await expect(serve(() => undefined).listen(port)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('writeInPieces', () => {
  it('the client receives the same bytes, in pieces no larger than asked', async () => {
    const payload = Buffer.from('Grüße – ünïcödé, split anywhere\r\n'.repeat(20), 'utf8');
    const writes: number[] = [];
    const sim = serve((s) => {
      const write = s.write.bind(s) as (b: Buffer) => boolean;
      (s as unknown as { write: (b: Buffer) => boolean }).write = (b: Buffer) => {
        writes.push(b.length);
        return write(b);
      };
      writeInPieces(s, payload, 7);
      s.end();
    });
    const c = await connect(await sim.listen(0));
    await closed(c);
    expect(Buffer.concat(c.received).equals(payload)).toBe(true);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(payload.length);
    expect(Math.max(...writes)).toBeLessThanOrEqual(7);
    expect(Math.min(...writes)).toBeGreaterThanOrEqual(1);
  });
});
