// Load-independent view of one VISCA action in the shipped agent: bytes the
// agent's JS heap allocates per action and scavenges per 10,000 actions
// (V8's --trace-gc-nvp `allocated=` summed over the window), and the agent's
// CPU per action (/proc), in the same phases as visca-actions.ts (first 1,000
// sequential calls after start, then the steady state after the warm-up).
// Timing figures are printed too but on a loaded machine they are noise.
//
//   npx tsx scripts/visca-alloc.ts            (after npm run build)
//   PROBE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx tsx scripts/visca-alloc.ts
//   PROBE_FLAGS=--trace-deopt PROBE_DUMP=/tmp/agent.out npx tsx scripts/visca-alloc.ts
//   PROBE_HEAP=seq|spread|cold npx tsx scripts/visca-alloc.ts   (a sampling heap profile of that
//     phase, collected objects included, written as <PROBE_HEAP_DIR or cwd>/visca-<phase>.heapprofile)
//   PROBE_CPU=seq|spread|cold npx tsx scripts/visca-alloc.ts   (a CPU profile of that phase alone, 100 µs
//     sampling, written as <PROBE_HEAP_DIR or cwd>/visca-<phase>.cpuprofile)
// PROBE_ROUNDS (default 3) steady rounds; PROBE_SEQ (default 3000) calls per steady sequential
// round: the bytes are read at each scavenge, so a short window is off by up to a new space.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startChildAgent } from '../test/support/child-agent.js';
import { agentEnv, agentNodeFlags, processCpuMs, procStatus, requireBundle, startViscaSimulator } from './bench/support.js';
import { percentile } from './bench/types.js';

Object.assign(process.env, agentEnv());
const TOKEN = 'bench-operator-token-0123456789';
const CAMERAS = 4;

const simGc: string[] = [];
async function main(): Promise<void> {
  const sims = await Promise.all(
    Array.from({ length: CAMERAS }, () =>
      startViscaSimulator(
        process.env.PROBE_SIM_GC ? { nodeArgs: ['--trace-gc-nvp', ...agentNodeFlags()], onStdout: (c) => simGc.push(c) } : {},
      ),
    ),
  );
  // The camera processes never outlive the probe, whatever ends it.
  process.once('exit', () => {
    for (const s of sims) s.proc.kill('SIGTERM');
  });
  // PROBE_DIR: a data dir kept across runs (a later boot: compile cache and database of the run before).
  const dir = process.env.PROBE_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'probe-visca-'));
  fs.mkdirSync(dir, { recursive: true });
  const devices = sims
    .map(
      (s, i) =>
        `[devices.cam-${i + 1}]\ndriver = "visca"\nhost = "127.0.0.1"\nport = ${s.port}\nframing = "sony-udp"\nprofile = "sony"\npoll_interval_ms = 600000\n`,
    )
    .join('\n');
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "bench"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n[[agent.tokens]]\nname = "bench"\ntoken = "${TOKEN}"\nrole = "operator"\n\n${devices}`,
  );
  const extra = (process.env.PROBE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const cpuPhase = process.env.PROBE_CPU;
  const heapPhase = process.env.PROBE_HEAP ?? cpuPhase;
  if (cpuPhase) {
    // Profiles the agent's CPU between two SIGUSR2 through the inspector.
    const out = path.resolve(process.env.PROBE_HEAP_DIR ?? '.', `visca-${cpuPhase}.cpuprofile`);
    const preload = path.join(dir, 'cpu-profiler.mjs');
    fs.writeFileSync(
      preload,
      `import { Session } from 'node:inspector';
import fs from 'node:fs';
const s = new Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 100 });
let on = false;
process.on('SIGUSR2', () => {
  on = !on;
  if (on) s.post('Profiler.start');
  else s.post('Profiler.stop', (err, r) => fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(r.profile)));
});
`,
    );
    extra.push('--import', preload);
  } else if (heapPhase) {
    // Samples the agent's heap between two SIGUSR2 through the inspector, collected objects included.
    const out = path.resolve(process.env.PROBE_HEAP_DIR ?? '.', `visca-${heapPhase}.heapprofile`);
    const preload = path.join(dir, 'heap-sampler.mjs');
    fs.writeFileSync(
      preload,
      `import { Session } from 'node:inspector';
import fs from 'node:fs';
const s = new Session();
s.connect();
s.post('HeapProfiler.enable');
let on = false;
process.on('SIGUSR2', () => {
  on = !on;
  if (on) s.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: ${process.env.PROBE_HEAP_LIVE !== '1'}, includeObjectsCollectedByMinorGC: ${!process.env.PROBE_HEAP_LIVE} });
  else s.post('HeapProfiler.stopSampling', (err, r) => fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(r.profile)));
});
`,
    );
    extra.push('--import', preload);
  }
  const agent = await startChildAgent(file, {}, 60_000, [...agentNodeFlags(), '--trace-gc-nvp', ...extra, requireBundle()]);
  const pid = agent.proc.pid ?? 0;
  for (const deadline = Date.now() + 20_000; ; ) {
    const h = (await (await fetch(`${agent.url}/healthz`)).json()) as { devices: Record<string, string> };
    if (Object.values(h.devices).every((s) => s === 'online')) break;
    if (Date.now() > deadline) throw new Error('cameras not online');
    await new Promise((r) => setTimeout(r, 20));
  }
  const ws = new WebSocket(`${agent.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const pending = new Map<number, (m: { error?: unknown }) => void>();
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString());
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  let next = 1;
  const recall = (cam: number, preset: number) =>
    new Promise<void>((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve()));
      ws.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          // PROBE_METHOD: another method without params instead (what the WS/RPC layer alone costs).
          method: process.env.PROBE_METHOD || 'device.action',
          params: process.env.PROBE_METHOD ? {} : { device: `cam-${cam + 1}`, action: 'preset.recall', params: { preset } },
        }),
      );
    });
  const seq = async (n: number) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await recall(0, (i % 100) + 1);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ms.sort((a, b) => a - b);
  };
  const spread = async (n: number) => {
    let k = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (k < n) {
          const i = k++;
          await recall(i % CAMERAS, (i % 100) + 1);
        }
      }),
    );
  };
  const pct = (xs: number[], q: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.min(s.length - 1, Math.floor((s.length * q) / 100))].toFixed(2) : '-';
  };
  const gcLines = (mark: number) =>
    agent
      .output()
      .slice(mark)
      .split('\n')
      .filter((l) => l.includes(' gc=s '));
  /** Scavenges and bytes allocated in the agent since `mark` (offset into its output). */
  const gcSince = (mark: number) => {
    const lines = agent
      .output()
      .slice(mark)
      .split('\n')
      .filter((l) => l.includes(' gc='));
    let allocated = 0;
    let scavenges = 0;
    let marks = 0;
    const pauses: number[] = [];
    for (const l of lines) {
      allocated += Number(/ allocated=(\d+)/.exec(l)?.[1] ?? 0);
      if (/ gc=s /.test(l)) {
        scavenges++;
        pauses.push(Number(/pause=([\d.]+)/.exec(l)?.[1] ?? 0));
      } else marks++;
    }
    return { allocated, scavenges, marks, pauses };
  };
  const phase = async (name: string, n: number, body: () => Promise<number[] | undefined>) => {
    const mark = agent.output().length;
    const cpu0 = processCpuMs(pid);
    const t0 = performance.now();
    const simMark = simGc.join('').length;
    const ms = await body();
    const wall = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200)); // let the GC lines arrive
    const cpu = processCpuMs(pid) - cpu0;
    const g = gcSince(mark);
    if (process.env.PROBE_SIM_GC) {
      const lines = simGc
        .join('')
        .slice(simMark)
        .split('\n')
        .filter((l) => l.includes(' gc='));
      const alloc = lines.reduce((n, l) => n + Number(/ allocated=(\d+)/.exec(l)?.[1] ?? 0), 0);
      console.log(
        `  simulators: scavenges ${lines.filter((l) => / gc=s /.test(l)).length}, alloc/action ${(alloc / n).toFixed(0)} B`,
      );
    }
    const survived = gcLines(mark).map((l) => Number(/ new_space_survived=(\d+)/.exec(l)?.[1] ?? 0));
    const promoted = gcLines(mark).map((l) => Number(/ promoted=(\d+)/.exec(l)?.[1] ?? 0));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length / 1024 : 0).toFixed(0);
    console.log(`  agent scavenges: mean survived ${mean(survived)} KB, promoted ${mean(promoted)} KB`);
    const timing = ms
      ? ` p50 ${percentile(ms, 50).toFixed(3)} p99 ${percentile(ms, 99).toFixed(3)} max ${ms[ms.length - 1]?.toFixed(3)} ms`
      : '';
    console.log(
      `${name}: n=${n} cpu/action ${(cpu / n).toFixed(4)} ms, alloc/action ${(g.allocated / n).toFixed(0)} B, scavenges ${g.scavenges} (pause median ${pct(g.pauses, 50)}, max ${pct(g.pauses, 100)} ms) mark-compacts ${g.marks}, ${((n / wall) * 1000).toFixed(0)}/s${timing}`,
    );
  };
  // PROBE_CALLS=0: start, wait for the cameras, stop (e.g. to count what start alone compiles).
  if (process.env.PROBE_CALLS === '0') {
    await new Promise((r) => setTimeout(r, Number(process.env.PROBE_IDLE_S ?? 0) * 1000));
    const rss = procStatus(pid)?.('VmRSS');
    console.log(`idle: RSS ${(Number(rss) / 1024).toFixed(1)} MB after ${process.env.PROBE_IDLE_S ?? 0} s`);
    ws.close();
    await agent.kill('SIGTERM');
    for (const s of sims) s.proc.kill('SIGTERM');
    return;
  }
  await seq(20);
  if (heapPhase === 'cold') process.kill(pid, 'SIGUSR2');
  await phase('cold seq 1000', 1000, () => seq(1000));
  if (heapPhase === 'cold') process.kill(pid, 'SIGUSR2');
  await phase('cold spread 10000', 10_000, async () => void (await spread(10_000)));
  await spread(10_000);
  await seq(2000);
  const rounds = Number(process.env.PROBE_ROUNDS ?? 3);
  for (let r = 0; r < rounds; r++) {
    const n = Number(process.env.PROBE_SEQ ?? 3000);
    await phase(`steady seq ${n} #${r + 1}`, n, () => seq(n));
    await phase(`steady spread 10000 #${r + 1}`, 10_000, async () => void (await spread(10_000)));
  }
  if (heapPhase && heapPhase !== 'cold') {
    // The agent was started with --import of a preload that samples the heap between two SIGUSR2.
    process.kill(pid, 'SIGUSR2');
    if (heapPhase === 'seq') await seq(3000);
    else await spread(10_000);
    process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 1000));
  }
  ws.close();
  // Everything the agent printed (its log, and the V8 traces PROBE_FLAGS asked for).
  if (process.env.PROBE_DUMP) fs.writeFileSync(process.env.PROBE_DUMP, agent.output());
  await agent.kill('SIGTERM');
  for (const s of sims) s.proc.kill('SIGTERM');
  if (!process.env.PROBE_DIR) fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
