// Shared by the benchmarks that run the shipped agent: where it is and how it is started.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_BUNDLE, agentNodeFlags } from '../build-agent.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export { AGENT_BUNDLE, agentNodeFlags };

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
