// Microphone → camera latency: Shure gate bytes written to the agent's TCP
// socket → the VISCA preset recall arriving at the camera over UDP, through
// the real agent (shure-mic driver, director with trigger 0, VISCA driver).
// Baseline, same run: a raw relay (bytes in on TCP, out on UDP, no logic).
// Env: BENCH_DIRECTOR_SECONDS (per rate, default 15), BENCH_DIRECTOR_SOAK_S
// (a longer 200/s run for the RSS figure, default 30; 300 for the 5-minute check).
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { repMessage, type ShureSimulator, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { ViscaSimulator } from '../../drivers/visca/index.js';
import { Agent } from '../../src/app.js';
import { createDirector } from '../../src/director/index.js';
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
  /** Every 5 s of the run. */
  samples: { t: number; rssMb: number; heapMb: number }[];
}

/** Sends events at `rate`/s for `seconds`; `arrive` registers the receive hook. */
async function drive(
  rate: number,
  seconds: number,
  send: (text: string) => void,
  arrive: (fn: (preset: number) => void) => void,
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
  global.gc?.();
  const rssStartMb = process.memoryUsage().rss / 2 ** 20;
  const heapStartMb = process.memoryUsage().heapUsed / 2 ** 20;
  const n = Math.round(rate * seconds);
  const start = nowMs();
  const samples: { t: number; rssMb: number; heapMb: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (i % (rate * 5) === 0) {
      const m = process.memoryUsage();
      samples.push({ t: Math.round((nowMs() - start) / 1000), rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 });
      if (process.env.BENCH_DIRECTOR_DEBUG)
        console.log(JSON.stringify({ ...samples.at(-1), ext: m.external / 2 ** 20, ab: m.arrayBuffers / 2 ** 20 }));
    }
    const due = start + (i * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 0) await sleep(wait);
    const f = frame(i);
    pending.push({ t0: nowMs(), preset: f.preset });
    send(f.text);
  }
  await sleep(200);
  global.gc?.();
  const end = process.memoryUsage();
  return {
    latencies,
    collapsed: collapsed + pending.length,
    rssStartMb,
    rssEndMb: end.rss / 2 ** 20,
    heapStartMb,
    heapEndMb: end.heapUsed / 2 ** 20,
    samples,
  };
}

/** Size of the agent's SQLite file (+ WAL) after the last run, and its page-cache limit. */
let lastDb = { fileMb: 0, cacheLimitMb: 0 };

/** Seat 1 is on cam-1, seat 2 on cam-2: each camera gets every other event. */
async function withAgent<T>(fn: (mic: ShureSimulator, cams: ViscaSimulator[]) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-director-'));
  const mic = await startShureSimulator();
  const cams = [
    await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start(),
    await new ViscaSimulator({ framing: 'sony-udp', motionMs: 0 }).start(),
  ];
  const toml = `[agent]
room_id = "bench"
listen = "127.0.0.1:0"
data_dir = "data"
log_level = "warn"

[devices.mxa]
driver = "shure-mic"
host = "127.0.0.1"
port = ${mic.port}

[devices.cam-1]
driver = "visca"
framing = "sony-udp"
host = "127.0.0.1"
port = ${cams[0].endpoint.port}

[devices.cam-2]
driver = "visca"
framing = "sony-udp"
host = "127.0.0.1"
port = ${cams[1].endpoint.port}

[director]
overview = { camera = "cam-1", preset = 50 }
trigger_s = 0
gap_s = 0
min_dwell_s = 0
silence_s = 600
ping_pong_switches = 0
decision_log_size = 1000

${Array.from({ length: SEATS }, (_, i) => `[[director.sources]]\ndevice = "mxa"\nchannel = ${i + 1}\ncamera = "cam-${(i % 2) + 1}"\npreset = ${i + 1}\n`).join('\n')}
`;
  fs.writeFileSync(path.join(dir, 'api.toml'), toml);
  // Only the director feature: the figures belong to the microphone → camera path.
  const agent = new Agent({
    configFile: path.join(dir, 'api.toml'),
    logger: pino({ level: 'warn' }),
    features: [createDirector],
  });
  await agent.start();
  try {
    const end = Date.now() + 10_000;
    const online = (id: string) => agent.devices.get(id)?.status.status === 'online';
    while (!online('cam-1') || !online('cam-2') || mic.clients === 0) {
      if (Date.now() > end) throw new Error('bench: devices did not come online');
      await sleep(20);
    }
    await sleep(300);
    const result = await fn(mic, cams);
    const file = agent.store.file;
    const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    lastDb = {
      fileMb: (size(file) + size(`${file}-wal`)) / 2 ** 20,
      cacheLimitMb: -Number(agent.store.db.pragma('cache_size', { simple: true })) / 1024,
    };
    return result;
  } finally {
    await agent.stop();
    await mic.stop();
    for (const c of cams) await c.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Raw relay: TCP server → client socket → UDP send → UDP receiver; no parsing, no logic. */
async function withRelay<T>(fn: (send: (t: string) => void, arrive: (f: (p: number) => void) => void) => Promise<T>): Promise<T> {
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const tx = dgram.createSocket('udp4');
  let server: net.Socket | null = null;
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    server = s;
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  client.setNoDelay(true);
  const rxPort = rx.address().port;
  client.on('data', (b: Buffer) => tx.send(b, rxPort, '127.0.0.1'));
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
    );
  } finally {
    client.destroy();
    srv.close();
    tx.close();
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

export async function run(): Promise<BenchResult[]> {
  const seconds = Number(process.env.BENCH_DIRECTOR_SECONDS ?? 15);
  const soak = Number(process.env.BENCH_DIRECTOR_SOAK_S ?? 30);
  const results: BenchResult[] = [];
  for (const rate of [10, 200]) {
    const base = await withRelay((send, arrive) => drive(rate, seconds, send, arrive));
    const agent = await withAgent((mic, cams) =>
      drive(
        rate,
        seconds,
        (t) => mic.broadcast(t),
        (f) => listen(cams, f),
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
  }
  const soakRun = await withAgent((mic, cams) =>
    drive(
      200,
      soak,
      (t) => mic.broadcast(t),
      (f) => listen(cams, f),
    ),
  );
  // RSS moves in a sawtooth (allocator and SQLite pages are returned in bursts) and rises
  // while caches warm up, so compare the lowest RSS of each window after the first one.
  const win = Math.min(60, Math.max(10, Math.floor(soak / 4)));
  const mins: number[] = [];
  for (let from = 0; from + win <= soak; from += win) {
    const inWin = soakRun.samples.filter((x) => x.t >= from && x.t < from + win).map((x) => x.rssMb);
    if (inWin.length) mins.push(Math.min(...inWin));
  }
  const afterWarmup = mins.slice(1);
  results.push({
    name:
      `RSS growth over a ${soak} s run at 200 events/s: lowest RSS per ${win} s window ` +
      `[${mins.map((m) => m.toFixed(1)).join(', ')}] MB, last minus second (the first is warm-up); ` +
      `SQLite file grew to ${lastDb.fileMb.toFixed(1)} MB (audit + decisions), its page cache may hold up to ${lastDb.cacheLimitMb.toFixed(0)} MB`,
    value: (afterWarmup.at(-1) ?? Number.NaN) - (afterWarmup[0] ?? Number.NaN),
    unit: 'MB',
    goal: 'no growth over 5 minutes (BENCH_DIRECTOR_SOAK_S=300)',
  });
  results.push({
    name: `JS heap growth over the same run (${global.gc ? 'after GC' : 'no --expose-gc, so GC timing adds noise'}; ${soakRun.heapStartMb.toFixed(1)} → ${soakRun.heapEndMb.toFixed(1)} MB)`,
    value: soakRun.heapEndMb - soakRun.heapStartMb,
    unit: 'MB',
    goal: 'no growth',
  });
  return results;
}
