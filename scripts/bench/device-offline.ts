// How fast a lost device is seen (issue 17): per network driver with its
// default probe interval and request timeout, the time from the device
// dropping — (a) by closing its socket (serial: the adapter pulled; UDP: the
// camera process gone, so the port is unreachable; HTTP: the server gone, so
// connects are refused), (b) by going silent with the socket open — to status
// `offline` and to the `device_offline` alert. Real clock, real host, state
// store and alerts, a real socket to a scriptable peer in front of the
// driver's simulator (test/support/fault-peer.ts), or the simulator's own
// fault knobs where the transport has no connection to cut (UDP, serial).
//
// The probe interval and timeout printed are the ones the driver handed the
// lifecycle (`ctx.connect` is wrapped to read them), not a copy kept here.
// The alert fires after `[alerts] device_offline_after_s` (default 60 s); to
// keep the run short this bench sets it to 1 s, so "to alert" is "to offline"
// + the debounce + the alert's own latency. Silence starts right after the
// device came online, when the probe timer has just started: the worst case,
// which the goal (probe interval + one timeout) is about; it is timed from the
// device's last byte to the agent (or the moment the simulator went silent) to
// the status event. All drivers, and each driver's two cases, run at once, so
// the whole bench takes about the longest probe interval + timeout (the ICS
// calendar's 300 s poll + 15 s). A poll-driven HTTP device notices a closed
// server only at its next poll: its "closed" goal is the poll interval + timeout.
// BENCH_OFFLINE_DRIVERS=videohub,qsys runs only those drivers (a shorter, lighter run).
import type { DriverContext, DriverDefinition } from '../../src/host/contract.js';
import { realClock } from '../../src/util/clock.js';
import { conferenceMicDriver } from '../../drivers/conference-mic/index.js';
import { startConferenceMicSimulator } from '../../drivers/conference-mic/simulator.js';
import { extronSisDriver, SisSimulator } from '../../drivers/extron-sis/index.js';
import { icsDriver, SAMPLE_ICS } from '../../drivers/ics/index.js';
import { IcsServer } from '../../drivers/ics/simulator.js';
import { kramerP3000Driver, P3kSimulator } from '../../drivers/kramer-p3000/index.js';
import { qsysDriver } from '../../drivers/qsys/index.js';
import { QrcSimulator } from '../../drivers/qsys/simulator.js';
import { shureMicDriver, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { tcsDriver } from '../../drivers/tcs/index.js';
import { TcsEmulator } from '../../drivers/tcs/simulator.js';
import { tesiraDriver } from '../../drivers/tesira/index.js';
import { TesiraSimulator } from '../../drivers/tesira/simulator.js';
import { VideohubSimulator, videohubDriver } from '../../drivers/videohub/index.js';
import { viscaDriver } from '../../drivers/visca/index.js';
import { ViscaSimulator } from '../../drivers/visca/simulator.js';
import { vmixDriver } from '../../drivers/vmix/index.js';
import { VmixSimulator } from '../../drivers/vmix/simulator.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { ScriptablePeer } from '../../test/support/fault-peer.js';
import { until as waitUntil } from '../../test/support/wait.js';
import { type Rig, startRig } from '../../test/support/fault-rig.js';
import fs from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { BenchResult } from './types.js';

const DEBOUNCE_S = 1;

/** A device the bench can drop: its agent-side config, and how it closes or goes silent. */
interface Dropper {
  config: Record<string, unknown>;
  /** The connection is gone: closed and new connects refused (serial: adapter pulled; UDP: port unreachable). */
  close(): Promise<void>;
  /** Still connected, answers nothing. Returns the reference time silence is measured from (`performance.now()`). */
  silence(): Promise<number>;
  stop(): Promise<void>;
}

interface Case {
  name: string;
  driver: DriverDefinition;
  /** A TCP device behind the scriptable peer: the simulator's port, and the agent's config for the peer's port. */
  tcp?: { device(): Promise<{ port: number; stop(): Promise<void> }>; config(peerPort: number): Record<string, unknown> };
  /** A device with its own fault knobs (UDP, serial). */
  own?: () => Promise<Dropper>;
  /** Poll-driven (HTTP): a closed server is seen at the next poll, so its closed goal is the poll interval + timeout. */
  polled?: boolean;
  /**
   * No connection to lose (UDP): a camera that is gone is a camera that is silent, so its "closed" goal is
   * the silence limit too. (On loopback the kernel answers ICMP "port unreachable", but the agent's VISCA
   * socket is shared by every camera on the port (drivers/visca/shared-udp.ts), so it is not connected and
   * does not see it; a camera powered off on a real network sends nothing at all.)
   */
  connectionless?: boolean;
  /** An action with valid params: invoked once the device is offline, it must be refused at once (goal < 50 ms). */
  action?: { name: string; params: Record<string, unknown> };
}

type TcpCase = NonNullable<Case['tcp']>;
const tcpDevice = (config: TcpCase['config'], device: TcpCase['device']): TcpCase => ({ device, config });
const hostPort =
  (extra: Record<string, unknown> = {}) =>
  (port: number) => ({ host: '127.0.0.1', port, ...extra });

let serialN = 0;

/** VISCA over UDP or serial, with the simulator's own knobs. */
async function viscaDropper(framing: 'sony-udp' | 'serial'): Promise<Dropper> {
  const path = framing === 'serial' ? `/dev/ttyVISCABENCH${process.pid}-${serialN++}` : undefined;
  const sim = await new ViscaSimulator({ framing, path, motionMs: 10 }).start();
  if (path && sim.binding) simulatedSerialPorts.set(path, sim.binding);
  return {
    config: { framing, ...sim.endpoint },
    close: async () => {
      // Serial: the adapter pulled. UDP: the camera's process is gone; its port answers ICMP "unreachable".
      if (framing === 'serial') sim.unplug();
      else await sim.stop();
    },
    silence: async () => {
      sim.setSilent(true);
      return performance.now();
    },
    stop: async () => {
      await sim.stop();
      if (path) simulatedSerialPorts.delete(path);
    },
  };
}

const TCS_PASSWORD = 'bench-password';

const CASES: Case[] = [
  {
    name: 'extron-sis',
    action: { name: 'route', params: { input: 2, output: 1, layer: 'video' } },
    driver: extronSisDriver,
    tcp: tcpDevice(hostPort(), async () => {
      const sim = new SisSimulator({ inputs: 4, outputs: 2 });
      await sim.start();
      return { port: sim.address.port, stop: () => sim.stop() };
    }),
  },
  {
    name: 'kramer-p3000',
    action: { name: 'route', params: { input: 2, output: 1, layer: 'video' } },
    driver: kramerP3000Driver,
    tcp: tcpDevice(hostPort(), async () => {
      const sim = new P3kSimulator({ inputs: 4, outputs: 2 });
      await sim.start();
      return { port: sim.address.port, stop: () => sim.stop() };
    }),
  },
  {
    name: 'videohub',
    action: { name: 'route', params: { input: 2, output: 1 } },
    driver: videohubDriver,
    tcp: tcpDevice(hostPort(), async () => {
      const sim = new VideohubSimulator({ inputs: 4, outputs: 4 });
      return { port: await sim.start(), stop: () => sim.stop() };
    }),
  },
  {
    name: 'vmix',
    action: { name: 'cut', params: {} },
    driver: vmixDriver,
    tcp: tcpDevice(hostPort(), async () => {
      const sim = new VmixSimulator();
      return { port: await sim.start(), stop: () => sim.stop() };
    }),
  },
  {
    name: 'qsys',
    action: { name: 'level', params: { control: 'gain', db: -12 } },
    driver: qsysDriver,
    tcp: tcpDevice(hostPort({ controls: { gain: { control: 'Gain', type: 'level' } } }), async () => {
      const sim = new QrcSimulator({ named: { Gain: { value: -10, kind: 'gain' } } });
      return { port: await sim.start(), stop: () => sim.stop() };
    }),
  },
  {
    name: 'tesira',
    action: { name: 'level', params: { control: 'gain', db: -12 } },
    driver: tesiraDriver,
    tcp: tcpDevice(hostPort({ controls: { gain: { instance: 'Level1', type: 'level', channel: 1 } } }), async () => {
      const sim = new TesiraSimulator({ blocks: { Level1: { kind: 'level', channels: { 1: -10 } } } });
      return { port: await sim.start(), stop: () => sim.stop() };
    }),
  },
  {
    name: 'shure-mic',
    action: { name: 'refresh', params: {} },
    driver: shureMicDriver,
    tcp: tcpDevice(hostPort(), async () => {
      const sim = await startShureSimulator();
      return { port: sim.port, stop: () => sim.stop() };
    }),
  },
  {
    name: 'visca (raw-tcp)',
    action: { name: 'home', params: {} },
    driver: viscaDriver,
    tcp: tcpDevice(hostPort({ framing: 'raw-tcp' }), async () => {
      const sim = await new ViscaSimulator({ framing: 'raw-tcp', motionMs: 10 }).start();
      return { port: sim.endpoint.port as number, stop: () => sim.stop() };
    }),
  },
  {
    name: 'visca (sony-udp)',
    driver: viscaDriver,
    own: () => viscaDropper('sony-udp'),
    connectionless: true,
    action: { name: 'home', params: {} },
  },
  { name: 'visca (serial)', driver: viscaDriver, own: () => viscaDropper('serial'), action: { name: 'home', params: {} } },
  {
    name: 'conference-mic (tcp)',
    driver: conferenceMicDriver,
    tcp: tcpDevice(hostPort({ protocol: 'sdc8000', transport: 'tcp' }), async () => {
      const sim = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'tcp' });
      return { port: (sim.endpoint as { port: number }).port, stop: () => sim.stop() };
    }),
  },
  {
    name: 'tcs (http)',
    action: { name: 'participants', params: { id: 'c0' } },
    driver: tcsDriver,
    polled: true,
    tcp: tcpDevice(
      (port) => ({
        connectionString: `server=http://127.0.0.1:${port}; user=room101; password=${TCS_PASSWORD}`,
        api_version: 'v3.11',
      }),
      async () => {
        const emu = new TcsEmulator({ users: { room101: TCS_PASSWORD } });
        const url = new URL(await emu.start());
        return { port: Number(url.port), stop: () => emu.stop() };
      },
    ),
  },
  {
    name: 'ics (http)',
    action: { name: 'list_events', params: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' } },
    driver: icsDriver,
    polled: true,
    tcp: tcpDevice(
      (port) => ({ url: `http://127.0.0.1:${port}/room.ics` }),
      async () => {
        const server = new IcsServer(fs.readFileSync(SAMPLE_ICS, 'utf8'));
        const url = new URL(await server.start());
        return { port: Number(url.port), stop: () => server.stop() };
      },
    ),
  },
];

/** Polls every 2 ms: the alert figure is taken when the poll sees it (status times come from the events). */
const until = (pred: () => boolean, what: string, limitMs: number) => waitUntil(pred, what, limitMs, 2);

interface Timing {
  offlineMs: number;
  alertMs: number;
  /** An action invoked while offline: time to its DEVICE_OFFLINE refusal (NaN when the case has no action). */
  refusedMs: number;
}

/** The liveness figures the driver handed the lifecycle (`ctx.connect`'s hooks). */
interface Liveness {
  probeMs: number;
  timeoutMs: number;
}

/** The driver, with `ctx.connect` wrapped so the bench reads the probe interval and timeout the driver chose. */
function watched(driver: DriverDefinition, seen: Partial<Liveness>): DriverDefinition {
  return {
    ...driver,
    create(config, ctx: DriverContext) {
      const connect: DriverContext['connect'] = (link, hooks) => {
        seen.probeMs = hooks.probeIntervalMs;
        seen.timeoutMs = hooks.probeTimeoutMs;
        return ctx.connect(link, hooks);
      };
      return driver.create(config, { ...ctx, connect });
    },
  };
}

/** Brings the device online, drops it (`close` or `silent`), times offline and the alert. */
async function measure(c: Case, how: 'close' | 'silent', live: Partial<Liveness>): Promise<Timing> {
  let dropper: Dropper;
  let peer: ScriptablePeer | null = null;
  if (c.tcp) {
    const device = await c.tcp.device();
    const p = new ScriptablePeer(() => ({ host: '127.0.0.1', port: device.port }));
    peer = p;
    await p.listen();
    dropper = {
      config: c.tcp.config(p.port),
      close: () => p.refuse(),
      silence: async () => {
        p.mode = 'silent';
        // Silence is timed from the device's last byte to the agent (the goal's reference), not from this line.
        return p.lastToAgentAt;
      },
      stop: () => device.stop(),
    };
  } else if (c.own) dropper = await c.own();
  else throw new Error(`${c.name}: no device`);
  let rig: Rig | null = null;
  try {
    // The loader applies the schema's defaults before a driver sees its config; so does this bench.
    const config = Value.Default(c.driver.config, structuredClone(dropper.config)) as Record<string, unknown>;
    rig = await startRig(watched(c.driver, live), config, undefined, { clock: realClock, debounceS: DEBOUNCE_S });
    const r = rig;
    await until(() => r.status === 'online', `${c.name} online`, 30_000);
    const seen = r.statuses.length;
    let t0 = performance.now();
    if (how === 'close') await dropper.close();
    else t0 = await dropper.silence();
    const limit = (live.probeMs ?? 60_000) + (live.timeoutMs ?? 30_000) + 30_000;
    await until(() => r.statuses.length > seen && r.status !== 'online', `${c.name} offline`, limit);
    // The time of the status event itself, not of the poll that noticed it.
    const offlineAt = r.statusTimes[seen] ?? performance.now();
    await until(
      () => r.alerts.some((a) => a.kind === 'device_offline' && a.state === 'raised'),
      `${c.name} alert`,
      DEBOUNCE_S * 1000 + 10_000,
    );
    const alertMs = performance.now() - t0;
    let refusedMs = Number.NaN;
    if (c.action) {
      const t1 = performance.now();
      const err = await r.invoke(c.action.name, c.action.params).then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      refusedMs = performance.now() - t1;
      if (err?.code !== 'DEVICE_OFFLINE') throw new Error(`${c.name}: action while offline answered ${err?.code ?? 'success'}`);
    }
    return { offlineMs: offlineAt - t0, alertMs, refusedMs };
  } finally {
    await rig?.stop();
    await peer?.stop();
    await dropper.stop();
  }
}

export async function run(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const only = process.env.BENCH_OFFLINE_DRIVERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = only?.length ? CASES.filter((c) => only.some((o) => c.name === o || c.name.startsWith(`${o} `))) : CASES;
  if (only?.length && chosen.length === 0)
    throw new Error(`BENCH_OFFLINE_DRIVERS: no driver matches ${only.join(',')} (known: ${CASES.map((c) => c.name).join(', ')})`);
  const results = await Promise.all(
    chosen.map(async (c) => {
      const live: Partial<Liveness> = {};
      const [closed, silent] = await Promise.all([measure(c, 'close', live), measure(c, 'silent', {})]);
      return { c, live, closed, silent };
    }),
  );
  for (const { c, live, closed, silent } of results) {
    const probeMs = live.probeMs ?? Number.NaN;
    const timeoutMs = live.timeoutMs ?? Number.NaN;
    const probe = `${c.polled ? 'poll' : 'probe'} ${probeMs / 1000} s, timeout ${timeoutMs / 1000} s`;
    const limit = `≤ ${probeMs + timeoutMs} ms (${c.polled ? 'poll' : 'probe'} + timeout)`;
    out.push({
      name: `${c.name}: closed → offline (${probe})`,
      value: closed.offlineMs,
      unit: 'ms',
      goal: c.polled || c.connectionless ? limit : '≤ 1000 ms',
    });
    out.push({ name: `${c.name}: closed → alert (debounce ${DEBOUNCE_S} s)`, value: closed.alertMs, unit: 'ms' });
    if (c.action)
      out.push({
        name: `${c.name}: action "${c.action.name}" while offline → refused`,
        value: closed.refusedMs,
        unit: 'ms',
        goal: '< 50 ms',
      });
    out.push({ name: `${c.name}: silent → offline (${probe})`, value: silent.offlineMs, unit: 'ms', goal: limit });
    out.push({ name: `${c.name}: silent → alert (debounce ${DEBOUNCE_S} s)`, value: silent.alertMs, unit: 'ms' });
  }
  return out;
}
