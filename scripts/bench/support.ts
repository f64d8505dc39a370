// Shared by the benchmarks that run the shipped agent: where it is and how it is started.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_BUNDLE, agentEnv, agentNodeFlags } from '../build-agent.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export { AGENT_BUNDLE, agentEnv, agentNodeFlags };

/** How the agent is launched, for figure labels: "MALLOC_ARENA_MAX=1 node --max-semi-space-size=2". */
export function agentLaunch(): string {
  const env = Object.entries(agentEnv()).map(([k, v]) => `${k}=${v} `);
  return `${env.join('')}node ${agentNodeFlags().join(' ')}`.trim();
}

export function requireBundle(): string {
  if (!fs.existsSync(AGENT_BUNDLE)) throw new Error('dist/agent/cli.js missing: run `npm run build` first (npm run bench does)');
  return AGENT_BUNDLE;
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** A reader of /proc/<pid>/status's numeric fields (VmRSS and VmHWM in kB, Threads; 0 if absent), or null once the process is gone. */
export function procStatus(pid: number): ((field: string) => number) | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  return (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** The Mosquitto binary for the MQTT benches: MOSQUITTO_BIN, then PATH, then Debian's /usr/sbin. */
export function mosquittoBin(): string | null {
  const candidates = [
    process.env.MOSQUITTO_BIN,
    ...(process.env.PATH ?? '').split(':').map((d) => d && path.join(d, 'mosquitto')),
    '/usr/sbin/mosquitto',
  ];
  return candidates.find((p): p is string => !!p && fs.existsSync(p)) ?? null;
}

/** A loopback port that was free a moment ago (for a broker the bench starts). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * One `room-agent simulate visca` process (Sony framing, motion time 0); resolves with its UDP port.
 * `nodeArgs` go before the bundle; `onStdout` sees every chunk the simulator prints.
 */
export function startViscaSimulator(
  opts: { nodeArgs?: string[]; onStdout?: (chunk: string) => void } = {},
): Promise<{ port: number; proc: ChildProcess }> {
  const args = [
    ...(opts.nodeArgs ?? []),
    requireBundle(),
    'simulate',
    'visca',
    'framing=sony-udp',
    'profile=sony',
    'sim_motion_ms=0',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      opts.onStdout?.(c.toString());
      const m = /"simulator":"visca","endpoint":\{[^}]*"port":(\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), proc });
    });
    proc.once('exit', (code) => reject(new Error(`visca simulator exited ${code}: ${out}`)));
  });
}
