// What the machine ran while each of a set of calls was in flight: a reader of
// `perf record -e sched:sched_switch -e sched:sched_wakeup -a -k CLOCK_MONOTONIC`
// (the whole machine's scheduler switches, stamped with the monotonic clock the
// calls' windows use: process.hrtime). For each slow call it says how long the
// agent's main thread was runnable but not running (waiting for a core) and
// which threads held the cores meanwhile: the agent's own (its main thread,
// V8's compiler and GC helpers "V8Worker", worker_threads "WorkerThread"), the
// cameras', the client's or another process's. Used by scripts/visca-alloc.ts
// (PROBE_PERF); docs/performance.md, "Cold start: what the slow first calls wait for".
import { execFileSync } from 'node:child_process';

export interface Roles {
  agent: number;
  client: number;
  cameras: number[];
}

interface Ran {
  start: number;
  end: number;
  tid: number;
}

/** Reads a perf.data file into the intervals each thread ran (µs) and the agent main thread's waits. */
function readTrace(file: string, agentMain: number) {
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'pid,tid,cpu,time,event,trace'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const processOf = new Map<number, number>();
  const names = new Map<number, string>();
  const ran: Ran[] = [];
  // `behind`: the thread on the core the agent's main thread was woken onto (what it queued behind).
  const waits: { from: number; to: number; behind: number }[] = [];
  const onCpu = new Map<number, { tid: number; since: number }>();
  const runnableSince = new Map<number, number>();
  let mainBehind = -1;
  const line = /^\s*(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+): sched:(\w+): (.*)$/;
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (!m) continue;
    processOf.set(Number(m[2]), Number(m[1]));
    const cpu = Number(m[3]);
    const t = Number(m[4]) * 1e6;
    if (m[5] === 'sched_wakeup') {
      const w = /comm=(.*) pid=(\d+).*target_cpu=(\d+)/.exec(m[6]);
      if (!w) continue;
      names.set(Number(w[2]), w[1]);
      if (!runnableSince.has(Number(w[2]))) {
        runnableSince.set(Number(w[2]), t);
        if (Number(w[2]) === agentMain) mainBehind = onCpu.get(Number(w[3]))?.tid ?? -1;
      }
      continue;
    }
    const s = /prev_comm=(.*) prev_pid=(\d+) .*prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+)/.exec(m[6]);
    if (!s) continue;
    const prev = Number(s[2]);
    const next = Number(s[5]);
    names.set(prev, s[1]);
    names.set(next, s[4]);
    const was = onCpu.get(cpu);
    if (was) ran.push({ start: was.since, end: t, tid: was.tid });
    onCpu.set(cpu, { tid: next, since: t });
    const since = runnableSince.get(next);
    runnableSince.delete(next);
    if (next === agentMain && since !== undefined) waits.push({ from: since, to: t, behind: mainBehind });
    // Preempted: still runnable, waiting for a core from now on (behind whatever runs next here).
    if (s[3].startsWith('R')) {
      runnableSince.set(prev, t);
      if (prev === agentMain) mainBehind = next;
    }
  }
  return { processOf, names, ran, waits };
}

/** Prints, for the `top` slowest windows (µs, monotonic), the agent's wait for a core and what ran meanwhile. */
export function explainSlowCalls(file: string, windows: [number, number][], roles: Roles, top = 15): void {
  const { processOf, names, ran, waits } = readTrace(file, roles.agent);
  const who = (tid: number): string => {
    if (tid === 0) return 'idle';
    const p = processOf.get(tid);
    const thread = (main: number) => (tid === main ? 'main' : (names.get(tid) ?? '?'));
    if (p === roles.agent) return `agent:${thread(roles.agent)}`;
    if (p === roles.client) return `client:${thread(roles.client)}`;
    const cam = p === undefined ? -1 : roles.cameras.indexOf(p);
    if (cam >= 0 && p !== undefined) return `camera${cam + 1}:${thread(p)}`;
    return `other:${names.get(tid) ?? '?'}`;
  };
  const usage = (a: number, b: number) => {
    const by = new Map<string, number>();
    for (const r of ran) {
      if (r.end < a || r.start > b) continue;
      const k = who(r.tid);
      by.set(k, (by.get(k) ?? 0) + Math.min(r.end, b) - Math.max(r.start, a));
    }
    return [...by].sort((x, y) => y[1] - x[1]);
  };
  const waited = (a: number, b: number) =>
    waits.reduce((sum, w) => (w.to < a || w.from > b ? sum : sum + Math.min(w.to, b) - Math.max(w.from, a)), 0);
  // Core time the agent's own other threads (V8's helpers, worker threads) held while its main thread waited.
  const heldByAgent = (a: number, b: number) => {
    let sum = 0;
    for (const w of waits) {
      const from = Math.max(w.from, a);
      const to = Math.min(w.to, b);
      if (to <= from) continue;
      for (const r of ran) {
        if (r.tid === roles.agent || processOf.get(r.tid) !== roles.agent) continue;
        const o = Math.min(r.end, to) - Math.max(r.start, from);
        if (o > 0) sum += o;
      }
    }
    return sum;
  };
  const ms = (us: number) => (us / 1000).toFixed(2);
  const first = windows[0][0];
  const last = windows[windows.length - 1][1];
  console.log(
    `  machine CPU during the calls (ms): ${usage(first, last)
      .slice(0, 12)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(', ')}`,
  );
  console.log(
    `  agent main thread runnable but not running: ${ms(waited(first, last))} ms in all; meanwhile the agent's other threads held ${ms(heldByAgent(first, last))} core-ms`,
  );
  // The main thread's longer waits by what held the core it was woken onto (its own V8 helpers, or others').
  const behind = new Map<string, number>();
  for (const w of waits) {
    if (w.to < first || w.from > last || w.to - w.from < 100) continue;
    const k = w.behind < 0 ? '?' : who(w.behind);
    behind.set(k, (behind.get(k) ?? 0) + w.to - w.from);
  }
  console.log(
    `  its waits over 0.1 ms, by the thread on the core it was woken onto (ms): ${[...behind]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(', ')}`,
  );
  const slow = windows
    .map(([a, b], i) => ({ i, a, b }))
    .sort((x, y) => y.b - y.a - (x.b - x.a))
    .slice(0, top);
  for (const { i, a, b } of slow) {
    const ranHere = usage(a, b)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${ms(v)}`)
      .join(', ');
    console.log(`  #${i} ${ms(b - a)} ms: agent main waited ${ms(waited(a, b))} ms for a core; ran: ${ranHere}`);
  }
}
