// The silent-device guarantee of the device lifecycle (issue 17, docs/architecture.md
// "Device lifecycle"): a device that stops sending is declared offline no later than
// probe interval + probe timeout after its last byte — whatever its handshake, probes
// and the driver's own request timers do. A real TCP peer on loopback, the lifecycle
// on a FakeClock: a byte's arrival time is the fake time at which the test let it in.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceConnection, type LifecycleStatus } from '../src/transport/lifecycle.js';
import { TcpLink } from '../src/transport/tcp.js';
import { FakeClock, sleep } from '../src/util/clock.js';
import { until } from './support/wait.js';

const INTERVAL = 10_000;
const TIMEOUT = 2_000;
/** The handshake waits this long after its last byte (as Videohub waits for blocks that may follow the dump). */
const SETTLE = 1_500;

/** A line peer the test answers by hand: it records what the agent sent. */
class HandPeer {
  private readonly server = net.createServer((s) => {
    this.socket = s;
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.got.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    s.on('error', () => undefined);
  });
  socket: net.Socket | null = null;
  readonly got: string[] = [];
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

interface Rig {
  clock: FakeClock;
  peer: HandPeer;
  conn: DeviceConnection;
  statuses: { status: LifecycleStatus; at: number; message: string }[];
  /** Fake time of the last byte the agent received from the peer. */
  lastByteAt: () => number;
  /** Sends a line and waits (real time, bounded) until the agent has it; its fake arrival time is now. */
  send(line: string): Promise<void>;
  /** Moves fake time forward in small steps, letting real I/O run between them. */
  advance(ms: number, stop?: () => boolean): Promise<void>;
  status: () => LifecycleStatus | undefined;
}

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.conn.stop();
  await rig?.peer.stop();
  rig = null;
});

const ioTurn = () => new Promise((r) => setImmediate(r));

async function start(): Promise<Rig> {
  const clock = new FakeClock();
  const peer = new HandPeer();
  const port = await peer.listen();
  const link = new TcpLink({ host: '127.0.0.1', port, clock, keepAliveMs: 0 });
  let lastByte = Number.NaN;
  let received = 0;
  let lineBuf = '';
  const waiters: { want: string; resolve: () => void }[] = [];
  link.on('data', (chunk) => {
    lastByte = clock.now();
    received += chunk.length;
    lineBuf += chunk.toString('latin1');
    for (let i = lineBuf.indexOf('\n'); i >= 0; i = lineBuf.indexOf('\n')) {
      const line = lineBuf.slice(0, i);
      lineBuf = lineBuf.slice(i + 1);
      const hit = waiters.findIndex((w) => w.want === line);
      if (hit >= 0) waiters.splice(hit, 1)[0]?.resolve();
    }
  });
  /** Waits for a line from the peer; rejects after `ms` of fake time (the driver's request timeout). */
  const expectLine = (want: string, ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const t = clock.setTimeout(() => reject(new Error(`no ${want} within ${ms} ms`)), ms);
      waiters.push({
        want,
        resolve: () => {
          clock.clearTimeout(t);
          resolve();
        },
      });
      signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  const statuses: Rig['statuses'] = [];
  const conn = new DeviceConnection({
    link,
    clock,
    random: () => 0.5,
    report: (status, message) => statuses.push({ status, message, at: clock.now() }),
    hooks: {
      async handshake({ signal }) {
        link.write('HELLO\n');
        await expectLine('WELCOME', TIMEOUT, signal);
        await sleep(clock, SETTLE, signal);
        return 'ready';
      },
      probe: async () => {
        link.write('PING\n');
        await expectLine('PONG', TIMEOUT);
      },
      probeIntervalMs: INTERVAL,
      probeTimeoutMs: TIMEOUT,
    },
  });
  const r: Rig = {
    clock,
    peer,
    conn,
    statuses,
    lastByteAt: () => lastByte,
    status: () => statuses.at(-1)?.status,
    async send(line) {
      const want = received + Buffer.byteLength(line) + 1;
      peer.socket?.write(`${line}\n`);
      await until(() => received >= want, `the agent to receive ${line}`);
    },
    async advance(ms, stop) {
      const end = clock.now() + ms;
      while (clock.now() < end && !stop?.()) {
        clock.advance(Math.min(50, end - clock.now()));
        await ioTurn();
        await ioTurn();
      }
    },
  };
  rig = r;
  return r;
}

/** Starts the rig and completes the handshake: WELCOME is the handshake's last byte. */
async function online(): Promise<Rig> {
  const r = await start();
  r.conn.start();
  await until(() => r.peer.got.includes('HELLO'), 'HELLO at the peer');
  await r.send('WELCOME');
  await r.advance(SETTLE, () => r.status() === 'online');
  expect(r.status()).toBe('online');
  return r;
}

/** Lets fake time run with the peer silent and returns the fake time offline was declared. */
async function silentUntilOffline(r: Rig): Promise<number> {
  await r.advance(INTERVAL + TIMEOUT + SETTLE + 5_000, () => r.status() === 'offline');
  const offline = r.statuses.find((s) => s.status === 'offline');
  if (!offline) throw new Error(`still ${r.status()} after the silence limit: ${JSON.stringify(r.statuses)}`);
  return offline.at;
}

describe('DeviceConnection: a silent device is offline no later than probe interval + timeout after its last byte', () => {
  it('when the handshake ends some time after its last byte (the first probe counts from that byte)', async () => {
    const r = await online();
    const lastByte = r.lastByteAt();
    const offlineAt = await silentUntilOffline(r);
    expect(offlineAt - lastByte).toBeLessThanOrEqual(INTERVAL + TIMEOUT);
    // The probe went out one interval after the last byte, so a live device had the whole timeout to answer.
    expect(r.peer.got).toContain('PING');
    expect(r.statuses.find((s) => s.status === 'offline')?.message).toMatch(/nothing heard for 12000 ms/);
  }, 30_000);

  it('when probes are answered late and the device also sends between probes', async () => {
    const r = await online();
    for (let i = 0; i < 3; i++) {
      const pings = r.peer.got.filter((l) => l === 'PING').length;
      await r.advance(INTERVAL + TIMEOUT, () => r.peer.got.filter((l) => l === 'PING').length > pings);
      await until(() => r.peer.got.filter((l) => l === 'PING').length > pings, 'the next PING at the peer');
      // A slow but live device: the answer comes most of a timeout later.
      await r.advance(TIMEOUT - 100);
      await r.send('PONG');
      expect(r.status()).toBe('online');
    }
    // An unsolicited line mid-interval, then silence: the deadline counts from it.
    await r.advance(INTERVAL / 2);
    await r.send('NOTIFY');
    const lastByte = r.lastByteAt();
    const offlineAt = await silentUntilOffline(r);
    expect(offlineAt - lastByte).toBeLessThanOrEqual(INTERVAL + TIMEOUT);
    expect(r.statuses.filter((s) => s.status === 'offline')).toHaveLength(1);
  }, 30_000);

  it('a device that keeps answering its probes stays online (no false deadline)', async () => {
    const r = await online();
    for (let i = 0; i < 4; i++) {
      const pings = r.peer.got.filter((l) => l === 'PING').length;
      await r.advance(INTERVAL + TIMEOUT, () => r.peer.got.filter((l) => l === 'PING').length > pings);
      await until(() => r.peer.got.filter((l) => l === 'PING').length > pings, 'the next PING at the peer');
      await r.send('PONG');
    }
    expect(r.statuses.map((s) => s.status)).not.toContain('offline');
    expect(r.conn.silenceLimitMs).toBe(INTERVAL + TIMEOUT);
  }, 30_000);

  it('before online the handshake timeout applies, not the silence deadline', async () => {
    const r = await start();
    r.conn.start();
    await until(() => r.peer.got.includes('HELLO'), 'HELLO at the peer');
    // No WELCOME: the handshake's own timeout ends the attempt, not the silence deadline.
    await r.advance(TIMEOUT + 100, () => r.status() === 'offline');
    expect(r.statuses.at(-1)?.message).toMatch(/handshake failed: no WELCOME within 2000 ms/);
  }, 30_000);
});
