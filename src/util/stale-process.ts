// Child processes (go2rtc, ffmpeg) outlive an agent killed with SIGKILL. Each
// writes a pid file; at the next start the process it names is ended — only
// when `marker` appears in its command line, so a recycled pid of an
// unrelated process is never touched.
import fs from 'node:fs';

/** Kills the process (or its whole group) named by the pid file; returns its pid, or null. */
export function killStale(pidFile: string, marker: string, opts: { group?: boolean } = {}): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  fs.rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker)) return null;
    process.kill(opts.group ? -pid : pid, 'SIGKILL');
    return pid;
  } catch {
    return null;
  }
}

/** Resolves once the process is gone (or a zombie), waiting at most `ms`. */
export async function waitGone(pid: number, ms = 2000): Promise<void> {
  for (let waited = 0; waited < ms && fs.existsSync(`/proc/${pid}`) && !isZombie(pid); waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
