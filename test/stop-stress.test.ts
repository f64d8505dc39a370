// Stop under stress (issue 19 item 9): the bundled agent is started and sent
// SIGTERM 100 times at random moments — while it loads and starts, right after
// "ready", while a recording starts — and in half the runs whatever reads its
// stdout has gone away first (EPIPE on the next log line). Every run must end
// within 10 s (a bound, not a measurement) and leave no process of its group
// behind (ffmpeg included). Before the fix, pino's exit flush spun forever on
// EPIPE, and a SIGTERM during the first ~0.45 s killed the agent uncleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentEnv, agentNodeFlags, buildAgent } from '../scripts/build-agent.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'build', 'stop-stress', 'cli.js');
const CYCLES = Number(process.env.STOP_STRESS_CYCLES ?? 100);
const PARALLEL = 8;
const EXIT_BOUND_MS = 10_000;
const OPERATOR = 'stop-stress-operator-token-0123456789';
let tmp = '';

beforeAll(async () => {
  await buildAgent(OUT);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-stress-'));
}, 60_000);
afterAll(() => {
  fs.rmSync(path.dirname(OUT), { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Moment = 'starting' | 'ready' | 'recording';
interface Outcome {
  cycle: number;
  moment: Moment;
  readerGone: boolean;
  delayMs: number;
  problem: string | null;
}

// A seeded generator, so a failing run can be repeated (the seed is in the failure message).
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function roomConfig(dir: string): string {
  return `[agent]
room_id = "stress"
listen = "127.0.0.1:0"
data_dir = "${dir}/data"
log_level = "debug"

[[agent.tokens]]
name = "op"
token = "${OPERATOR}"
role = "operator"

[devices.cam-1]
driver = "visca"
simulated = true

[devices.rec]
driver = "recorder"
input = "testsrc2=size=160x120:rate=10"
input_format = "lavfi"
segment_seconds = 2
preset = "ultrafast"
min_free_mb = 1
check_interval_ms = 500
`;
}

/** Resolves with the API address at "room-agent ready", or null if the agent exits or its stdout closes first. */
function waitReady(proc: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: string | null) => {
      proc.stdout?.off('data', onData);
      resolve(v);
    };
    const onData = (c: Buffer) => {
      buf += c.toString();
      const m = /"address":"(http:\/\/[^"]+)"[^\n]*room-agent ready|room-agent ready[^\n]*"address":"(http:\/\/[^"]+)"/.exec(buf);
      if (m) done(m[1] ?? m[2] ?? null);
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', () => done(null));
  });
}

/** Starts a recording without waiting for the answer (the SIGTERM lands while ffmpeg starts). */
function startRecording(address: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${address.replace('http', 'ws')}/ws?token=${OPERATOR}`);
    ws.on('open', () => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'device.action', params: { device: 'rec', action: 'start' } }));
      resolve();
    });
    ws.on('error', () => resolve());
    ws.on('close', () => resolve());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cycle(n: number, moment: Moment, readerGone: boolean, delayMs: number): Promise<Outcome> {
  const dir = path.join(tmp, `c${n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'api.toml'), roomConfig(dir));
  const proc = spawn(process.execPath, [...agentNodeFlags(), OUT, 'start', '--config', path.join(dir, 'api.toml')], {
    cwd: ROOT,
    env: { ...process.env, ...agentEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: what it leaves behind is found below
  });
  const pgid = proc.pid as number;
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const out: Outcome = { cycle: n, moment, readerGone, delayMs, problem: null };
  if (moment === 'starting') {
    proc.stdout?.resume();
    await sleep(delayMs);
  } else {
    const address = await waitReady(proc);
    if (!address) {
      out.problem = `exited before ready: ${stderr.slice(-500)}`;
      return out;
    }
    proc.stdout?.resume();
    if (moment === 'recording') await startRecording(address);
    await sleep(delayMs);
  }
  // The launcher goes away as it sends the signal: our next log line meets a closed pipe.
  if (readerGone) proc.stdout?.destroy();
  proc.kill('SIGTERM');
  const bound = sleep(EXIT_BOUND_MS).then(() => 'timeout' as const);
  const r = await Promise.race([exited, bound]);
  if (r === 'timeout') {
    out.problem = `still running ${EXIT_BOUND_MS} ms after SIGTERM`;
    process.kill(-pgid, 'SIGKILL');
    await exited;
    return out;
  }
  // What the agent started (ffmpeg, simulators) must be gone with it.
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await sleep(50);
  if (groupAlive(pgid)) {
    out.problem = 'left processes behind in its group';
    process.kill(-pgid, 'SIGKILL');
  }
  if (r.code !== 0 && r.code !== null) out.problem ??= `exit code ${r.code}: ${stderr.slice(-300)}`;
  return out;
}

describe('stop under stress', () => {
  it(`${CYCLES} SIGTERMs at random moments, half with stdout's reader gone: each exits within 10 s, nothing left`, async () => {
    const seed = Number(process.env.STOP_STRESS_SEED ?? Date.now() % 2 ** 31);
    const rnd = random(seed);
    const plan = Array.from({ length: CYCLES }, (_, n) => {
      const moment = (['starting', 'ready', 'recording'] as const)[n % 3] as Moment;
      const readerGone = Math.floor(n / 3) % 2 === 1;
      // starting: anywhere in load + start (~1 s); ready: the first 150 ms after it; recording: while ffmpeg starts.
      const delayMs = Math.floor(rnd() * (moment === 'starting' ? 1000 : moment === 'ready' ? 150 : 300));
      return { n, moment, readerGone, delayMs };
    });
    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < plan.length) {
          const p = plan[next++];
          if (p) outcomes.push(await cycle(p.n, p.moment, p.readerGone, p.delayMs));
        }
      }),
    );
    const bad = outcomes.filter((o) => o.problem);
    expect(bad, `seed ${seed}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
    expect(outcomes).toHaveLength(CYCLES);
  }, 240_000);
});

describe('signals before anything slow', () => {
  it('start installs its SIGTERM handler before loading the agent; a SIGTERM then ends it cleanly, nothing opened', async () => {
    const { main } = await import('../src/cli.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-signal-'));
    fs.writeFileSync(path.join(dir, 'api.toml'), roomConfig(dir));
    const before = { term: process.listeners('SIGTERM'), int: process.listeners('SIGINT') };
    try {
      const run = main(['start', '--config', path.join(dir, 'api.toml')]);
      // Synchronously, before the first await inside `start` (the agent's modules load after it).
      const added = process.listeners('SIGTERM').filter((l) => !before.term.includes(l));
      expect(added).toHaveLength(1);
      process.emit('SIGTERM', 'SIGTERM');
      expect(await run).toBe(0);
      // Stopped before the agent was built: no database, no API, no devices.
      expect(fs.existsSync(path.join(dir, 'data', 'room-agent.db'))).toBe(false);
    } finally {
      for (const l of process.listeners('SIGTERM')) if (!before.term.includes(l)) process.off('SIGTERM', l);
      for (const l of process.listeners('SIGINT')) if (!before.int.includes(l)) process.off('SIGINT', l);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
