// Meeting tracking: webhook ingest over HTTP keep-alive (single events and
// 500-event batches, each answered only after its commit) beside a no-op
// fastify POST route and raw better-sqlite3 inserts of the same rows; time
// travel and the final-insight read on a meeting with 100,000 events.
// The load generator is a child process, so it does not share the server's
// event loop and process.cpuUsage() here is the server's CPU alone.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pino from 'pino';
import { Agent } from '../../src/app.js';
import type { TrackingFeature } from '../../src/tracking/index.js';
import { dedupKey, parseConfEvent } from '../../src/tracking/parse.js';
import { TRACKING_MIGRATIONS } from '../../src/tracking/store.js';
import { type BenchResult, percentile } from './types.js';

const EVENTS = 100_000;
const BATCH = 500;
const CONCURRENCY = 32;
const TOKEN = 'bench-ingest-token-0123456789';
const BASE_S = 1_763_812_800;

interface LoadJob {
  url: string;
  kind: 'single' | 'batch';
  /** Conference-id prefix, so each run sends events never seen before. */
  prefix: string;
}

/**
 * The load generator, as plain JavaScript run in a child process (-e), so it
 * works the same from the build and from tsx. Event n of a run: 100 events per
 * conference, joins and quits of distinct calls. Bodies are built before the
 * clock starts, so the generator's own JSON work does not compete with the server.
 */
const LOAD_SCRIPT = `
const http = require('node:http');
const job = JSON.parse(process.argv[1]);
function event(prefix, n) {
  const conf = prefix + '-' + Math.floor(n / 100);
  const call = prefix + '-call-' + (n >> 1);
  const j = ${BASE_S} + (n % 100);
  const who = { part_uri: '+7' + (n % 50), user_data: '{"person":"p-' + (n % 50) + '"}' };
  return n % 2 === 0
    ? { event: 'conf.joined', id: conf, join_time: j, call_id: call, ...who }
    : { event: 'conf.quit', id: conf, join_time: j - 1, quit_time: j + 30, call_id: call, ...who };
}
const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
const requests = job.events / job.per;
const bodies = Array.from({ length: requests }, (_, r) => {
  const evs = Array.from({ length: job.per }, (_, k) => event(job.prefix, r * job.per + k));
  return Buffer.from(JSON.stringify(job.per === 1 ? evs[0] : evs));
});
let next = 0;
let failures = 0;
const post = (body) => new Promise((resolve) => {
  const req = http.request(job.url, { method: 'POST', agent, headers: {
    'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer ' + job.token } }, (res) => {
    if (res.statusCode !== 200) failures++;
    res.resume();
    res.on('end', resolve);
  });
  req.on('error', () => { failures++; resolve(); });
  req.end(body);
});
process.once('message', () => {
  const t0 = performance.now();
  Promise.all(Array.from({ length: job.concurrency }, async () => {
    for (let r = next++; r < requests; r = next++) await post(bodies[r]);
  })).then(() => {
    agent.destroy();
    process.send({ ms: performance.now() - t0, requests, events: job.events, failures }, () => process.exit(0));
  });
});
process.send('ready');
`;

interface LoadResult {
  ms: number;
  requests: number;
  events: number;
  failures: number;
  /** CPU time of this (server) process during the run, µs. */
  serverCpuUs: number;
}

export function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const spec = { ...job, per: job.kind === 'single' ? 1 : BATCH, events: EVENTS, concurrency: CONCURRENCY, token: TOKEN };
    const child = spawn(process.execPath, ['-e', LOAD_SCRIPT, JSON.stringify(spec)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let cpu0: NodeJS.CpuUsage | undefined;
    child.on('message', (m: 'ready' | Omit<LoadResult, 'serverCpuUs'>) => {
      if (m === 'ready') {
        cpu0 = process.cpuUsage();
        child.send('go');
        return;
      }
      const cpu = process.cpuUsage(cpu0);
      resolve({ ...m, serverCpuUs: cpu.user + cpu.system });
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (cpu0 === undefined || code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

/** The same rows the load generator sends (for the raw SQLite baseline). */
function event(prefix: string, n: number): Record<string, unknown> {
  const conf = `${prefix}-${Math.floor(n / 100)}`;
  const call = `${prefix}-call-${n >> 1}`;
  const j = BASE_S + (n % 100);
  const who = { part_uri: `+7${n % 50}`, user_data: `{"person":"p-${n % 50}"}` };
  return n % 2 === 0
    ? { event: 'conf.joined', id: conf, join_time: j, call_id: call, ...who }
    : { event: 'conf.quit', id: conf, join_time: j - 1, quit_time: j + 30, call_id: call, ...who };
}

export async function startAgent(dir: string): Promise<{ agent: Agent; url: string }> {
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "bench"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n[[agent.tokens]]\nname = "bench"\ntoken = "${TOKEN}"\nrole = "ingest"\n\n[tracking]\nmax_batch = 1000\n`,
  );
  const agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }), features: undefined });
  const url = await agent.start();
  return { agent, url };
}

/**
 * Raw better-sqlite3: the rows the agent stores for the batch run (same
 * tables and indexes, built by the same migrations; same column values: the
 * dedup key, raw JSON, norm NULL, explicit seq), one transaction per 500,
 * written as the agent writes them: up to 32 rows per INSERT. The rows are
 * built before the clock starts: this is the storage floor, with no parsing,
 * validation, key hashing or duplicate check.
 */
function rawSqlite(dir: string): { rate: number; cpuUsPerEvent: number } {
  const db = new Database(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const m of TRACKING_MIGRATIONS) m.up(db);
  const PER = 32;
  const insert = (rows: number) =>
    db.prepare(
      `INSERT INTO tracking_events (seq, dedup_key, conference, event, known, at, received_at, source, raw, norm, late)
       VALUES ${Array(rows).fill("(?, ?, ?, ?, 1, ?, ?, 'conference', ?, NULL, 0)").join(', ')}`,
    );
  const full = insert(PER);
  const tail = insert(BATCH % PER);
  const now = Date.now();
  const rows = Array.from({ length: EVENTS }, (_, n) => {
    const e = event('raw', n);
    const ev = parseConfEvent(e, n, now);
    return [n + 1, dedupKey(ev, e), ev.conference, ev.event, ev.at, now, JSON.stringify(e)];
  });
  // Each statement's values, flattened before the clock starts.
  const chunks: unknown[][] = [];
  for (let b = 0; b < EVENTS; b += BATCH) {
    for (let i = b; i < b + BATCH; i += PER) chunks.push(rows.slice(i, Math.min(i + PER, b + BATCH)).flat());
  }
  const perBatch = Math.ceil(BATCH / PER);
  const tx = db.transaction((batch: number) => {
    for (let c = batch * perBatch; c < (batch + 1) * perBatch; c++) (chunks[c].length === PER * 7 ? full : tail).run(chunks[c]);
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let b = 0; b < EVENTS / BATCH; b++) tx(b);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  return { rate: (EVENTS / ms) * 1000, cpuUsPerEvent: (cpu.user + cpu.system) / EVENTS };
}

/** The same load against a fastify POST route that parses the JSON body (fastify's default) and stores nothing. */
async function noopRoute(kind: LoadJob['kind']): Promise<{ rate: number; cpuUsPerEvent: number }> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post('/noop', async () => ({ accepted: 1, duplicates: 0 }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const r = await runLoad({ url: `${url}/noop`, kind, prefix: 'noop' });
  await app.close();
  return { rate: (r.requests / r.ms) * 1000, cpuUsPerEvent: r.serverCpuUs / r.events };
}

/** A meeting with 100,000 events: 200 people, 250 calls each (join + quit), in one instance. */
function bigMeeting(tracking: TrackingFeature): string {
  const id = 'M-BIG';
  const conf = 'big-conf';
  const begin = BASE_S;
  const people = 200;
  const callsEach = (EVENTS - 2) / 2 / people;
  const evs: Record<string, unknown>[] = [
    { event: 'conf.create.succ', id: conf, begin_time: begin, user_data: JSON.stringify({ meeting: id }) },
  ];
  for (let p = 0; p < people; p++) {
    for (let c = 0; c < callsEach; c++) {
      const j = begin + c * 40 + (p % 7);
      const ud = JSON.stringify({ person: `p-${p}`, role: p % 2 ? 'client' : 'expert' });
      evs.push({ event: 'conf.joined', id: conf, join_time: j, call_id: `${p}-${c}`, part_uri: `+7${p}`, user_data: ud });
      evs.push({
        event: 'conf.quit',
        id: conf,
        join_time: j,
        quit_time: j + 30 + (c % 5),
        call_id: `${p}-${c}`,
        part_uri: `+7${p}`,
        user_data: ud,
      });
    }
  }
  evs.push({
    event: 'conf.end',
    id: conf,
    begin_time: begin,
    end_time: begin + callsEach * 40 + 60,
    error: null,
    user_data: null,
  });
  for (let i = 0; i < evs.length; i += 1000) tracking.ingest(evs.slice(i, i + 1000), 'bench');
  return id;
}

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tracking-'));
  try {
    const noop = (await noopRoute('single')).rate;
    const noopBatch = await noopRoute('batch');
    const { agent, url } = await startAgent(dir);
    const single = await runLoad({ url: `${url}/hooks/conference`, kind: 'single', prefix: 'single' });
    const batch = await runLoad({ url: `${url}/hooks/conference`, kind: 'batch', prefix: 'batch' });
    if (single.failures || batch.failures) throw new Error(`ingest failures: ${single.failures} single, ${batch.failures} batch`);
    const raw = rawSqlite(dir);

    const tracking = agent.ctx.feature<TrackingFeature>('tracking') as TrackingFeature;
    const id = bigMeeting(tracking);
    // First read after ingest: the meeting is not in memory and has no snapshot yet,
    // so this folds its 100,000 events from SQLite (and writes the snapshot).
    tracking.service.forget(id);
    let t0 = performance.now();
    tracking.insight(id, (BASE_S + 60) * 1000);
    const coldMs = performance.now() - t0;
    const final = tracking.insight(id); // stores the final insight
    const endS = Date.parse(final.actual_end_time as string) / 1000;
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const at = (BASE_S + Math.random() * (endS - BASE_S)) * 1000;
      const s = performance.now();
      tracking.insight(id, at);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    // As after a restart: nothing in memory, the snapshot and the stored final insight in SQLite.
    tracking.service.forget(id);
    t0 = performance.now();
    tracking.insight(id, (BASE_S + 60) * 1000);
    const snapMs = performance.now() - t0;
    t0 = performance.now();
    const bytes = tracking.service.finalJson(id)?.length ?? 0;
    const finalFromDbMs = performance.now() - t0;
    const finalsCap = tracking.service.cacheLevels().finals.capChars;
    const reads: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      tracking.service.finalJson(id);
      reads.push(performance.now() - s);
    }
    reads.sort((a, b) => a - b);
    const httpReads: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      const r = await fetch(`${url}/api/meetings/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      await r.arrayBuffer();
      httpReads.push(performance.now() - s);
    }
    httpReads.sort((a, b) => a - b);
    await agent.stop();
    const singleRate = (single.requests / single.ms) * 1000;
    return [
      {
        name: 'ingest, single-event POSTs (keep-alive, 32 in flight)',
        value: singleRate,
        unit: 'events/s',
        baseline: { name: 'no-op fastify POST route', value: noop },
        goal: `>= 45 % of the no-op route (${Math.round((singleRate / noop) * 100)} % here)`,
      },
      {
        name: 'ingest, 500-event batch POSTs',
        value: (batch.events / batch.ms) * 1000,
        unit: 'events/s',
        baseline: { name: 'raw better-sqlite3 inserts of the same rows, 1 tx per 500', value: raw.rate },
        goal: '>= 100,000 events/s',
      },
      {
        name: 'server CPU per event, 500-event batch POSTs',
        value: batch.serverCpuUs / batch.events,
        unit: 'µs',
        baseline: { name: 'raw better-sqlite3 inserts of the same rows', value: raw.cpuUsPerEvent },
      },
      {
        name: `server CPU per event, no-op fastify POST route on the same 500-event bodies (JSON parsed, nothing stored; ${Math.round(noopBatch.rate * BATCH).toLocaleString('en-US')} events/s)`,
        value: noopBatch.cpuUsPerEvent,
        unit: 'µs',
      },
      {
        name: 'time travel, 100,000-event meeting, p99 of 1,000 random `at`',
        value: percentile(times, 99),
        unit: 'ms',
        baseline: { name: 'p50', value: percentile(times, 50) },
        goal: '<= 20 ms',
      },
      { name: 'first read of the meeting, nothing in memory, no snapshot (fold of 100,000 events)', value: coldMs, unit: 'ms' },
      { name: 'first read after a restart (snapshot + later events)', value: snapMs, unit: 'ms' },
      {
        // The default [tracking] final_cache_mb (4 MB) bounds the memory of ended meetings' insights (issue 16); the
        // 100,000-event meeting's insight is larger, so with the defaults it is read from SQLite each time.
        name: `final insight read (stored JSON, ${Math.round(bytes / 1024)} KiB, ${
          finalsCap >= bytes
            ? 'in memory'
            : `larger than [tracking] final_cache_mb (${finalsCap / 1024 / 1024} MB): read from SQLite each time`
        }), p99 of 200`,
        value: percentile(reads, 99),
        unit: 'ms',
        baseline: { name: 'first read from SQLite after a restart', value: finalFromDbMs },
        goal: '<= 2 ms (when it fits final_cache_mb)',
      },
      {
        name: 'final insight over HTTP GET /api/meetings/{id} (incl. transfer), p50 of 20',
        value: percentile(httpReads, 50),
        unit: 'ms',
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
