// Runs the real CLI (`room-agent start`) as a child process, for tests that
// kill the agent with SIGKILL and check what survived.
//
// A child agent never outlives its test: it runs in its own process group
// (with whatever it spawns, e.g. the recorder's ffmpeg), every group still
// alive is killed after the test file (vitest's afterAll) and when the test
// process exits, and the kernel kills the agent when the test process dies
// without a chance to clean up (setpriv --pdeathsig, where available).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tiedToParent } from '../../src/util/parent-death.js';
import { groupMembers } from '../../src/util/stale-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ChildAgent {
  url: string;
  proc: ChildProcess;
  /** Everything the child printed (JSON log lines). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Node arguments that run the CLI from source; the bundle tests and benches pass [...flags, bundle] instead. */
export const FROM_SOURCE = ['--import', 'tsx', path.join(ROOT, 'src/cli.ts')];

/**
 * How long a child may take to print "room-agent ready" before it counts as hung.
 * Only a bound against a hang, never a measurement: from source (tsx compiles the
 * CLI's import graph on each start) a start takes seconds on an idle machine and
 * many times that on a 2-core CI machine while the other test worker runs ffmpeg
 * or a browser (20 s, the old bound, was not enough there). A test that
 * starts a child sets its own time limit above this (vitest's default is 30 s).
 */
export const READY_BOUND_MS = 60_000;

/** Process groups of child agents not yet known to have ended. */
const running = new Set<number>();

/** Kills every child agent still running, with its process group. Synchronous (runs at process exit too). */
export function killChildAgents(): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  running.clear();
}

process.once('exit', killChildAgents);
if (process.env.VITEST) {
  // After each test file, whatever its tests did or forgot to stop.
  const { afterAll } = await import('vitest');
  try {
    afterAll(killChildAgents);
  } catch {
    // Imported by a process vitest started but does not run tests in: the exit hook above does it.
  }
}

export function startChildAgent(
  configFile: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = READY_BOUND_MS,
  cli: string[] = FROM_SOURCE,
): Promise<ChildAgent> {
  const cmd = tiedToParent(process.execPath, [...cli, 'start', '--config', configFile]);
  const proc = spawn(cmd.command, cmd.args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = proc.pid;
  if (pgid) {
    running.add(pgid);
    // The group may still hold children the agent left (its SIGKILL tests check those):
    // forget it only once it is empty, so a recycled id is never killed later.
    proc.once('exit', () => {
      if (groupMembers(pgid).length === 0) running.delete(pgid);
    });
  }
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (pgid) process.kill(-pgid, 'SIGKILL');
      reject(new Error(`child agent not ready within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.includes('room-agent ready')) continue;
        try {
          const j = JSON.parse(line) as { address?: string };
          if (j.address) {
            clearTimeout(timer);
            proc.stdout?.off('data', onData);
            proc.stdout?.on('data', (c: Buffer) => {
              out += c.toString();
            });
            resolve({
              url: j.address,
              proc,
              output: () => out,
              kill: (signal = 'SIGKILL') =>
                new Promise((res) => {
                  if (proc.exitCode !== null || proc.signalCode !== null) return res(proc.exitCode);
                  proc.once('exit', (code) => res(code));
                  proc.kill(signal);
                }),
            });
            return;
          }
        } catch {
          // not a JSON line
        }
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child agent exited with ${code} before it was ready:\n${out}`));
    });
  });
}
