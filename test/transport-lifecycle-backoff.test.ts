// The reconnect backoff of the device lifecycle (issue 17, finding 2; docs/architecture.md
// "Device lifecycle"): a device that answers its handshake and drops again before it stayed
// online for `stableMs` is a failed attempt — the delay keeps doubling; only a device that
// stayed online for `stableMs` starts again at `reconnectMinMs`. A real TCP peer on loopback
// that accepts every connect and answers the handshake; the lifecycle on a FakeClock.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceConnection, type LifecycleStatus } from '../src/transport/lifecycle.js';
import { TcpLink } from '../src/transport/tcp.js';
import { FakeClock } from '../src/util/clock.js';
import { until } from './support/wait.js';

const MIN = 1000;
const MAX = 60_000;
const STABLE = 30_000;

/** Accepts every connect and answers HELLO with WELCOME; `drop()` closes the current connection (a device reboot). */
class FlappingPeer {
  connects = 0;
  private socket: net.Socket | null = null;
  private readonly server = net.createServer((s) => {
    this.connects++;
    this.socket = s;
    s.on('data', (d) => {
      if (d.toString('latin1').includes('HELLO\n')) s.write('WELCOME\n');
    });
    s.on('error', () => undefined);
  });
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }
  drop(): void {
    this.socket?.destroy();
    this.socket = null;
  }
  async stop(): Promise<void> {
    this.drop();
    await new Promise((r) => this.server.close(r));
  }
}

interface Rig {
  clock: FakeClock;
  peer: FlappingPeer;
  conn: DeviceConnection;
  statuses: { status: LifecycleStatus; message: string }[];
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
  const peer = new FlappingPeer();
  const port = await peer.listen();
  const link = new TcpLink({ host: '127.0.0.1', port, clock, keepAliveMs: 0 });
  let buf = '';
  let welcomed: (() => void) | null = null;
  link.on('data', (chunk) => {
    buf += chunk.toString('latin1');
    if (buf.includes('WELCOME\n')) {
      buf = '';
      welcomed?.();
    }
  });
  const statuses: Rig['statuses'] = [];
  const conn = new DeviceConnection({
    link,
    clock,
    random: () => 0.5,
    limits: { reconnectMinMs: MIN, reconnectMaxMs: MAX, stableMs: STABLE },
    report: (status, message) => statuses.push({ status, message }),
    hooks: {
      handshake: ({ signal }) =>
        new Promise<string>((resolve, reject) => {
          welcomed = () => resolve('ready');
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          link.write('HELLO\n');
        }),
      // Probes are not the subject here: the device is never silent long enough to need one.
      probeIntervalMs: 600_000,
      probeTimeoutMs: 10_000,
    },
  });
  rig = { clock, peer, conn, statuses };
  return rig;
}

const last = (r: Rig) => r.statuses.at(-1);

/** Lets fake time run in small steps (real I/O between them) until `stop` or `ms` are used up. */
async function advance(r: Rig, ms: number, stop?: () => boolean): Promise<void> {
  const end = r.clock.now() + ms;
  while (r.clock.now() < end && !stop?.()) {
    r.clock.advance(Math.min(50, end - r.clock.now()));
    await ioTurn();
    await ioTurn();
  }
}

/** Waits (fake time, with real I/O) until the device is online again. */
async function untilOnline(r: Rig): Promise<void> {
  await until(() => r.peer.connects > 0, 'a connect at the peer');
  await advance(r, MAX + 5_000, () => last(r)?.status === 'online');
  expect(last(r)?.status).toBe('online');
}

/** The device stays up for `upMs` of fake time, then drops; returns the delay the lifecycle announced. */
async function flap(r: Rig, upMs: number): Promise<number> {
  await untilOnline(r);
  await advance(r, upMs);
  const seen = r.statuses.length;
  r.peer.drop();
  await until(() => r.statuses.length > seen, 'the drop to be reported');
  const down = r.statuses[seen];
  expect(down?.status).toBe('offline');
  const m = /next attempt in (\d+) s/.exec(down?.message ?? '');
  if (!m) throw new Error(`no delay in "${down?.message}"`);
  return Number(m[1]) * 1000;
}

describe('DeviceConnection: the backoff restarts only after the device stayed online for stableMs', () => {
  it('a device that drops again within stableMs of every handshake backs off 1, 2, 4 … 60 s, not 1 s forever', async () => {
    const r = await start();
    r.conn.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) delays.push(await flap(r, 5_000));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    // Every connect was one attempt of that schedule: one first connect plus one per drop but the last.
    expect(r.peer.connects).toBe(8);
  }, 60_000);

  it('a device that stayed online for stableMs starts again at reconnect_min_ms when it drops', async () => {
    const r = await start();
    r.conn.start();
    expect(await flap(r, 5_000)).toBe(1000);
    expect(await flap(r, 5_000)).toBe(2000);
    expect(await flap(r, 5_000)).toBe(4000);
    // Up for longer than stableMs: the next drop is a fresh fault.
    expect(await flap(r, STABLE + 1_000)).toBe(1000);
    expect(await flap(r, 5_000)).toBe(2000);
  }, 60_000);
});
