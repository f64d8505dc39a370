// An accelerated day of the agent, for leaks and for latency under load
// (issue 16). The agent runs bundled in a process of its own (soak-child.ts);
// this process plays the room around it. First a day in progress: earlier
// meetings of the load's shape stored and read until the tracking caches are at
// their caps (soak-day.ts; their levels are printed before and after the load).
// Then:
// - 20 WS clients (viewer) subscribed to every topic, each also polling
//   devices.list now and then;
// - conference webhooks forming a meeting every 30 s (create, three joins, a
//   leave and rejoin, quits, end);
// - device actions on a Videohub simulator over real TCP (a route every
//   250 ms, a uniquely named label every 2 s);
// - the Videohub dropping (power cut) for 10 s every 5 minutes and returning
//   (and once in the middle of the warm-up).
// A probe in a worker thread (its own event loop, so the clients' work here
// does not delay its timing) calls system.info every 50 ms: idle before the
// load starts, then under load. RSS and open fds are sampled every 5 s; the
// heap once a minute after a full GC (heap in use without one is mostly
// garbage waiting for the next major GC). At the end it counts lost events: webhook
// events not listed by GET /api/meetings/{id}/events, and confirmed labels
// some WS client never saw in a `devices` notification.
// Growth is judged over the measured MINUTES after WARMUP minutes of the same load: in the first
// minutes V8 compiles (lazily, then optimises) the code paths the load uses, bytecode and machine
// code that stay for the life of the process; the warm-up keeps that one-off cost out of the
// "growth over the run" figure, which is about leaks. The figures from the very start are
// printed too.
// Env: SOAK_MINUTES (default 30; shorter for a trial run), SOAK_WARMUP_MINUTES (default 3);
// SOAK_HEAP_DIR and SOAK_HEAP_AT for diagnostics (soak-child.ts, soak-heap-diff.ts).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as esbuild from 'esbuild';
import WebSocket from 'ws';
import { VideohubSimulator } from '../../drivers/videohub/index.js';
import { agentBuildOptions } from '../build-agent.js';
import type { CacheLevels, SoakSample } from './soak-child.js';
import { meetingEvents, prefillDay } from './soak-day.js';
import { agentLaunch, agentNodeFlags, ROOT } from './support.js';
import { type BenchResult, percentile } from './types.js';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const WARMUP_MINUTES = Number(process.env.SOAK_WARMUP_MINUTES ?? 3);
const CLIENTS = 20;
const MEETING_EVERY_MS = 30_000;
const ROUTE_EVERY_MS = 250;
const LABEL_EVERY_MS = 2_000;
const DROP_EVERY_MS = 5 * 60_000;
const DROP_FOR_MS = 10_000;
const SAMPLE_EVERY_MS = 5_000;
const IDLE_PROBE_MS = 20_000;
const HEAP_EVERY_MS = 60_000;
const TOKENS = {
  admin: 'soak-admin-token-0123456789',
  operator: 'soak-operator-token-0123456789',
  viewer: 'soak-viewer-token-0123456789',
  ingest: 'soak-ingest-token-0123456789',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A JSON-RPC client over the agent's /ws; counts what each notification says about labels. */
class Client {
  private id = 0;
  private readonly pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  readonly labelsSeen = new Set<string>();
  notifications = 0;
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const text = raw.toString();
      const msg = JSON.parse(text) as { id?: number; method?: string };
      if (msg.method === 'event') {
        this.notifications++;
        for (const m of text.matchAll(/soak-label-\d+/g)) this.labelsSeen.add(m[0]);
        return;
      }
      if (msg.id !== undefined) {
        this.pending.get(msg.id)?.(msg as { result?: unknown });
        this.pending.delete(msg.id);
      }
    });
  }
  static open(url: string, token: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token}`);
      ws.once('open', () => resolve(new Client(ws)));
      ws.once('error', reject);
    });
  }
  call(method: string, params?: unknown): Promise<{ result?: unknown; error?: { message: string } }> {
    const id = ++this.id;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

// The probe: sequential system.info calls, latency per phase. Plain JS, run with eval in a worker.
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require('ws');
const ws = new WebSocket(workerData.url);
const lat = { idle: [], load: [] };
let phase = 'idle', stop = false, id = 0;
parentPort.on('message', (m) => { if (m === 'stop') stop = true; else phase = m; });
ws.on('open', async () => {
  parentPort.postMessage('open');
  while (!stop) {
    const t0 = process.hrtime.bigint();
    await new Promise((res) => { ws.once('message', res); ws.send(JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'system.info' })); });
    lat[phase].push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((r) => setTimeout(r, 50));
  }
  ws.close();
  parentPort.postMessage(lat);
});
`;

function childBundle(): Promise<string> {
  const outfile = path.join(ROOT, 'dist/bench/soak.mjs');
  return esbuild
    .build(agentBuildOptions(path.join(path.dirname(fileURLToPath(import.meta.url)), 'soak-child.ts'), outfile))
    .then(() => outfile);
}

interface ChildAgent {
  url: string;
  sample(afterGc?: boolean): Promise<SoakSample>;
  levels(): Promise<CacheLevels | undefined>;
  /** V8's last-resort GC in the agent (after the pre-fill); its memory afterwards. */
  shrink(): Promise<SoakSample>;
  stop(): Promise<void>;
}

async function startAgent(configFile: string): Promise<ChildAgent> {
  const child = fork(await childBundle(), [], {
    // --expose-gc: once a minute the heap is measured after a full collection (one short pause a minute).
    execArgv: ['--expose-gc', ...agentNodeFlags()],
    env: { ...process.env, SOAK_CHILD: configFile },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // Replies come in request order: one queue, one exit listener.
  const waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m) => waiting.shift()?.resolve(m));
  let exited = false;
  const exit = new Promise<void>((r) =>
    child.once('exit', (code) => {
      exited = true;
      for (const w of waiting.splice(0)) w.reject(new Error(`soak agent exited with ${code}`));
      r();
    }),
  );
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      if (exited) reject(new Error('soak agent has exited'));
      else waiting.push({ resolve: resolve as (m: unknown) => void, reject });
    });
  const first = await next<{ ready?: string; error?: string }>();
  if (!first.ready) throw new Error(`soak agent: ${first.error ?? 'did not start'}`);
  return {
    url: first.ready,
    sample: async (afterGc = false) => {
      const reply = next<{ sample: SoakSample }>();
      child.send(afterGc ? 'sample-after-gc' : 'sample');
      return (await reply).sample;
    },
    shrink: async () => {
      const reply = next<{ sample: SoakSample }>();
      child.send('shrink');
      return (await reply).sample;
    },
    levels: async () => {
      const reply = next<{ levels?: CacheLevels }>();
      child.send('levels');
      return (await reply).levels;
    },
    stop: async () => {
      child.send('exit');
      await exit;
    },
  };
}

/** The tracking caches' fill against their caps, one line. */
function levelsText(l: CacheLevels | undefined): string {
  if (!l) return 'tracking off';
  return (
    `folds ${l.folds.count}/${l.folds.cap}, final insights ${l.finals.count} (${(l.finals.chars / 2 ** 20).toFixed(2)}/${(l.finals.capChars / 2 ** 20).toFixed(0)} MB), ` +
    `delta bases ${l.deltaBases.count}/${l.deltaBases.cap}, dedup ${l.dedup.conferences} conferences ${l.dedup.keys}/${l.dedup.budget} keys, ` +
    `user_data memo ${l.userData.count}/${l.userData.cap}`
  );
}

/** Mean of a field over the first and the last 10 % of the samples. */
function firstLast(samples: SoakSample[], key: keyof SoakSample): { first: number; last: number; growthPct: number } {
  const n = Math.max(1, Math.floor(samples.length / 10));
  const mean = (xs: SoakSample[]) => xs.reduce((s, x) => s + x[key], 0) / xs.length;
  const first = mean(samples.slice(0, n));
  const last = mean(samples.slice(-n));
  return { first, last, growthPct: ((last - first) / first) * 100 };
}

export async function run(): Promise<BenchResult[]> {
  const warmupMs = WARMUP_MINUTES * 60_000;
  const durationMs = MINUTES * 60_000 + warmupMs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-soak-'));
  const sim = new VideohubSimulator({ inputs: 8, outputs: 8, model: 'Smart Videohub 8x8 (soak)' });
  const simPort = await sim.start();
  const tokens = Object.entries(TOKENS)
    .map(([role, token]) => `[[agent.tokens]]\nname = "soak-${role}"\ntoken = "${token}"\nrole = "${role}"\n`)
    .join('\n');
  const configFile = path.join(dir, 'api.toml');
  fs.writeFileSync(
    configFile,
    `[agent]\nroom_id = "soak"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nlog_level = "warn"\n\n${tokens}\n` +
      `[tracking]\n\n[devices.matrix]\ndriver = "videohub"\nhost = "127.0.0.1"\nport = ${simPort}\n`,
  );
  const agent = await startAgent(configFile);
  const url = agent.url;
  // A day already in progress: earlier meetings of the load's own shape stored and read until
  // the bounded tracking caches are at their caps (soak-day.ts).
  const prefillStarted = Date.now();
  const prefill = await prefillDay({
    url,
    ingestToken: TOKENS.ingest,
    viewerToken: TOKENS.viewer,
    levels: () => agent.levels(),
  });
  process.stdout.write(
    `soak: ${prefill.meetings} earlier meetings stored and read in ${((Date.now() - prefillStarted) / 1000).toFixed(1)} s` +
      `${prefill.full ? ', caches at their caps' : ', CACHES NOT FULL'}: ${levelsText(prefill.levels)}\n`,
  );
  // What thousands of meetings in seconds left behind in V8's pages is given back (soak-child.ts).
  const rssBefore = (await agent.sample()).rssMb;
  const shrunk = await agent.shrink();
  process.stdout.write(
    `soak: RSS after the pre-fill ${rssBefore.toFixed(1)} MB, after a last-resort GC ${shrunk.rssMb.toFixed(1)} MB\n`,
  );
  const probe = new Worker(PROBE, { eval: true, workerData: { url: `${url.replace('http', 'ws')}/ws?token=${TOKENS.viewer}` } });
  await new Promise((r) => probe.once('message', r));
  process.stdout.write(
    `soak: agent at ${url}, ${WARMUP_MINUTES} min warm-up + ${MINUTES} min of load after ${IDLE_PROBE_MS / 1000} s idle\n`,
  );
  await sleep(IDLE_PROBE_MS);
  probe.postMessage('load');

  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => Client.open(url, TOKENS.viewer)));
  const topics = ['devices', 'meetings', 'alerts', 'scenarios', 'calendar', 'director', 'video.status', 'video.streams'];
  const subscribed: string[] = [];
  for (const t of topics) if (!(await clients[0].call('subscribe', { topics: [t] })).error) subscribed.push(t);
  await Promise.all(clients.slice(1).map((c) => c.call('subscribe', { topics: subscribed })));
  const operator = await Client.open(url, TOKENS.operator);

  const samples: SoakSample[] = [await agent.sample()];
  const heapSamples: SoakSample[] = [await agent.sample(true)];
  const meetings: { id: string; sent: number }[] = [];
  let webhookFailures = 0;
  const labelsConfirmed: string[] = [];
  let actionsOk = 0;
  let actionsFailed = 0;
  let drops = 0;
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => void) => timers.push(setInterval(fn, ms));

  const post = async (body: unknown): Promise<boolean> => {
    try {
      const r = await fetch(`${url}/hooks/conference`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
      });
      await r.arrayBuffer();
      if (r.status !== 200) webhookFailures++;
      return r.status === 200;
    } catch {
      webhookFailures++;
      return false;
    }
  };
  const meeting = (n: number) => {
    const m = { id: `SOAK-${n}`, sent: 0 };
    meetings.push(m);
    for (const { after, event } of meetingEvents(`soak-conf-${n}`, m.id, Math.floor(Date.now() / 1000))) {
      timers.push(
        setTimeout(() => {
          m.sent++;
          void post(event);
        }, after * 1000),
      );
    }
  };

  let meetingNo = 0;
  meeting(meetingNo++);
  every(MEETING_EVERY_MS, () => meeting(meetingNo++));
  let k = 0;
  every(ROUTE_EVERY_MS, () => {
    k++;
    void operator
      .call('device.action', { device: 'matrix', action: 'route', params: { output: (k % 7) + 1, input: (k % 8) + 1 } })
      .then((r) => {
        if (r.error) actionsFailed++;
        else actionsOk++;
      });
  });
  let labelNo = 0;
  every(LABEL_EVERY_MS, () => {
    const label = `soak-label-${labelNo++}`;
    void operator
      .call('device.action', { device: 'matrix', action: 'label.set', params: { kind: 'output', index: 8, label } })
      .then((r) => {
        if (r.error) actionsFailed++;
        else {
          actionsOk++;
          labelsConfirmed.push(label);
        }
      });
  });
  let c = 0;
  every(1000, () => void clients[c++ % CLIENTS].call('devices.list'));
  every(SAMPLE_EVERY_MS, () => void agent.sample().then((s) => samples.push(s)));
  every(HEAP_EVERY_MS, () => void agent.sample(true).then((s) => heapSamples.push(s)));
  const dropEvery = Math.min(DROP_EVERY_MS, Math.max(60_000, durationMs / 3));
  const drop = () => {
    drops++;
    void sim.stop().then(() => timers.push(setTimeout(() => void sim.start(), DROP_FOR_MS)));
  };
  every(dropEvery, drop);
  // One cut inside the warm-up too, so the code of a device leaving and returning is compiled before the measured window.
  if (warmupMs >= 60_000) timers.push(setTimeout(drop, warmupMs / 2));
  // Progress once a minute, so a long run shows it is alive.
  const started = Date.now();
  every(60_000, () => {
    const s = samples.at(-1);
    process.stdout.write(
      `soak: ${Math.round((Date.now() - started) / 60_000)} min, rss ${s?.rssMb.toFixed(1)} MB, heap ${s?.heapMb.toFixed(1)} MB, fds ${s?.fds}, meetings ${meetings.length}, actions ${actionsOk} ok / ${actionsFailed} failed\n`,
    );
  });

  await sleep(durationMs);
  for (const t of timers) clearInterval(t);
  // Let the last meeting's events land, the device return and the pushes arrive.
  if (sim.clientCount === 0) await sim.start().catch(() => undefined);
  await sleep(3_000);
  samples.push(await agent.sample());
  const levelsAtEnd = await agent.levels();
  probe.postMessage('stop');
  heapSamples.push(await agent.sample(true));
  const lat = await new Promise<{ idle: number[]; load: number[] }>((r) => probe.once('message', r));
  await probe.terminate();

  // Lost events: webhook events sent but not listed; labels confirmed but not seen by a client.
  let lostWebhook = webhookFailures;
  for (const m of meetings) {
    const r = await fetch(`${url}/api/meetings/${m.id}/events?limit=10000`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    const listed = r.status === 200 ? ((await r.json()) as { events: unknown[] }).events.length : 0;
    lostWebhook += Math.max(0, m.sent - listed);
  }
  let lostPushes = 0;
  for (const cl of clients) for (const l of labelsConfirmed) if (!cl.labelsSeen.has(l)) lostPushes++;
  const notifications = clients.reduce((s, cl) => s + cl.notifications, 0);
  for (const cl of [...clients, operator]) cl.close();
  await agent.stop();
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  // Samples of the measured window (after the warm-up); the first sample is the start of the load.
  const measured = (xs: SoakSample[], everyMs: number) => xs.slice(Math.min(xs.length - 1, Math.floor(warmupMs / everyMs)));
  const rss = firstLast(measured(samples, SAMPLE_EVERY_MS), 'rssMb');
  const heap = firstLast(measured(heapSamples, HEAP_EVERY_MS), 'heapMb');
  const fds = firstLast(measured(samples, SAMPLE_EVERY_MS), 'fds');
  const heapFromStart = firstLast(heapSamples, 'heapMb');
  const rssFromStart = firstLast(samples, 'rssMb');
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const idle = sorted(lat.idle);
  const load = sorted(lat.load);
  const label = `${MINUTES} min after ${WARMUP_MINUTES} min warm-up, ${CLIENTS} clients, ${agentLaunch()}`;
  process.stdout.write(`soak: caches at the end: ${levelsText(levelsAtEnd)}\n`);
  process.stdout.write(
    `soak: ${meetings.length} meetings, ${meetings.reduce((s, m) => s + m.sent, 0)} webhook events, ${actionsOk} actions ok / ${actionsFailed} failed (device away ${drops}× ${DROP_FOR_MS / 1000} s), ${notifications} notifications, ${samples.length} samples\n`,
  );
  return [
    { name: `RSS first → last 10 % (${label})`, value: rss.last, unit: 'MB', baseline: { name: 'first 10 %', value: rss.first } },
    { name: 'RSS growth', value: rss.growthPct, unit: '%', goal: '< 5 %' },
    { name: 'RSS peak', value: Math.max(...samples.map((s) => s.rssMb)), unit: 'MB' },
    {
      name: 'heap used after GC, first → last 10 %',
      value: heap.last,
      unit: 'MB',
      baseline: { name: 'first 10 %', value: heap.first },
    },
    { name: 'heap growth', value: heap.growthPct, unit: '%', goal: '< 5 %' },
    {
      name: 'heap growth from the start of the load (warm-up included)',
      value: heapFromStart.growthPct,
      unit: '%',
      baseline: { name: 'RSS growth from the start', value: rssFromStart.growthPct },
    },
    { name: 'open fds first → last 10 %', value: fds.last, unit: 'fds', baseline: { name: 'first 10 %', value: fds.first } },
    { name: 'threads peak', value: Math.max(...samples.map((s) => s.threads)), unit: 'threads' },
    {
      name: 'system.info p99 under load',
      value: percentile(load, 99),
      unit: 'ms',
      baseline: { name: 'idle', value: percentile(idle, 99) },
      goal: '≤ 5 ms',
    },
    {
      name: 'system.info p50 under load',
      value: percentile(load, 50),
      unit: 'ms',
      baseline: { name: 'idle', value: percentile(idle, 50) },
    },
    { name: 'lost events (webhook + WS pushes)', value: lostWebhook + lostPushes, unit: 'events', goal: '0' },
  ];
}
