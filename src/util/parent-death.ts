// A child that must not outlive the agent (the recorder's ffmpeg records for
// as long as it runs) is started through util-linux's `setpriv --pdeathsig
// KILL`: setpriv asks the kernel (prctl PR_SET_PDEATHSIG) to send SIGKILL to
// it when its parent dies, then execs the real program under the same pid.
// The mark survives the exec, so the kernel kills the program the moment the
// agent dies, however it dies (SIGKILL, OOM kill, crash).
//
// The kernel ties the mark to the thread that forked; Node forks children
// from its main thread, whose end is the end of the process.
//
// Where setpriv is missing or too old (util-linux < 2.33 has no --pdeathsig)
// the program is started directly and the caller's pid file is the only
// clean-up (at the next start).
import { execFileSync } from 'node:child_process';

let probed: string[] | null | undefined;

/**
 * The command prefix that ends a child with its parent (`['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--']`),
 * or null when this system's setpriv cannot do it. Probed once (runs `setpriv --pdeathsig KILL -- true`).
 */
export function parentDeathPrefix(): string[] | null {
  if (probed !== undefined) return probed;
  probed = null;
  if (process.platform !== 'linux') return probed;
  for (const bin of ['/usr/bin/setpriv', '/bin/setpriv']) {
    try {
      execFileSync(bin, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
      probed = [bin, '--pdeathsig', 'KILL', '--'];
      break;
    } catch {
      // missing, or no --pdeathsig: try the next place
    }
  }
  return probed;
}

/** `command` and `args` to spawn so that the program dies with this process (when setpriv allows). */
export function tiedToParent(command: string, args: string[]): { command: string; args: string[]; tied: boolean } {
  const prefix = parentDeathPrefix();
  if (!prefix) return { command, args, tied: false };
  return { command: prefix[0]!, args: [...prefix.slice(1), command, ...args], tied: true };
}
