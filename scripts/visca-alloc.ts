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
//   PROBE_CPU=seq|spread|cold npx tsx scripts/visca-alloc.ts   (a CPU profile of that phase alone, sampled
//     every PROBE_CPU_US µs (100), written as <PROBE_HEAP_DIR or cwd>/visca-<phase>.cpuprofile)
// The cold start (docs/performance.md, "Cold start: what the slow first calls wait for"):
//   PROBE_PERF=/tmp/cold.perf npx tsx scripts/visca-alloc.ts   (the machine's scheduler switches during
//     the cold sequential calls; prints for the slowest what held the cores: scripts/sched-windows.ts)
//   PROBE_STOP=cold (stop after the cold calls), PROBE_PRE (20) calls before them, PROBE_COLD (1000) of them,
//   PROBE_SHOW_SLOW=1 (the slowest calls of each sequential phase with their index), PROBE_DUMP_DIR (what the
//   agent printed in each phase, e.g. with PROBE_FLAGS="--trace-opt --trace-deopt"), PROBE_CALLS_OUT (the
//   cold calls' start and end, µs of the monotonic clock the CPU profile's samples use, and the pids).
// Each phase prints the agent's CPU per action by thread (main, V8Worker: V8's compilers and GC helpers,
// WorkerThread: worker_threads) from /proc/<pid>/task/*/schedstat.
// A/B of the agent's settings: PROBE_NODE_FLAGS (the agent's node flags instead of package.json
// config.node_flags), PROBE_AGENT_TOML (lines added to the probe config's [agent] table), PROBE_API_TOML (lines of
// an [api] table, e.g. "warm_up_requests = 0": docs/performance.md, "API warm-up"). Of the test rig:
// PROBE_WARM_CAMS=N (N preset recalls sent straight to each camera simulator before the agent starts),
// PROBE_WARM_CLIENT=N (N calls of this client's code against a local WebSocket server that answers at
// once). With PROBE_SHOW_SLOW each sequential phase also prints its calls over 1, 1.5 and 2 ms and their
// excess over 1 ms (less noisy than one p99). docs/performance.md, "The cold window, third look".
// PROBE_ROUNDS (default 3) steady rounds; PROBE_SEQ (default 3000) calls per steady sequential
// round: the bytes are read at each scavenge, so a short window is off by up to a new space.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { encodeFrame, HEADER_LENGTH, PAYLOAD } from '../drivers/visca/ip-header.js';
import { decodeMessageAt, encode } from '../drivers/visca/protocol.js';
import { startChildAgent } from '../test/support/child-agent.js';
import { agentEnv, agentNodeFlags, processCpuMs, procStatus, requireBundle, startViscaSimulator } from './bench/support.js';
import { percentile } from './bench/types.js';
import { explainSlowCalls } from './sched-windows.js';

Object.assign(process.env, agentEnv());
const TOKEN = 'bench-operator-token-0123456789';
const CAMERAS = 4;

/** CPU time (ns, /proc/<pid>/task/<tid>/schedstat) of each thread of a process, summed by thread name. */
function threadCpuNs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      // The main thread has the process's own id; name it so whatever Node calls it.
      const key = tid === String(pid) ? 'main' : name;
      byName.set(key, (byName.get(key) ?? 0) + ns);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

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
  // PROBE_WARM_CAMS=N (experiment): N preset recalls sent straight to each camera before the agent starts.
  const warmCams = Number(process.env.PROBE_WARM_CAMS ?? 0);
  if (warmCams > 0) {
    const dgram = await import('node:dgram');
    for (const s of sims) {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      let waiting: (() => void) | null = null;
      sock.on('message', (m: Buffer) => {
        // ACK then Completion; an error is the only answer.
        const type = decodeMessageAt(m, HEADER_LENGTH).type;
        if (type === 'completion' || type === 'error') waiting?.();
      });
      for (let i = 0; i < warmCams; i++) {
        const pkt = encodeFrame(PAYLOAD.command, i + 1, encode.preset(1, 'recall', i % 100));
        await new Promise<void>((r) => {
          waiting = r;
          sock.send(pkt, s.port, '127.0.0.1');
        });
      }
      sock.close();
    }
  }
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
    `[agent]\nroom_id = "bench"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n${process.env.PROBE_AGENT_TOML ?? ''}\n\n[[agent.tokens]]\nname = "bench"\ntoken = "${TOKEN}"\nrole = "operator"\n\n${process.env.PROBE_API_TOML ? `[api]\n${process.env.PROBE_API_TOML}\n\n` : ''}${devices}`,
  );
  const extra = (process.env.PROBE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  // PROBE_NODE_FLAGS: the agent's node flags instead of package.json config.node_flags (an A/B of the shipped flags).
  const nodeFlags =
    process.env.PROBE_NODE_FLAGS !== undefined ? process.env.PROBE_NODE_FLAGS.split(/\s+/).filter(Boolean) : agentNodeFlags();
  const cpuPhase = process.env.PROBE_CPU;
  const heapPhase = process.env.PROBE_HEAP ?? cpuPhase;
  if (cpuPhase) {
    // Profiles the agent's CPU between two SIGUSR2.
    const us = Number(process.env.PROBE_CPU_US ?? 100);
    extra.push(
      '--import',
      signalProfiler(dir, `visca-${cpuPhase}.cpuprofile`, {
        enable: `s.post('Profiler.enable'); s.post('Profiler.setSamplingInterval', { interval: ${us} });`,
        start: `s.post('Profiler.start')`,
        stop: 'Profiler.stop',
      }),
    );
  } else if (heapPhase) {
    // Samples the agent's heap between two SIGUSR2, collected objects included.
    const sampling = `{ samplingInterval: 1024, includeObjectsCollectedByMajorGC: ${process.env.PROBE_HEAP_LIVE !== '1'}, includeObjectsCollectedByMinorGC: ${!process.env.PROBE_HEAP_LIVE} }`;
    extra.push(
      '--import',
      signalProfiler(dir, `visca-${heapPhase}.heapprofile`, {
        enable: `s.post('HeapProfiler.enable');`,
        start: `s.post('HeapProfiler.startSampling', ${sampling})`,
        stop: 'HeapProfiler.stopSampling',
      }),
    );
  }
  const agent = await startChildAgent(file, {}, 60_000, [...nodeFlags, '--trace-gc-nvp', ...extra, requireBundle()]);
  const pid = agent.proc.pid ?? 0;
  for (const deadline = Date.now() + 20_000; ; ) {
    const h = (await (await fetch(`${agent.url}/healthz`)).json()) as { devices: Record<string, string> };
    if (Object.values(h.devices).every((s) => s === 'online')) break;
    if (Date.now() > deadline) throw new Error('cameras not online');
    await new Promise((r) => setTimeout(r, 20));
  }
  // The client's side of a call, made once per connection (PROBE_WARM_CLIENT runs the same code first).
  const connect = async (url: string) => {
    const ws = new WebSocket(url);
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
    return { ws, recall };
  };
  // PROBE_WARM_CLIENT=N (experiment): N calls of this client against a local WebSocket server that
  // answers at once, before its first call to the agent (the client's own code then runs optimised).
  const warmClient = Number(process.env.PROBE_WARM_CLIENT ?? 0);
  if (warmClient > 0) {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (c) =>
      c.on('message', (raw) => c.send(JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(raw.toString()).id, result: {} }))),
    );
    const w = await connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    for (let i = 0; i < warmClient; i++) await w.recall(0, (i % 100) + 1);
    w.ws.close();
    wss.close();
  }
  const { ws, recall } = await connect(`${agent.url.replace('http', 'ws')}/ws?token=${TOKEN}`);
  /** Start and end (µs of the monotonic clock, as V8's CPU profile stamps its samples) of the calls of the last seq(). */
  let windows: [number, number][] = [];
  const seq = async (n: number) => {
    const ms: number[] = [];
    windows = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await recall(0, (i % 100) + 1);
      const t1 = process.hrtime.bigint();
      ms.push(Number(t1 - t0) / 1e6);
      windows.push([Number(t0 / 1000n), Number(t1 / 1000n)]);
    }
    if (process.env.PROBE_SHOW_SLOW) {
      const slowest = ms
        .map((v, i) => [i, v] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25);
      console.log(`  slowest of ${n}: ${slowest.map(([i, v]) => `#${i} ${v.toFixed(2)}`).join(', ')} ms`);
    }
    if (process.env.PROBE_SHOW_SLOW) {
      const over = (x: number) => ms.filter((v) => v > x).length;
      const excess = ms.reduce((a, v) => a + Math.max(0, v - 1), 0);
      console.log(
        `  over 1 ms ${over(1)}, over 1.5 ms ${over(1.5)}, over 2 ms ${over(2)}; excess over 1 ms ${excess.toFixed(1)} ms`,
      );
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
    const threads0 = threadCpuNs(pid);
    const sims0 = sims.map((s) => processCpuMs(s.proc.pid ?? 0));
    const cpu0 = processCpuMs(pid);
    const t0 = performance.now();
    const simMark = simGc.join('').length;
    const ms = await body();
    const wall = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 200)); // let the GC lines arrive
    const cpu = processCpuMs(pid) - cpu0;
    // PROBE_DUMP_DIR: what the agent printed during each phase (its log and the V8 traces PROBE_FLAGS asked for).
    if (process.env.PROBE_DUMP_DIR)
      fs.writeFileSync(path.join(process.env.PROBE_DUMP_DIR, `${name.replace(/\W+/g, '-')}.out`), agent.output().slice(mark));
    const threads = threadCpuNs(pid);
    const perThread = [...threads]
      .map(([k, v]) => [k, (v - (threads0.get(k) ?? 0)) / 1e6 / n] as const)
      .filter(([, v]) => v >= 0.0005)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    const simCpu = sims.reduce((t, s, i) => t + processCpuMs(s.proc.pid ?? 0) - sims0[i], 0);
    console.log(`  agent CPU per action by thread (ms): ${perThread}; cameras ${(simCpu / n).toFixed(3)} ms`);
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
  await seq(Number(process.env.PROBE_PRE ?? 20));
  if (heapPhase === 'cold') {
    process.kill(pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 100)); // the profiler is on before the first measured call
  }
  // PROBE_PERF=<file>: the scheduler's switches and wake-ups of the whole machine during the cold calls
  // (perf, monotonic clock, as the call windows of PROBE_CALLS_OUT), to see what ran while a call was slow.
  const perfFile = process.env.PROBE_PERF;
  let perf: ReturnType<typeof spawn> | undefined;
  if (perfFile) {
    const events = ['-e', 'sched:sched_switch', '-e', 'sched:sched_wakeup'];
    perf = spawn('perf', ['record', '-q', '-k', 'CLOCK_MONOTONIC', '-a', ...events, '-o', perfFile], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000)); // perf is recording before the first call
  }
  const coldCalls = Number(process.env.PROBE_COLD ?? 1000);
  if (coldCalls > 0) await phase(`cold seq ${coldCalls}`, coldCalls, () => seq(coldCalls));
  if (heapPhase === 'cold') process.kill(pid, 'SIGUSR2');
  const roles = { agent: pid, client: process.pid, cameras: sims.map((s) => s.proc.pid ?? 0) };
  if (perf && perfFile && coldCalls > 0) {
    const ended = new Promise((r) => perf?.once('exit', r));
    perf.kill('SIGINT');
    await ended;
    console.log(`cold seq ${coldCalls}: what ran while the slowest calls were in flight (perf ${perfFile})`);
    explainSlowCalls(perfFile, windows, roles);
  }
  if (process.env.PROBE_CALLS_OUT) fs.writeFileSync(process.env.PROBE_CALLS_OUT, JSON.stringify({ windows, ...roles }));
  // PROBE_STOP=cold: stop after the cold sequential calls (e.g. to count what they compiled, against PROBE_CALLS=0).
  const stopEarly = process.env.PROBE_STOP === 'cold';
  if (!stopEarly) await phase('cold spread 10000', 10_000, async () => void (await spread(10_000)));
  if (!stopEarly) await spread(10_000);
  if (!stopEarly) await seq(2000);
  const rounds = stopEarly ? 0 : Number(process.env.PROBE_ROUNDS ?? 3);
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

/**
 * A preload for the agent that starts an inspector profile at the first SIGUSR2 and writes it to
 * <PROBE_HEAP_DIR or cwd>/`file` at the second; returns its path (written into `dir`).
 */
function signalProfiler(dir: string, file: string, p: { enable: string; start: string; stop: string }): string {
  const out = path.resolve(process.env.PROBE_HEAP_DIR ?? '.', file);
  const preload = path.join(dir, `${file}.mjs`);
  fs.writeFileSync(
    preload,
    `import { Session } from 'node:inspector';
import fs from 'node:fs';
const s = new Session();
s.connect();
${p.enable}
let on = false;
process.on('SIGUSR2', () => {
  on = !on;
  if (on) ${p.start};
  else s.post('${p.stop}', (err, r) => fs.writeFileSync(${JSON.stringify(out)}, JSON.stringify(r.profile)));
});
`,
  );
  return preload;
}
