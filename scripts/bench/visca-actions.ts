// WS `device.action preset.recall` → host → VISCA driver → simulator over UDP
// loopback (Sony framing, motion time 0) → Completion → WS reply. Printed
// beside a bare UDP request/response on loopback measured in the same run.
//
// As in a room, each piece is its own process: the shipped agent
// (dist/agent/cli.js with package.json's node flags), four cameras
// (`room-agent simulate visca`), and the WS client (this process), so the
// agent's CPU per action, read from /proc, is its own.
//
// Figures are taken cold (the first calls after start, V8 still compiling the
// hot paths: on 2 cores that costs ~30 % of the rate and milliseconds of p99)
// and in the steady state a room runs in for months (after 12,000 warm-up
// calls). Cold three times: a first boot with all six processes cold; a first
// boot again with the cameras and this client warm (only the agent cold, as in
// a room, where neither runs on the agent's PC); a later boot (compile cache).
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startChildAgent } from '../../test/support/child-agent.js';
import { agentLaunch, agentNodeFlags, processCpuMs, requireBundle, startViscaSimulator } from './support.js';
import { type BenchResult, percentile } from './types.js';

const SEQUENTIAL = 1000;
const SPREAD = 10_000;
/** Calls run after the cold figures and before the steady-state ones. */
const WARMUP = 10_000;
/** Steady-state figures (and their floors) are the median of this many runs. */
const REPEATS = 3;
const CAMERAS = 4;
/** Calls outstanding at once in the spread run (per camera: WINDOW / CAMERAS). */
const WINDOW = 64;
const TOKEN = 'bench-operator-token-0123456789';

class RpcClient {
  private next = 1;
  private readonly pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (typeof m.id === 'number') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
  }
  static open(url: string): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RpcClient(ws)));
      ws.once('error', reject);
    });
  }
  call(method: string, params: unknown): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

/** The shipped agent as a child process, its cameras at the given simulator ports. */
async function startAgent(ports: number[], reuseDir?: string): Promise<{ proc: ChildProcess; url: string; dir: string }> {
  const dir = reuseDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-visca-'));
  const devices = ports
    .map(
      (port, i) => `[devices.cam-${i + 1}]
driver = "visca"
host = "127.0.0.1"
port = ${port}
framing = "sony-udp"
profile = "sony"
poll_interval_ms = 600000
`,
    )
    .join('\n');
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "bench"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n[[agent.tokens]]\nname = "bench"\ntoken = "${TOKEN}"\nrole = "operator"\n\n${devices}`,
  );
  const agent = await startChildAgent(file, {}, 20_000, [...agentNodeFlags(), requireBundle()]);
  const { proc, url } = agent;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const h = (await (await fetch(`${url}/healthz`)).json()) as { devices: Record<string, string> };
    if (Object.values(h.devices).every((s) => s === 'online')) break;
    if (Date.now() > deadline) throw new Error(`bench cameras did not come online: ${JSON.stringify(h.devices)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, url, dir };
}

/** A bare UDP echo pair: the floor any UDP request/response can reach here. */
async function udpPair(echoPort?: number): Promise<{ request: (b: Buffer) => Promise<void>; close: () => Promise<void> }> {
  const server = dgram.createSocket('udp4');
  server.on('message', (m, r) => server.send(m, r.port, r.address));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const waiting: (() => void)[] = [];
  client.on('message', () => waiting.shift()?.());
  const port = echoPort ?? server.address().port;
  return {
    request: (b) =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        client.send(b, port, '127.0.0.1');
      }),
    close: async () => {
      await new Promise<void>((r) => client.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const RECALL = Buffer.from('0100000700000001810104' + '3f0209ff', 'hex');

async function timeSequential(n: number, once: (i: number) => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await once(i);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms.sort((a, b) => a - b);
}

/** Calls per second with `window` in flight, and the CPU time this process spent per call (ms). */
async function rate(
  n: number,
  window: number,
  once: (i: number) => Promise<unknown>,
): Promise<{ perSecond: number; cpuMs: number }> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await once(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: n / (Number(process.hrtime.bigint() - t0) / 1e9), cpuMs: (cpu.user + cpu.system) / 1000 / n };
}

/** Runs `code` in its own Node process; resolves with the JSON it prints first (its ports). */
function nodeProcess<T>(code: string): Promise<{ out: T; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    proc.stdout?.once('data', (c: Buffer) => resolve({ out: JSON.parse(c.toString()) as T, proc }));
    proc.once('exit', (code) => reject(new Error(`bench helper process exited ${code}`)));
  });
}

/** Bare UDP echo sockets in their own process: the floor for a request that crosses processes, as the agent's do. */
async function startEchoProcess(n: number): Promise<{ ports: number[]; proc: ChildProcess }> {
  const { out, proc } = await nodeProcess<number[]>(
    `const d=require('node:dgram');const ports=[];let k=0;for(let i=0;i<${n};i++){const s=d.createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(0,'127.0.0.1',()=>{ports[i]=s.address().port;if(++k===${n})console.log(JSON.stringify(ports));});}`,
  );
  return { ports: out, proc };
}

/**
 * The agent path's hops without any logic: this process → a relay process → an
 * echo process that answers twice (ACK and completion) → relay → here. On this
 * VM each wake-up of an idle process sometimes takes milliseconds, and the
 * agent path has four per action against the echo floor's one.
 */
async function hopChainFloor(n: number): Promise<number[]> {
  const echo = await nodeProcess<number>(
    "const d=require('node:dgram');const s=d.createSocket('udp4');s.on('message',(m,r)=>{s.send(m,r.port,r.address);s.send(m,r.port,r.address);});s.bind(0,'127.0.0.1',()=>console.log(s.address().port));",
  );
  const relay = await nodeProcess<number>(
    `const d=require('node:dgram');const up=d.createSocket('udp4');const dn=d.createSocket('udp4');let back=null,n=0;up.on('message',(m,r)=>{back=r;n=0;dn.send(m,${echo.out},'127.0.0.1');});dn.on('message',(m)=>{if(++n===2)up.send(m,back.port,back.address);});dn.bind(0,'127.0.0.1');up.bind(0,'127.0.0.1',()=>console.log(up.address().port));`,
  );
  const pair = await udpPair(relay.out);
  try {
    await timeSequential(200, () => pair.request(RECALL));
    return await timeSequential(n, () => pair.request(RECALL));
  } finally {
    await pair.close();
    echo.proc.kill('SIGTERM');
    relay.proc.kill('SIGTERM');
  }
}

/** Median of three and the three themselves, for labels. */
function med3(xs: number[]): { value: number; runs: string } {
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    value: sorted[Math.floor(sorted.length / 2)]!,
    runs: xs.map((x) => (x >= 100 ? x.toFixed(0) : x.toFixed(3))).join(', '),
  };
}

export async function run(): Promise<BenchResult[]> {
  // Baseline: bare UDP round trips (one socket pair per simulated camera for the rate).
  const pairs = await Promise.all(Array.from({ length: CAMERAS }, () => udpPair()));
  await timeSequential(200, () => pairs[0].request(RECALL)); // warm-up
  const baseSeq: number[][] = [];
  const baseRate: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    baseSeq.push(await timeSequential(SEQUENTIAL, () => pairs[0].request(RECALL)));
    baseRate.push((await rate(SPREAD, WINDOW, (i) => pairs[i % CAMERAS].request(RECALL))).perSecond);
  }
  await Promise.all(pairs.map((p) => p.close()));
  // The same with the echo in another process (a camera is never in the agent's process).
  const echo = await startEchoProcess(CAMERAS);
  const xpairs = await Promise.all(echo.ports.map((port) => udpPair(port)));
  await timeSequential(200, () => xpairs[0].request(RECALL));
  const xSeq: number[][] = [];
  const xRate: number[] = [];
  const xCpu: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    xSeq.push(await timeSequential(SEQUENTIAL, () => xpairs[0].request(RECALL)));
    const xEcho0 = processCpuMs(echo.proc.pid ?? 0);
    const x = await rate(SPREAD, WINDOW, (i) => xpairs[i % CAMERAS].request(RECALL));
    xRate.push(x.perSecond);
    xCpu.push(x.cpuMs + (processCpuMs(echo.proc.pid ?? 0) - xEcho0) / SPREAD);
  }
  await Promise.all(xpairs.map((p) => p.close()));
  echo.proc.kill('SIGTERM');
  const hopSeq: number[][] = [];
  for (let r = 0; r < REPEATS; r++) hopSeq.push(await hopChainFloor(SEQUENTIAL));

  const sims = await Promise.all(Array.from({ length: CAMERAS }, () => startViscaSimulator()));
  const recallOn = (c: RpcClient) => (cam: number, preset: number) =>
    c.call('device.action', { device: `cam-${cam + 1}`, action: 'preset.recall', params: { preset } });
  // Cold: the first calls after start, while V8 still interprets and
  // compiles the hot paths of the agent, the cameras and this client.
  const coldCalls = async (recall: ReturnType<typeof recallOn>) => {
    await timeSequential(20, (i) => recall(0, (i % 100) + 1));
    const seq = await timeSequential(SEQUENTIAL, (i) => recall(0, (i % 100) + 1));
    const spread = await rate(SPREAD, WINDOW, (i) => recall(i % CAMERAS, (i % 100) + 1));
    return { seq, spread };
  };
  // A first boot on an empty data dir (no compile cache yet): its cold calls, then it is stopped.
  const firstBoot = async () => {
    const first = await startAgent(sims.map((s) => s.port));
    const firstClient = await RpcClient.open(`${first.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
    const calls = await coldCalls(recallOn(firstClient));
    firstClient.close();
    const firstExit = new Promise((r) => first.proc.once('exit', r));
    first.proc.kill('SIGTERM');
    await firstExit;
    return { ...calls, dir: first.dir };
  };
  // Everything cold: the agent, and the cameras and this client (Node processes on the same two
  // cores, compiling their own code in the same seconds; in a room neither is on the agent's PC).
  const allCold = await firstBoot();
  fs.rmSync(allCold.dir, { recursive: true, force: true });
  // Only the agent cold: a first boot again, the cameras and this client warm from the one above.
  const agentCold = await firstBoot();
  // Every later boot: the same data dir, the compile cache written by the first.
  const agent = await startAgent(
    sims.map((s) => s.port),
    agentCold.dir,
  );
  const client = await RpcClient.open(`${agent.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
  const recall = recallOn(client);
  const pid = agent.proc.pid ?? 0;
  try {
    const { seq: laterSeq, spread: laterRate } = await coldCalls(recall);
    // Steady state, what a room sees after its first minutes: every path warm.
    await rate(WARMUP, WINDOW, (i) => recall(i % CAMERAS, (i % 100) + 1));
    await timeSequential(WARMUP / 5, (i) => recall(0, (i % 100) + 1));
    const seqRuns: number[][] = [];
    const rateRuns: number[] = [];
    const cpuRuns: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      seqRuns.push(await timeSequential(SEQUENTIAL, (i) => recall(0, (i % 100) + 1)));
      const cpu0 = processCpuMs(pid);
      rateRuns.push((await rate(SPREAD, WINDOW, (i) => recall(i % CAMERAS, (i % 100) + 1))).perSecond);
      cpuRuns.push((processCpuMs(pid) - cpu0) / SPREAD);
    }
    const p50 = med3(seqRuns.map((x) => percentile(x, 50)));
    const p99 = med3(seqRuns.map((x) => percentile(x, 99)));
    const spread = med3(rateRuns);
    const agentCpu = med3(cpuRuns);
    const base50 = med3(baseSeq.map((x) => percentile(x, 50)));
    const base99 = med3(baseSeq.map((x) => percentile(x, 99)));
    const x99 = med3(xSeq.map((x) => percentile(x, 99)));
    const hop99 = med3(hopSeq.map((x) => percentile(x, 99)));
    return [
      {
        name: `preset.recall via WS → driver → simulator (UDP), p50 of ${SEQUENTIAL} sequential (steady state; median of runs ${p50.runs})`,
        value: p50.value,
        unit: 'ms',
        baseline: { name: `bare UDP request/response p50 (runs ${base50.runs})`, value: base50.value },
      },
      {
        name: `preset.recall via WS → driver → simulator (UDP), p99 of ${SEQUENTIAL} sequential (steady state; median of runs ${p99.runs})`,
        value: p99.value,
        unit: 'ms',
        baseline: { name: `bare UDP request/response p99, both ends in this process (runs ${base99.runs})`, value: base99.value },
      },
      {
        name: `the same p99 of ${SEQUENTIAL} sequential, against a floor with the same process layout`,
        value: p99.value,
        unit: 'ms',
        baseline: { name: `bare UDP request/response p99 to an echo in another process (runs ${x99.runs})`, value: x99.value },
        goal: '≤ baseline p99 + 0.5 ms',
      },
      {
        name: `the same p99, against the agent path's hops without logic (client → relay process → echo process answering twice → relay → client)`,
        value: p99.value,
        unit: 'ms',
        baseline: { name: `hop-chain floor p99 (runs ${hop99.runs})`, value: hop99.value },
      },
      {
        name: `preset.recall rate, ${SPREAD} calls over ${CAMERAS} cameras (${WINDOW} in flight; agent, cameras and WS client in separate processes; steady state; median of runs ${spread.runs})`,
        value: spread.value,
        unit: 'actions/s',
        baseline: { name: `bare UDP request/response over ${CAMERAS} socket pairs (median of 3)`, value: med3(baseRate).value },
        goal: '≥ 8,000 actions/s',
      },
      {
        name: `bare UDP request/response rate over ${CAMERAS} sockets to an echo in another process (the cross-process floor, median of 3)`,
        value: med3(xRate).value,
        unit: 'actions/s',
      },
      {
        // Load-independent view: one free core runs about 1000 / this many actions per second.
        name: `agent process CPU per action in those runs (${agentLaunch()}; /proc, 10 ms ticks; median of ${agentCpu.runs})`,
        value: agentCpu.value,
        unit: 'ms',
        baseline: { name: 'CPU per bare UDP request/response across processes (client + echo process)', value: med3(xCpu).value },
      },
      {
        name: `cold start: p99 of the first ${SEQUENTIAL} sequential calls after start (before the ${WARMUP} warm-up calls the figures above follow)`,
        value: percentile(allCold.seq, 99),
        unit: 'ms',
        baseline: { name: 'p50 of those calls', value: percentile(allCold.seq, 50) },
        goal: '≤ 1.5 ms',
      },
      {
        name: `cold start: rate of the first ${SPREAD} calls over ${CAMERAS} cameras`,
        value: allCold.spread.perSecond,
        unit: 'actions/s',
      },
      {
        name: `cold start, only the agent cold (a first boot again; the camera simulators and this client warm from the one above): p99 of the first ${SEQUENTIAL} sequential calls`,
        value: percentile(agentCold.seq, 99),
        unit: 'ms',
        baseline: { name: 'p50 of those calls', value: percentile(agentCold.seq, 50) },
        goal: '≤ 1.5 ms',
      },
      {
        name: `cold start, only the agent cold: rate of the first ${SPREAD} calls over ${CAMERAS} cameras`,
        value: agentCold.spread.perSecond,
        unit: 'actions/s',
      },
      {
        name: `cold start, later boot (same data dir: compile cache written by the first boot; the camera simulators and this client already warm): p99 of the first ${SEQUENTIAL} sequential calls`,
        value: percentile(laterSeq, 99),
        unit: 'ms',
        baseline: { name: 'p50 of those calls', value: percentile(laterSeq, 50) },
        goal: '≤ 1.5 ms',
      },
      {
        name: `cold start, later boot: rate of the first ${SPREAD} calls over ${CAMERAS} cameras`,
        value: laterRate.perSecond,
        unit: 'actions/s',
      },
    ];
  } finally {
    client.close();
    const exited = new Promise((r) => agent.proc.once('exit', r));
    agent.proc.kill('SIGTERM');
    await exited;
    for (const s of sims) s.proc.kill('SIGTERM');
    fs.rmSync(agent.dir, { recursive: true, force: true });
  }
}
