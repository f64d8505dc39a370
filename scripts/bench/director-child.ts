// The measured process of scripts/bench/director.ts: the agent (or the raw
// relay) in a process of its own, bundled like the shipped agent. It reports
// its own memory, CPU and read → send times to the parent, which runs the
// simulators and the clock. Does nothing unless BENCH_DIRECTOR_CHILD is set.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';
import pino from 'pino';
import { Agent } from '../../src/app.js';
import { createDirector } from '../../src/director/index.js';

export type ChildSpec =
  | { kind: 'agent'; micPort: number; camPorts: number[]; seats: number }
  | { kind: 'relay'; tcpPort: number; udpPort: number };

/** What the measured process (agent or relay) reports about itself after a run. */
export interface ChildReport {
  rssStartMb: number;
  rssEndMb: number;
  heapStartMb: number;
  heapEndMb: number;
  cpuMs: number;
  /** Every second of the run. */
  samples: { t: number; rssMb: number; heapMb: number }[];
  db?: { fileMb: number; cacheLimitMb: number };
  /** Agent only: ms from a TCP read's 'data' event to the UDP send it caused (the agent's own work). */
  readToSendMs?: number[];
  /** Garbage collections during the run: minor (scavenge) and major, count and pause ms. */
  gc: { minor: number; minorMs: number; minorMaxMs: number; major: number; majorMs: number };
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 2 ** 20;

/** Runs in the child: the agent (or the relay), answering begin / end / exit from the parent. */
async function child(spec: ChildSpec): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  let stop: () => Promise<void>;
  let dbInfo: (() => ChildReport['db']) | undefined;
  try {
    if (spec.kind === 'agent') ({ stop, dbInfo } = await childAgent(spec));
    else stop = await childRelay(spec);
  } catch (e) {
    send({ error: (e as Error).message });
    process.exit(1);
  }
  const readToSend = spec.kind === 'agent' ? traceReadToSend() : null;
  const gc = { minor: 0, minorMs: 0, minorMaxMs: 0, major: 0, majorMs: 0 };
  // Entries arrive after the fact: count those that started inside the run (not begin's forced GC).
  let window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < window.from || e.startTime > window.to) continue;
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.minor++;
        gc.minorMs += e.duration;
        gc.minorMaxMs = Math.max(gc.minorMaxMs, e.duration);
      } else {
        gc.major++;
        gc.majorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  let cpu0 = process.cpuUsage();
  let t0 = 0;
  let start = { rss: 0, heap: 0 };
  let samples: ChildReport['samples'] = [];
  let sampler: NodeJS.Timeout | undefined;
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ t: Math.floor((nowMs() - t0) / 1000), rssMb: mb(m.rss), heapMb: mb(m.heapUsed) });
  };
  process.on('message', async (m) => {
    if (m === 'begin') {
      global.gc?.();
      const u = process.memoryUsage();
      start = { rss: mb(u.rss), heap: mb(u.heapUsed) };
      samples = [];
      readToSend?.splice(0);
      Object.assign(gc, { minor: 0, minorMs: 0, minorMaxMs: 0, major: 0, majorMs: 0 });
      window = { from: performance.now(), to: Number.POSITIVE_INFINITY };
      t0 = nowMs();
      cpu0 = process.cpuUsage();
      sampler = setInterval(sample, 1000);
    } else if (m === 'end') {
      clearInterval(sampler);
      window.to = performance.now();
      const cpu = process.cpuUsage(cpu0);
      await sleep(50); // GC entries of the run's last moments are delivered late
      global.gc?.();
      const u = process.memoryUsage();
      const report: ChildReport = {
        rssStartMb: start.rss,
        rssEndMb: mb(u.rss),
        heapStartMb: start.heap,
        heapEndMb: mb(u.heapUsed),
        cpuMs: (cpu.user + cpu.system) / 1000,
        samples,
        db: dbInfo?.(),
        readToSendMs: readToSend ?? undefined,
        gc,
      };
      send({ report });
    } else if (m === 'exit') {
      await stop();
      process.exit(0);
    }
  });
  send({ ready: true });
}

/** Times, inside the agent, each TCP read that leads to a UDP send within the same turn. */
function traceReadToSend(): number[] {
  const out: number[] = [];
  let readAt: number | null = null;
  const emit = net.Socket.prototype.emit as (this: net.Socket, ...a: unknown[]) => boolean;
  net.Socket.prototype.emit = function (this: net.Socket, ...args: unknown[]) {
    if (args[0] !== 'data') return emit.apply(this, args);
    readAt = nowMs();
    try {
      return emit.apply(this, args);
    } finally {
      readAt = null;
    }
  } as typeof net.Socket.prototype.emit;
  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    if (readAt !== null) {
      out.push(nowMs() - readAt);
      readAt = null;
    }
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof send;
  return out;
}

async function childAgent(spec: Extract<ChildSpec, { kind: 'agent' }>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-director-'));
  const toml = `[agent]
room_id = "bench"
listen = "127.0.0.1:0"
data_dir = "data"
log_level = "warn"

[devices.mxa]
driver = "shure-mic"
host = "127.0.0.1"
port = ${spec.micPort}

${spec.camPorts.map((port, i) => `[devices.cam-${i + 1}]\ndriver = "visca"\nframing = "sony-udp"\nhost = "127.0.0.1"\nport = ${port}\n`).join('\n')}
[director]
overview = { camera = "cam-1", preset = 50 }
trigger_s = 0
gap_s = 0
min_dwell_s = 0
silence_s = 600
ping_pong_switches = 0
decision_log_size = 1000

${Array.from({ length: spec.seats }, (_, i) => `[[director.sources]]\ndevice = "mxa"\nchannel = ${i + 1}\ncamera = "cam-${(i % 2) + 1}"\npreset = ${i + 1}\n`).join('\n')}
`;
  fs.writeFileSync(path.join(dir, 'api.toml'), toml);
  // Only the director feature: the figures belong to the microphone → camera path.
  const agent = new Agent({
    configFile: path.join(dir, 'api.toml'),
    logger: pino({ level: 'warn' }),
    features: [createDirector],
  });
  await agent.start();
  const end = Date.now() + 10_000;
  const online = (id: string) => agent.devices.get(id)?.status.status === 'online';
  while (!['mxa', 'cam-1', 'cam-2'].every(online)) {
    if (Date.now() > end) throw new Error('bench: devices did not come online');
    await sleep(20);
  }
  await sleep(300);
  return {
    stop: async () => {
      await agent.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    /** Size of the agent's SQLite file (+ WAL) and its page-cache limit. */
    dbInfo: () => {
      const file = agent.store.file;
      const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      return {
        fileMb: mb(size(file) + size(`${file}-wal`)),
        cacheLimitMb: -Number(agent.store.db.pragma('cache_size', { simple: true })) / 1024,
      };
    },
  };
}

async function childRelay(spec: Extract<ChildSpec, { kind: 'relay' }>): Promise<() => Promise<void>> {
  const tx = dgram.createSocket('udp4');
  const client = net.connect(spec.tcpPort, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((r) => client.once('connect', () => r()));
  client.on('data', (b: Buffer) => tx.send(b, spec.udpPort, '127.0.0.1'));
  return async () => {
    client.destroy();
    tx.close();
  };
}

if (process.env.BENCH_DIRECTOR_CHILD) void child(JSON.parse(process.env.BENCH_DIRECTOR_CHILD) as ChildSpec);
