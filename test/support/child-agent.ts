// Runs the real CLI (`room-agent start`) as a child process, for tests that
// kill the agent with SIGKILL and check what survived.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function startChildAgent(
  configFile: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = READY_BOUND_MS,
  cli: string[] = FROM_SOURCE,
): Promise<ChildAgent> {
  const proc = spawn(process.execPath, [...cli, 'start', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
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
                  if (proc.exitCode !== null) return res(proc.exitCode);
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
