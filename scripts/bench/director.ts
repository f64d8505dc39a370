// Microphone → camera latency: Shure gate bytes written to the agent's TCP
// socket → the VISCA preset recall arriving at the camera over UDP, through
// the real agent (shure-mic driver, director with trigger 0, VISCA driver).
// Baseline, same run: a raw relay (bytes in on TCP, out on UDP, no logic).
// Env: BENCH_DIRECTOR_SECONDS (per rate, default 15), BENCH_DIRECTOR_SOAK_S
// (a longer 200/s run for the RSS figure, default 30; 300 for the 5-minute check, which reports
// the lowest RSS of each minute and whether the last three are flat), BENCH_DIRECTOR_CHILD_ARGS
// (node flags for the agent's process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { repMessage, type ShureSimulator, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { ViscaSimulator } from '../../drivers/visca/index.js';
import { agentBuildOptions } from '../build-agent.js';
import type { ChildReport, ChildSpec } from './director-child.js';
import { agentLaunch, agentNodeFlags, ROOT } from './support.js';
import { type BenchResult, percentile } from './types.js';

const GATE = 'AUTOMIX_GATE_OUT_EXT_SIG';
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Four seats, two per camera (seat n = preset n). Event i turns the previous seat off and
 * seat (i % 4) + 1 on in one write, so every event needs a recall and each camera gets every other one. */
const SEATS = 4;
function frame(i: number): { text: string; preset: number } {
  const on = (i % SEATS) + 1;
  const off = ((i + SEATS - 1) % SEATS) + 1;
  return { text: repMessage(off, GATE, 'OFF') + repMessage(on, GATE, 'ON'), preset: on };
}

interface Run {
  latencies: number[];
  collapsed: number;
  rssStartMb: number;
  rssEndMb: number;
  heapStartMb: number;
  heapEndMb: number;
  /** CPU time of the whole process (agent, simulators and this driver, or the relay) per event. */
  cpuPerEventMs: number;
  /** Every second of the run. */
  samples: { t: number; rssMb: number; heapMb: number }[];
}

interface Run extends ChildReport {
  latencies: number[];
  collapsed: number;
  /** CPU time of the measured process (agent or relay) per event; the simulators are not in it. */
  cpuPerEventMs: number;
}

/** The measured process: started with `spec`, told when the run begins and ends. */
interface Measured {
  begin(): void;
  end(): Promise<ChildReport>;
}

/** Sends events at `rate`/s for `seconds`; `arrive` registers the receive hook. */
async function drive(
  rate: number,
  seconds: number,
  send: (text: string) => void,
  arrive: (fn: (preset: number) => void) => void,
  measured: Measured,
): Promise<Run> {
  const pending: { t0: number; preset: number }[] = [];
  const latencies: number[] = [];
  let collapsed = 0;
  arrive((preset) => {
    const t1 = nowMs();
    // The newest event that asked for this preset: while a recall is in flight only the
    // latest target is kept, so older events were superseded, not delayed.
    const i = pending.findLastIndex((p) => p.preset === preset);
    if (i < 0) return;
    collapsed += i; // older events whose recall was superseded while a move was in flight
    latencies.push(t1 - pending[i].t0);
    pending.splice(0, i + 1);
  });
  let k = 0; // frames continue across the warm-up, so exactly one seat is on at a time
  const pace = async (count: number) => {
    const start = nowMs();
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - nowMs();
      if (wait > 0) await sleep(wait);
      const f = frame(k++);
      pending.push({ t0: nowMs(), preset: f.preset });
      send(f.text);
    }
  };
  // One second of events first, not counted: the measured process is fresh and its code cold.
  await pace(rate);
  await sleep(200);
  pending.splice(0);
  latencies.splice(0);
  collapsed = 0;
  const n = Math.round(rate * seconds);
  measured.begin();
  await sleep(100);
  await pace(n);
  await sleep(200);
  const report = await measured.end();
  return { ...report, latencies, collapsed: collapsed + pending.length, cpuPerEventMs: n ? report.cpuMs / n : Number.NaN };
}

/** The node flags the agent ships with (package.json config.node_flags, as npm start and the .deb use). */
const NODE_FLAGS = agentNodeFlags();

let bundled: Promise<string> | null = null;

/**
 * The measured process runs this file bundled the way the agent ships (esbuild, as
 * scripts/build-agent.ts does), not through tsx, whose transform adds a __name() call
 * to every closure the hot path creates. Built once per run into dist/bench/.
 */
function childBundle(): Promise<string> {
  bundled ??= (async () => {
    const outfile = path.join(ROOT, 'dist/bench/director.mjs');
    await esbuild.build(agentBuildOptions(path.join(path.dirname(fileURLToPath(import.meta.url)), 'director-child.ts'), outfile));
    return outfile;
  })();
  return bundled;
}

/**
 * Starts the agent or the relay in its own process. The simulators and the timing stay
 * here, so a datagram is timed when it reaches the camera's socket, not when the agent's
 * event loop is done with the rest of its turn; memory and CPU figures are the agent's own.
 */
async function startChild(spec: ChildSpec): Promise<Measured & { stop(): Promise<void> }> {
  const child = fork(await childBundle(), [], {
    // BENCH_DIRECTOR_CHILD_ARGS: more node flags for the measured process, e.g. "--cpu-prof".
    execArgv: ['--expose-gc', ...NODE_FLAGS, ...(process.env.BENCH_DIRECTOR_CHILD_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, BENCH_DIRECTOR_CHILD: JSON.stringify(spec) },
  });
  const next = () =>
    new Promise<{ ready?: true; report?: ChildReport; error?: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { ready?: true; report?: ChildReport }));
      child.once('exit', (code) => reject(new Error(`bench child (${spec.kind}) exited with ${code}`)));
    });
  const first = await next();
  if (!first.ready) throw new Error(`bench child (${spec.kind}): ${first.error ?? 'did not start'}`);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    begin: () => child.send('begin'),
    end: async () => {
      const reply = next();
      child.send('end');
      const m = await reply;
      if (!m.report) throw new Error(`bench child (${spec.kind}): ${m.error ?? 'no report'}`);
      return m.report;
    },
    stop: async () => {
      child.send('exit');
      await exited;
    },
  };
}

/** Seat 1 is on cam-1, seat 2 on cam-2: each camera gets every other event. */
async function withAgent<T>(fn: (mic: ShureSimulator, cams: ViscaSimulator[], agent: Measured) => Promise<T>): Promise<T> {
  const mic = await startShureSimulator();
  const cams = [
    await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start(),
    await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start(),
  ];
  try {
    const agent = await startChild({
      kind: 'agent',
      micPort: mic.port,
      camPorts: cams.map((c) => Number(c.endpoint.port)),
      seats: SEATS,
    });
    try {
      return await fn(mic, cams, agent);
    } finally {
      await agent.stop();
    }
  } finally {
    await mic.stop();
    for (const c of cams) await c.stop();
  }
}

/** Raw relay (in the child): TCP server here → its client socket → UDP send → UDP receiver here; no parsing, no logic. */
async function withRelay<T>(
  fn: (send: (t: string) => void, arrive: (f: (p: number) => void) => void, relay: Measured) => Promise<T>,
): Promise<T> {
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  let server: net.Socket | null = null;
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    server = s;
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const relay = await startChild({ kind: 'relay', tcpPort: (srv.address() as net.AddressInfo).port, udpPort: rx.address().port });
  while (!server) await sleep(5);
  try {
    return await fn(
      (t) => server?.write(t),
      // The seat switched on is the frame's last REP.
      (f) =>
        rx.on('message', (m) => {
          const seat = /< REP 0?(\d+) \S+ ON >$/.exec(m.toString('latin1'));
          if (seat) f(Number(seat[1]));
        }),
      relay,
    );
  } finally {
    await relay.stop();
    srv.close();
    rx.close();
  }
}

/** Calls `f(preset)` when a camera receives a preset recall. */
function listen(cams: ViscaSimulator[], f: (preset: number) => void): void {
  for (const cam of cams) {
    cam.on('command', (c) => {
      if (c.request.kind === 'preset' && c.request.op === 'recall' && c.preset !== undefined) f(c.preset);
      // The simulator keeps what it received (up to 10k); empty it so the memory figures are the agent's.
      cam.received.splice(0);
    });
  }
}

/** Lowest RSS of each `win`-second window of the run: RSS is a sawtooth, its floor shows growth. */
function lowestPerWindow(r: Run, seconds: number, win: number): number[] {
  const mins: number[] = [];
  for (let from = 0; from + win <= seconds; from += win) {
    const inWin = r.samples.filter((x) => x.t >= from && x.t < from + win).map((x) => x.rssMb);
    if (inWin.length) mins.push(Math.min(...inWin));
  }
  return mins;
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export async function run(): Promise<BenchResult[]> {
  const seconds = Number(process.env.BENCH_DIRECTOR_SECONDS ?? 15);
  const soak = Number(process.env.BENCH_DIRECTOR_SOAK_S ?? 30);
  const results: BenchResult[] = [];
  const loadBefore = load();
  for (const rate of [10, 200]) {
    const base = await withRelay((send, arrive, relay) => drive(rate, seconds, send, arrive, relay));
    const agent = await withAgent((mic, cams, measured) =>
      drive(
        rate,
        seconds,
        (t) => mic.broadcast(t),
        (f) => listen(cams, f),
        measured,
      ),
    );
    const a = [...agent.latencies].sort((x, y) => x - y);
    const b = [...base.latencies].sort((x, y) => x - y);
    for (const p of [50, 99]) {
      results.push({
        name: `mic → VISCA p${p} at ${rate} events/s (${a.length} samples, ${agent.collapsed} superseded)`,
        value: percentile(a, p),
        unit: 'ms',
        baseline: { name: `raw TCP→UDP relay p${p}`, value: percentile(b, p) },
        goal: rate === 200 && p === 99 ? '≤ baseline + 1 ms' : undefined,
      });
    }
    const path = [...(agent.readToSendMs ?? [])].sort((x, y) => x - y);
    results.push({
      name: `inside the agent: TCP read → UDP send call at ${rate} events/s, p50 / p99 (${path.length} sends)`,
      value: percentile(path, 50),
      unit: 'ms',
      baseline: { name: 'p99', value: percentile(path, 99) },
    });
    const gc = agent.gc;
    results.push({
      name:
        `agent's GC at ${rate} events/s: ${gc.minor} scavenges (${gc.minorMs.toFixed(1)} ms, longest ${gc.minorMaxMs.toFixed(2)} ms), ` +
        `${gc.major} major (${gc.majorMs.toFixed(1)} ms); events per scavenge`,
      value: gc.minor ? Math.round((rate * seconds) / gc.minor) : Number.NaN,
      unit: '',
    });
    // CPU per event is steadier than latency on a shared machine: a guide for the hot path's cost.
    results.push({
      name: `CPU per event at ${rate} events/s (the agent's process)`,
      value: agent.cpuPerEventMs,
      unit: 'ms',
      baseline: { name: "raw relay's process", value: base.cpuPerEventMs },
    });
  }
  const soakRun = await withAgent((mic, cams, measured) =>
    drive(
      200,
      soak,
      (t) => mic.broadcast(t),
      (f) => listen(cams, f),
      measured,
    ),
  );
  const db = soakRun.db ?? { fileMb: Number.NaN, cacheLimitMb: Number.NaN };
  // RSS moves in a sawtooth (allocator and SQLite pages are returned in bursts) and rises
  // while caches warm up, so compare the lowest RSS of each window after the first one.
  const win = soak >= 240 ? 60 : Math.max(10, Math.floor(soak / 4));
  const mins = lowestPerWindow(soakRun, soak, win);
  const afterWarmup = mins.slice(1);
  // "Flat": the floor of the last three windows moves by less than 1 MB.
  const tail = mins.slice(-3);
  const tailGrowth = tail.length === 3 ? Math.max(...tail) - Math.min(...tail) : Number.NaN;
  results.push({
    name:
      `agent's RSS growth over a ${soak} s run at 200 events/s: lowest RSS per ${win} s window ` +
      `[${mins.map((m) => m.toFixed(1)).join(', ')}] MB, last minus second (the first is warm-up); ` +
      `last three windows ${tailGrowth <= 1 ? 'flat' : 'not flat'} (spread ${tailGrowth.toFixed(1)} MB); ` +
      `SQLite file grew to ${db.fileMb.toFixed(1)} MB (audit + decisions), its page cache may hold up to ${db.cacheLimitMb.toFixed(0)} MB`,
    value: (afterWarmup.at(-1) ?? Number.NaN) - (afterWarmup[0] ?? Number.NaN),
    unit: 'MB',
    goal: 'no growth over 5 minutes (BENCH_DIRECTOR_SOAK_S=300)',
  });
  results.push({
    name: `agent's JS heap growth over the same run (after GC; ${soakRun.heapStartMb.toFixed(1)} → ${soakRun.heapEndMb.toFixed(1)} MB)`,
    value: soakRun.heapEndMb - soakRun.heapStartMb,
    unit: 'MB',
    goal: 'no growth',
  });
  results.push({
    name: `load average (1, 5, 15 min) before the run: ${loadBefore}; after: ${load()}; CPUs: ${os.cpus().length}; agent launched as: ${agentLaunch()}`,
    value: os.loadavg()[0],
    unit: '',
  });
  return results;
}
