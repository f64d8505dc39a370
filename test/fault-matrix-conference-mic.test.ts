// The fault-matrix cases that apply to a delegate system's camera output on
// RS-232 (SDC 8000 frames over binding-mock), behind a TCP gateway (SDC 8000)
// and on UDP (Confidea JSON datagrams), beyond the boot cases in
// drivers/conference-mic/driver.test.ts and the shared TCP matrix in
// test/fault-matrix-mics.test.ts. The units only talk: the cases that need an
// answer (a rejected handshake, slow replies, actions) do not apply and are
// listed as skipped with the reason. The SDC 8000 sends a sync every ~5 s
// (appendix A), so a silent or garbled SDC 8000 is a fault and has its cases
// here. Real host, state store and alerts on a fake clock
// (test/support/fault-rig.ts); the simulator, written from the units' manuals,
// is the peer.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { conferenceMicDriver } from '../drivers/conference-mic/index.js';
import { ConferenceMicSimulator } from '../drivers/conference-mic/simulator.js';
import { setSerialBinding, simulatedSerialPorts } from '../src/transport/index.js';
import { FakeClock } from '../src/util/clock.js';
import { GARBAGE, ScriptablePeer } from './support/fault-peer.js';
import { maxConnects } from './support/fault-matrix.js';
import { offlineAlertRaised } from './support/fault-checks.js';
import { DEBOUNCE_S, type Rig, startRig } from './support/fault-rig.js';

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
  setSerialBinding(null);
});

const active = (rig: Rig) => ((rig.state().active as number[] | undefined) ?? []).slice().sort((a, b) => a - b);

// SDC 8000 camera control protocol p.110-111: "%" + data + 16-bit ASCII sum as 4 hex digits + CR (written here from
// the manual, as the simulator's own encoder is; the test needs raw frames to split and merge).
function sdc(data: string): string {
  let sum = 0;
  for (const ch of data) sum = (sum + ch.charCodeAt(0)) & 0xffff;
  return `%${data}${sum.toString(16).toUpperCase().padStart(4, '0')}\r`;
}

let n = 0;
async function serialRig(
  extra: Record<string, unknown> = {},
  o: { before?: (sim: ConferenceMicSimulator) => void; online?: boolean; syncIntervalMs?: number } = {},
): Promise<{ sim: ConferenceMicSimulator; rig: Rig }> {
  const path = `/dev/CONFFAULT${process.pid}-${n++}`;
  // One fake clock for the host and the unit (its ~5 s sync runs on it); the driver finds the unit's
  // binding-mock port by its path.
  const clock = new FakeClock();
  const sim = new ConferenceMicSimulator({
    protocol: 'sdc8000',
    transport: 'serial',
    path,
    clock,
    syncIntervalMs: o.syncIntervalMs,
  });
  o.before?.(sim);
  await sim.start();
  const rig = await startRig(conferenceMicDriver, { protocol: 'sdc8000', transport: 'serial', path, ...extra }, undefined, {
    clock,
  });
  cleanup = async () => {
    await rig.stop();
    await sim.stop();
  };
  if (o.online !== false) await rig.pump(() => rig.status === 'online' && sim.serialOpen, 'online', 30_000);
  return { sim, rig };
}

/** The driver's default `sync_timeout_ms`: three of the manual's ~5 s syncs missed. */
const SYNC_TIMEOUT_MS = 15_000;

/** A unit that never sends a valid frame: never online, offline with `why`, attempts held to the backoff, alert raised. */
async function neverOnline(rig: Rig, attempts: () => number, why: RegExp): Promise<void> {
  await rig.pump(() => rig.status === 'offline', 'offline', SYNC_TIMEOUT_MS + 5000, 100);
  expect(rig.message).toMatch(why);
  expect(rig.message).toMatch(/next attempt in/);
  const before = attempts();
  await rig.advance(120_000, 250);
  expect(rig.statuses).not.toContain('online');
  expect(rig.statuses[0]).toBe('connecting');
  // Each attempt waits up to the sync timeout for a frame, then backs off 1 s doubling to 60 s.
  expect(attempts() - before).toBeGreaterThanOrEqual(2);
  expect(attempts() - before).toBeLessThanOrEqual(maxConnects(120_000));
  expect(offlineAlertRaised(rig)).toBe(true);
}

async function udpRig(): Promise<{ sim: ConferenceMicSimulator; rig: Rig; port: number }> {
  const sim = new ConferenceMicSimulator({ protocol: 'confidea', transport: 'udp' });
  await sim.start();
  const port = sim.endpoint.listen_port as number;
  const rig = await startRig(conferenceMicDriver, { protocol: 'confidea', host: '127.0.0.1', listen_port: port });
  cleanup = async () => {
    await rig.stop();
    await sim.stop();
  };
  await rig.pump(() => rig.status === 'online', 'online', 30_000);
  return { sim, rig, port };
}

describe('fault matrix: conference-mic (serial, SDC 8000)', { timeout: 60_000 }, () => {
  it('garbage between frames is skipped; the frames around it still apply and the device stays online', async () => {
    const { sim, rig } = await serialRig();
    sim.micOn(3);
    await rig.pump(() => active(rig).includes(3), 'mic 3 on', 5000, 10);
    sim.send(GARBAGE);
    sim.send('%M00XX\r'); // a frame with a checksum that is not hex
    sim.micOn(5);
    await rig.pump(() => active(rig).includes(5), 'mic 5 on after the garbage', 5000, 10);
    expect(active(rig)).toEqual([3, 5]);
    expect(rig.statuses).toEqual(['connecting', 'online']);
  });

  it('frames split into single bytes, and several frames merged in one chunk, give the same state', async () => {
    const { sim, rig } = await serialRig();
    for (const byte of Buffer.from(sdc('M0007'), 'latin1')) sim.send(Buffer.from([byte]));
    await rig.pump(() => active(rig).includes(7), 'mic 7 from single bytes', 5000, 10);
    sim.send(sdc('M0008') + sdc('M0009') + sdc('m0007'));
    await rig.pump(() => active(rig).join() === '8,9', 'mics 8 and 9 from one merged chunk', 5000, 10);
    expect(rig.statuses).toEqual(['connecting', 'online']);
  });

  it('adapter pulled after online: offline with the reason at once, alert after the debounce, reopens held to the backoff, online again when it returns', async () => {
    const { sim, rig } = await serialRig();
    sim.micOn(3);
    await rig.pump(() => active(rig).includes(3), 'mic 3 on', 5000, 10);
    sim.unplug();
    await rig.pump(() => rig.status === 'offline', 'offline at once', 100, 10);
    expect(rig.message).toMatch(/serial port closed|unplugged/);
    expect(rig.message).toMatch(/next attempt in/);
    // A microphone seen on before the loss is not shown as on while nothing is known.
    expect(active(rig)).toEqual([]);
    const attempts = sim.serialOpenAttempts;
    await rig.advance((DEBOUNCE_S - 1) * 1000, 250);
    expect(offlineAlertRaised(rig)).toBe(false);
    await rig.advance(2000, 250);
    expect(offlineAlertRaised(rig)).toBe(true);
    // Reopens while the adapter is gone: 1 s doubling to 60 s (a failed open is a failed attempt).
    await rig.advance(120_000 - (DEBOUNCE_S + 1) * 1000, 250);
    const tried = sim.serialOpenAttempts - attempts;
    expect(tried).toBeGreaterThanOrEqual(2);
    expect(tried).toBeLessThanOrEqual(maxConnects(120_000));
    expect(rig.statuses.filter((st) => st === 'online')).toHaveLength(1);
    expect(rig.status).toBe('offline');
    sim.plugIn();
    await rig.pump(() => rig.status === 'online' && sim.serialOpen, 'online when the adapter returns', 70_000);
    expect(rig.alerts.at(-1)).toMatchObject({ kind: 'device_offline', state: 'cleared' });
    sim.micOn(5);
    await rig.pump(() => active(rig).join() === '3,5', 'the unit is heard again (its %S sync restores mic 3)', 10_000, 100);
  });

  it('100 pull/return cycles of the adapter leave no timer behind, no port open and no port registered', async () => {
    // A unit that syncs every 200 ms: each return is online at its first frame without 5 s of fake time
    // stepped through in 10 ms steps.
    const { sim, rig } = await serialRig({ reconnect_min_ms: 10, reconnect_max_ms: 40 }, { syncIntervalMs: 200 });
    for (let i = 0; i < 100; i++) {
      sim.unplug();
      await rig.pump(() => rig.status !== 'online', `offline (cycle ${i})`, 1000, 10);
      sim.plugIn();
      await rig.pump(() => rig.status === 'online' && sim.serialOpen, `online (cycle ${i})`, 10_000, 10);
    }
    expect(rig.statuses.filter((st) => st === 'online')).toHaveLength(101);
    expect(sim.serialOpens).toBe(101);
    await cleanup?.();
    cleanup = null;
    expect(sim.serialOpen).toBe(false);
    expect(rig.clock.pending()).toBe(0);
    expect(simulatedSerialPorts.has(sim.endpoint.path as string)).toBe(false);
  }, 120_000);

  it('a unit that never sends (switched off, camera output not licensed): never online, offline with the reason, reopens held to the backoff, alert; online once it talks', async () => {
    const { sim, rig } = await serialRig({}, { before: (s) => s.powerOff(), online: false });
    await neverOnline(rig, () => sim.serialOpenAttempts, /no SDC 8000 frame within 15000 ms/);
    sim.powerOn();
    await rig.pump(() => rig.status === 'online', 'online once the unit syncs', 70_000 + SYNC_TIMEOUT_MS);
    expect(rig.alerts.at(-1)).toMatchObject({ kind: 'device_offline', state: 'cleared' });
  });

  it('the port opened at the wrong speed (only garbage arrives): never online; the reason names the speed to check', async () => {
    const { sim, rig } = await serialRig({ baud_rate: 9600 }, { online: false });
    await neverOnline(rig, () => sim.serialOpenAttempts, /no SDC 8000 frame within 15000 ms.*19200/);
    expect(rig.state().bad_frames ?? 0).toBe(0); // garbage without "%" … CR is not even a frame
  });

  it('goes silent after online (the unit switched off, the adapter stays): offline within sync_timeout_ms + 1 s, back when it talks', async () => {
    const { sim, rig } = await serialRig();
    sim.micOn(4);
    await rig.pump(() => active(rig).join() === '4', 'mic 4 on', 5000, 10);
    const t0 = rig.clock.now();
    sim.powerOff();
    await rig.pump(() => rig.status === 'offline', 'offline', SYNC_TIMEOUT_MS + 2000, 100);
    expect(rig.clock.now() - t0).toBeLessThanOrEqual(SYNC_TIMEOUT_MS + 1000 + 100);
    expect(rig.message).toMatch(/no SDC 8000 frame for 15000 ms/);
    expect(active(rig)).toEqual([]);
    sim.powerOn();
    await rig.pump(() => rig.status === 'online', 'online again', 70_000 + SYNC_TIMEOUT_MS);
  });

  it('sync_timeout_ms = 0 turns the liveness off: a silent unit stays online', async () => {
    const { sim, rig } = await serialRig({ sync_timeout_ms: 0 }, { before: (s) => s.powerOff(), online: false });
    await rig.pump(() => rig.status === 'online', 'online on open', 5000, 100);
    await rig.advance(60_000, 500);
    expect(rig.statuses).toEqual(['connecting', 'online']);
    expect(sim.serialOpenAttempts).toBe(1);
  });

  it.skip('rejects the handshake, slow replies, action refused — not applicable: the unit only talks (no request, no action; SDC 8000 appendix A)', () =>
    undefined);
});

describe('fault matrix: conference-mic (serial, Taiden)', { timeout: 60_000 }, () => {
  it('the unit restarts while the adapter stays (no link event): the driver starts its tracking output again within tracking_refresh_ms', async () => {
    const path = `/dev/CONFFAULT${process.pid}-${n++}`;
    const clock = new FakeClock();
    const sim = new ConferenceMicSimulator({ protocol: 'taiden', transport: 'serial', path, clock });
    await sim.start();
    const rig = await startRig(conferenceMicDriver, { protocol: 'taiden', transport: 'serial', path }, undefined, { clock });
    cleanup = async () => {
      await rig.stop();
      await sim.stop();
    };
    await rig.pump(() => rig.status === 'online' && sim.trackingStarted, 'online, tracking started', 30_000);
    sim.micOn(2);
    await rig.pump(() => active(rig).join() === '2', 'mic 2 shown', 5000, 10);
    sim.powerOff();
    sim.powerOn();
    expect(sim.trackingStarted).toBe(false);
    await rig.pump(() => sim.trackingStarted, 'tracking started again', 60_000 + 1000, 250);
    sim.micOn(6);
    await rig.pump(() => active(rig).join() === '6', 'mic 6 shown after the restart', 5000, 10);
    expect(rig.statuses).toEqual(['connecting', 'online']);
  });
});

describe('fault matrix: conference-mic (SDC 8000 behind a TCP gateway)', { timeout: 60_000 }, () => {
  async function gatewayRig(o: { silentFromBoot?: boolean } = {}) {
    const clock = new FakeClock();
    const sim = new ConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp', clock });
    await sim.start();
    const { host, port } = sim.endpoint as { host: string; port: number };
    const peer = new ScriptablePeer(() => ({ host, port }));
    if (o.silentFromBoot) peer.mode = 'silent';
    await peer.listen();
    const rig = await startRig(
      conferenceMicDriver,
      { protocol: 'sdc8000', transport: 'tcp', host: '127.0.0.1', port: peer.port },
      (ms) => peer.pace(ms),
      { clock },
    );
    cleanup = async () => {
      await rig.stop();
      await peer.stop();
      await sim.stop();
    };
    return { sim, peer, rig };
  }

  it('the gateway accepts but nothing comes through: never online, offline with the reason, connects held to the backoff, alert', async () => {
    const { peer, rig } = await gatewayRig({ silentFromBoot: true });
    await neverOnline(rig, () => peer.connects, /no SDC 8000 frame within 15000 ms/);
  });

  it('the gateway passes only garbage (its serial side at another speed than the unit): never online, offline with the reason', async () => {
    let connects = 0;
    const server = net.createServer((s) => {
      connects++;
      s.on('error', () => undefined);
      s.write(Buffer.concat([GARBAGE, Buffer.alloc(64, 0xff)]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const rig = await startRig(
      conferenceMicDriver,
      { protocol: 'sdc8000', transport: 'tcp', host: '127.0.0.1', port },
      undefined,
      { clock: new FakeClock() },
    );
    cleanup = async () => {
      await rig.stop();
      await new Promise<void>((r) => server.close(() => r()));
    };
    await neverOnline(rig, () => connects, /no SDC 8000 frame within 15000 ms/);
  });

  it('goes silent after online (the gateway stays up): offline within sync_timeout_ms + 1 s; back when frames flow again', async () => {
    const { peer, rig } = await gatewayRig();
    await rig.pump(() => rig.status === 'online', 'online', 30_000);
    const t0 = rig.clock.now();
    peer.mode = 'silent';
    await rig.pump(() => rig.status === 'offline', 'offline', SYNC_TIMEOUT_MS + 2000, 100);
    expect(rig.clock.now() - t0).toBeLessThanOrEqual(SYNC_TIMEOUT_MS + 1000 + 100);
    expect(rig.message).toMatch(/no SDC 8000 frame for 15000 ms/);
    peer.mode = 'device';
    await rig.pump(() => rig.status === 'online', 'online again', 70_000 + SYNC_TIMEOUT_MS);
  });
});

describe('fault matrix: conference-mic (udp, Confidea)', { timeout: 60_000 }, () => {
  it('garbage datagrams are skipped; the next good one still applies and the device stays online', async () => {
    const { sim, rig } = await udpRig();
    sim.send(GARBAGE);
    sim.send('{"UID": 4, "status": 1'); // cut short
    sim.send('{"UID": "x", "status": 1}'); // wrong type
    sim.micOn(4);
    await rig.pump(() => active(rig).includes(4), 'mic 4 on after the garbage', 5000, 10);
    expect(active(rig)).toEqual([4]);
    expect(rig.statuses).toEqual(['connecting', 'online']);
  });

  it('the unit restarts (a new socket, a new source port): its datagrams are still taken', async () => {
    const { sim, rig, port } = await udpRig();
    sim.micOn(2);
    await rig.pump(() => active(rig).includes(2), 'mic 2 on', 5000, 10);
    await sim.stop();
    const again = dgram.createSocket('udp4');
    await new Promise<void>((r) => again.bind(0, '127.0.0.1', r));
    try {
      // Confidea G3 camera control p.85: one datagram {"UID": n, "status": s} per change.
      again.send(Buffer.from('{"UID": 2, "status": 0}'), port, '127.0.0.1');
      again.send(Buffer.from('{"UID": 6, "status": 1}'), port, '127.0.0.1');
      await rig.pump(() => active(rig).join() === '6', 'the restarted unit’s changes', 5000, 10);
    } finally {
      await new Promise<void>((r) => again.close(() => r()));
    }
    expect(rig.statuses).toEqual(['connecting', 'online']);
  });

  it.skip('replies split or merged — not applicable: the unit sends one JSON datagram per change (Confidea G3 camera control p.85); UDP keeps datagram boundaries', () =>
    undefined);
  it.skip('refused from boot / accepts then closes — not applicable: UDP has no connection; the boot case (the listen port taken) is in drivers/conference-mic/driver.test.ts', () =>
    undefined);
  it.skip('silent, rejects the handshake, slow replies, action refused — not applicable: the unit only talks (no request, no probe, no action)', () =>
    undefined);
});
