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
  let cmdline: string | null = null;
  try {
    if (!isZombie(pid)) cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    // The leader is gone.
  }
  if (cmdline === null) {
    // The leader died (gone, or a zombie nobody reaped) after the agent did, but its children (go2rtc's ffmpeg)
    // may live on in its group. Linux does not hand out a pid while a process
    // group still carries it as its id, so members of group <pid> with no
    // process <pid> are exactly what the old leader left behind.
    if (!opts.group || groupMembers(pid).length === 0) return null;
    try {
      process.kill(-pid, 'SIGKILL');
      return pid;
    } catch {
      return null;
    }
  }
  if (!cmdline.includes(marker)) return null;
  try {
    process.kill(opts.group ? -pid : pid, 'SIGKILL');
    return pid;
  } catch {
    return null;
  }
}

/** Live pids whose process group is `pgid` (from /proc; Linux). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const d of entries) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
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
