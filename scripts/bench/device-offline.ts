// How fast a lost device is seen (issue 17): per network driver with its
// default probe interval and request timeout, the time from the device
// dropping — (a) by closing its socket, (b) by going silent with the socket
// open — to status `offline` and to the `device_offline` alert. Real clock,
// real host, state store and alerts, a real socket to a scriptable peer in
// front of the driver's simulator (test/support/fault-peer.ts).
//
// The alert fires after `[alerts] device_offline_after_s` (default 60 s); to
// keep the run short this bench sets it to 1 s, so "to alert" is "to offline"
// + the debounce + the alert's own latency. Silence starts right after the
// device came online, when the probe timer has just started: the worst case,
// which the goal (probe interval + one timeout) is about; it is timed from the
// device's last byte to the agent to the status event. All drivers run at
// once, so the whole bench takes about the longest probe interval (Extron, 60 s).
// BENCH_OFFLINE_DRIVERS=videohub,qsys runs only those drivers (a shorter, lighter run).
import type { DriverDefinition } from '../../src/host/contract.js';
import { realClock } from '../../src/util/clock.js';
import { extronSisDriver, SisSimulator } from '../../drivers/extron-sis/index.js';
import { kramerP3000Driver, P3kSimulator } from '../../drivers/kramer-p3000/index.js';
import { qsysDriver } from '../../drivers/qsys/index.js';
import { QrcSimulator } from '../../drivers/qsys/simulator.js';
import { shureMicDriver, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { tesiraDriver } from '../../drivers/tesira/index.js';
import { TesiraSimulator } from '../../drivers/tesira/simulator.js';
import { VideohubSimulator, videohubDriver } from '../../drivers/videohub/index.js';
import { vmixDriver } from '../../drivers/vmix/index.js';
import { VmixSimulator } from '../../drivers/vmix/simulator.js';
import { ScriptablePeer } from '../../test/support/fault-peer.js';
import { type Rig, startRig } from '../../test/support/fault-rig.js';
import type { BenchResult } from './types.js';

const DEBOUNCE_S = 1;

interface Case {
  name: string;
  driver: DriverDefinition;
  /** The default probe interval and request timeout of the driver (its config schema defaults). */
  probeMs: number;
  timeoutMs: number;
  device(): Promise<{ port: number; stop(): Promise<void> }>;
  config?: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'extron-sis',
    driver: extronSisDriver,
    probeMs: 60_000,
    timeoutMs: 2000,
    device: async () => {
      const sim = new SisSimulator({ inputs: 4, outputs: 2 });
      await sim.start();
      return { port: sim.address.port, stop: () => sim.stop() };
    },
  },
  {
    name: 'kramer-p3000',
    driver: kramerP3000Driver,
    probeMs: 30_000,
    timeoutMs: 2000,
    device: async () => {
      const sim = new P3kSimulator({ inputs: 4, outputs: 2 });
      await sim.start();
      return { port: sim.address.port, stop: () => sim.stop() };
    },
  },
  {
    name: 'videohub',
    driver: videohubDriver,
    probeMs: 15_000,
    timeoutMs: 2000,
    device: async () => {
      const sim = new VideohubSimulator({ inputs: 4, outputs: 4 });
      return { port: await sim.start(), stop: () => sim.stop() };
    },
  },
  {
    name: 'vmix',
    driver: vmixDriver,
    probeMs: 10_000,
    timeoutMs: 3000,
    device: async () => {
      const sim = new VmixSimulator();
      return { port: await sim.start(), stop: () => sim.stop() };
    },
  },
  {
    name: 'qsys',
    driver: qsysDriver,
    probeMs: 20_000,
    timeoutMs: 3000,
    config: { controls: { gain: { control: 'Gain', type: 'level' } } },
    device: async () => {
      const sim = new QrcSimulator({ named: { Gain: { value: -10, kind: 'gain' } } });
      return { port: await sim.start(), stop: () => sim.stop() };
    },
  },
  {
    name: 'tesira',
    driver: tesiraDriver,
    probeMs: 20_000,
    timeoutMs: 3000,
    config: { controls: { gain: { instance: 'Level1', type: 'level', channel: 1 } } },
    device: async () => {
      const sim = new TesiraSimulator({ blocks: { Level1: { kind: 'level', channels: { 1: -10 } } } });
      return { port: await sim.start(), stop: () => sim.stop() };
    },
  },
  {
    name: 'shure-mic',
    driver: shureMicDriver,
    probeMs: 30_000,
    timeoutMs: 2000,
    device: async () => {
      const sim = await startShureSimulator();
      return { port: sim.port, stop: () => sim.stop() };
    },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, what: string, limitMs: number): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > limitMs) throw new Error(`no ${what} within ${limitMs} ms`);
    await sleep(2);
  }
}

interface Timing {
  offlineMs: number;
  alertMs: number;
}

/** Brings the device online, drops it (`close` or `silent`), times offline and the alert. */
async function measure(c: Case, how: 'close' | 'silent'): Promise<Timing> {
  const device = await c.device();
  const peer = new ScriptablePeer(() => ({ host: '127.0.0.1', port: device.port }));
  await peer.listen();
  let rig: Rig | null = null;
  try {
    rig = await startRig(c.driver, { host: '127.0.0.1', port: peer.port, ...c.config }, undefined, {
      clock: realClock,
      debounceS: DEBOUNCE_S,
    });
    const r = rig;
    await until(() => r.status === 'online', `${c.name} online`, 30_000);
    const seen = r.statuses.length;
    let t0 = performance.now();
    if (how === 'close') {
      // The device is gone: connection closed and new connects refused.
      await peer.refuse();
    } else {
      peer.mode = 'silent';
      // Silence is timed from the device's last byte to the agent (the goal's reference), not from this line.
      t0 = peer.lastToAgentAt;
    }
    await until(() => r.statuses.length > seen, `${c.name} offline`, c.probeMs + c.timeoutMs + 30_000);
    // The time of the status event itself, not of the poll that noticed it.
    const offlineAt = r.statusTimes[seen] ?? performance.now();
    await until(
      () => r.alerts.some((a) => a.kind === 'device_offline' && a.state === 'raised'),
      `${c.name} alert`,
      DEBOUNCE_S * 1000 + 10_000,
    );
    return { offlineMs: offlineAt - t0, alertMs: performance.now() - t0 };
  } finally {
    await rig?.stop();
    await peer.stop();
    await device.stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const only = process.env.BENCH_OFFLINE_DRIVERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = only?.length ? CASES.filter((c) => only.includes(c.name)) : CASES;
  if (only?.length && chosen.length !== only.length)
    throw new Error(`BENCH_OFFLINE_DRIVERS: unknown driver in ${only.join(',')} (known: ${CASES.map((c) => c.name).join(', ')})`);
  const results = await Promise.all(
    chosen.map(async (c) => ({ c, closed: await measure(c, 'close'), silent: await measure(c, 'silent') })),
  );
  for (const { c, closed, silent } of results) {
    const probe = `probe ${c.probeMs / 1000} s, timeout ${c.timeoutMs / 1000} s`;
    out.push({ name: `${c.name}: closed → offline (${probe})`, value: closed.offlineMs, unit: 'ms', goal: '≤ 1000 ms' });
    out.push({ name: `${c.name}: closed → alert (debounce ${DEBOUNCE_S} s)`, value: closed.alertMs, unit: 'ms' });
    out.push({
      name: `${c.name}: silent → offline (${probe})`,
      value: silent.offlineMs,
      unit: 'ms',
      goal: `≤ ${c.probeMs + c.timeoutMs} ms (probe + timeout)`,
    });
    out.push({ name: `${c.name}: silent → alert (debounce ${DEBOUNCE_S} s)`, value: silent.alertMs, unit: 'ms' });
  }
  return out;
}
