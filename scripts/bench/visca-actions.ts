// WS `device.action preset.recall` → host → VISCA driver → simulator over UDP
// loopback (Sony framing, motion time 0) → Completion → WS reply. Printed
// beside a bare UDP request/response on loopback measured in the same run.
//
// As in a room, the cameras (`room-agent simulate visca`) and the WS client
// (children/ws-load.ts) are separate processes, so the agent's CPU per action
// is its own. The older all-in-one-process figure is kept beside it.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../src/app.js';
import { type BenchResult, percentile } from './types.js';

const SEQUENTIAL = 1000;
const SPREAD = 10_000;
const CAMERAS = 4;
/** Calls outstanding at once in the spread run (per camera: WINDOW / CAMERAS). */
const WINDOW = 64;
const TOKEN = 'bench-operator-token-0123456789';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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

/** Cameras in this process (`simulated = true`), or at the given simulator ports. */
async function startAgent(cameras: number, ports?: number[]): Promise<{ agent: Agent; url: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-visca-'));
  const devices = Array.from(
    { length: cameras },
    (_, i) => `[devices.cam-${i + 1}]
driver = "visca"
${ports ? `simulated = false\nhost = "127.0.0.1"\nport = ${ports[i]}` : 'simulated = true'}
framing = "sony-udp"
profile = "sony"
sim_motion_ms = 0
poll_interval_ms = 600000
`,
  ).join('\n');
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "bench"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n[[agent.tokens]]\nname = "bench"\ntoken = "${TOKEN}"\nrole = "operator"\n\n${devices}`,
  );
  const agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }) });
  const url = await agent.start();
  const deadline = Date.now() + 10_000;
  while (!agent.devices.list().every((d) => d.status.status === 'online')) {
    if (Date.now() > deadline) throw new Error('bench cameras did not come online');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { agent, url, dir };
}

/** A bare UDP echo pair: the floor any UDP request/response can reach here. */
async function udpPair(): Promise<{ request: (b: Buffer) => Promise<void>; close: () => Promise<void> }> {
  const server = dgram.createSocket('udp4');
  server.on('message', (m, r) => server.send(m, r.port, r.address));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const waiting: (() => void)[] = [];
  client.on('message', () => waiting.shift()?.());
  const port = server.address().port;
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

/** One `room-agent simulate visca` process (Sony framing, motion time 0); resolves with its UDP port. */
function startSimulator(): Promise<{ port: number; proc: ChildProcess }> {
  const built = path.join(ROOT, 'dist/agent/cli.js');
  const args = fs.existsSync(built) ? [built] : ['--import', 'tsx', path.join(ROOT, 'src/cli.ts')];
  const proc = spawn(
    process.execPath,
    [...args, 'simulate', 'visca', 'framing=sony-udp', 'profile=sony', 'sim_motion_ms=0', '--host', '127.0.0.1', '--port', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"simulator":"visca","endpoint":\{[^}]*"port":(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), proc });
    });
    proc.once('exit', (code) => reject(new Error(`visca simulator exited ${code}: ${out}`)));
  });
}

/** The WS load generator in its own process; `job` sends one job and waits for its answer. */
function startLoad(): { job: <T>(j: Record<string, unknown>) => Promise<T>; stop: () => void } {
  const proc = fork(path.join(ROOT, 'scripts/bench/children/ws-load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    job: <T>(j: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        proc.once('message', (m: T & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
        proc.send(j);
      }),
    stop: () => proc.disconnect(),
  };
}

export async function run(): Promise<BenchResult[]> {
  // Baseline: bare UDP round trips (one socket pair per simulated camera for the rate).
  const pairs = await Promise.all(Array.from({ length: CAMERAS }, () => udpPair()));
  await timeSequential(200, () => pairs[0].request(RECALL)); // warm-up
  const baseSeq = await timeSequential(SEQUENTIAL, () => pairs[0].request(RECALL));
  const baseRate = await rate(SPREAD, WINDOW, (i) => pairs[i % CAMERAS].request(RECALL));
  await Promise.all(pairs.map((p) => p.close()));

  const results: BenchResult[] = [];
  // 1. As in a room: cameras and panel are other processes; this process is the agent.
  const sims = await Promise.all(Array.from({ length: CAMERAS }, () => startSimulator()));
  const split = await startAgent(
    CAMERAS,
    sims.map((s) => s.port),
  );
  const load = startLoad();
  try {
    const url = `${split.url.replace('http', 'ws')}/ws?token=${TOKEN}`;
    await load.job({ url, kind: 'seq', n: 200 }); // warm-up (JIT, SQLite pages)
    const seq = (await load.job<{ ms: number[] }>({ url, kind: 'seq', n: SEQUENTIAL })).ms;
    const cpu0 = process.cpuUsage();
    const spread = await load.job<{ perSecond: number }>({ url, kind: 'rate', n: SPREAD, window: WINDOW, cameras: CAMERAS });
    const cpu = process.cpuUsage(cpu0);
    results.push(
      {
        name: `preset.recall via WS → driver → simulator (UDP), p50 of ${SEQUENTIAL} sequential`,
        value: percentile(seq, 50),
        unit: 'ms',
        baseline: { name: 'bare UDP request/response p50', value: percentile(baseSeq, 50) },
      },
      {
        name: `preset.recall via WS → driver → simulator (UDP), p99 of ${SEQUENTIAL} sequential`,
        value: percentile(seq, 99),
        unit: 'ms',
        baseline: { name: 'bare UDP request/response p99', value: percentile(baseSeq, 99) },
        goal: '≤ baseline p99 + 1 ms',
      },
      {
        name: `preset.recall rate, ${SPREAD} calls over ${CAMERAS} cameras (${WINDOW} in flight; cameras and WS client in other processes)`,
        value: spread.perSecond,
        unit: 'actions/s',
        baseline: { name: `bare UDP request/response over ${CAMERAS} socket pairs`, value: baseRate.perSecond },
        goal: '≥ 5,000 actions/s',
      },
      {
        // Load-independent view: one free core runs about 1000 / this many actions per second.
        name: 'agent CPU per action in that run (this process only)',
        value: (cpu.user + cpu.system) / 1000 / SPREAD,
        unit: 'ms',
        baseline: { name: 'CPU per bare UDP request/response (client and echo server)', value: baseRate.cpuMs },
      },
    );
  } finally {
    load.stop();
    await split.agent.stop();
    for (const s of sims) s.proc.kill('SIGTERM');
    fs.rmSync(split.dir, { recursive: true, force: true });
  }

  // 2. Everything in this process (client, agent, simulators): the figure earlier runs reported.
  const { agent, url, dir } = await startAgent(CAMERAS);
  const client = await RpcClient.open(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
  const recall = (cam: number, preset: number) =>
    client.call('device.action', { device: `cam-${cam + 1}`, action: 'preset.recall', params: { preset } });
  try {
    await timeSequential(200, (i) => recall(0, (i % 100) + 1));
    const spread = await rate(SPREAD, WINDOW, (i) => recall(i % CAMERAS, (i % 100) + 1));
    results.push(
      {
        name: `preset.recall rate, all in one process (WS client, agent, ${CAMERAS} simulators)`,
        value: spread.perSecond,
        unit: 'actions/s',
        baseline: { name: `bare UDP request/response over ${CAMERAS} socket pairs`, value: baseRate.perSecond },
      },
      {
        name: 'CPU per action in the all-in-one run (client, agent, driver and simulator)',
        value: spread.cpuMs,
        unit: 'ms',
        baseline: { name: 'CPU per bare UDP request/response (client and echo server)', value: baseRate.cpuMs },
      },
    );
    return results;
  } finally {
    client.close();
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
