// The last line of defence, for errors that escaped every handler (each door
// contains its own errors, so reaching this is a bug):
//
// - A promise rejection nobody handled never ends the agent (Node's default):
//   it is logged at error level, rate limited, and the agent keeps serving.
// - An uncaught exception is judged by what caused it:
//   - caused by a peer — an AgentError (the agent's own words for what a
//     client or device did wrong), or a socket, HTTP-parser or WebSocket error
//     a client or device brought about (reset, broken pipe, malformed frame):
//     logged like a rejection (rate limited, no stack) and the agent keeps
//     serving, so nobody on the network can end it by misbehaving;
//   - anything else is the agent's own fault (a TypeError, a broken
//     invariant), after which its state cannot be trusted: logged at fatal
//     with the stack, and the process exits with 70 (EX_SOFTWARE) so systemd
//     (Restart=always) starts a clean one.
// docs/security.md "When something escapes".
import type { Logger } from 'pino';
import { AgentError, errorMessage } from './errors.js';
import { RateLimitedLog } from './rate-limited-log.js';

/** Exit status after an uncaught fault of the agent's own (sysexits.h EX_SOFTWARE). */
export const OWN_FAULT_EXIT = 70;

/** Error codes Node sets on errors a peer causes: the other end hung up, timed out or sent bytes no protocol allows. */
const PEER_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_STREAM_DESTROYED',
]);

/** Whether an error that escaped every handler was caused by a client or device (not by the agent's code). */
export function isPeerFault(err: unknown): boolean {
  if (err instanceof AgentError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  // Node's HTTP parser (a malformed request) and the ws library (a malformed frame) name theirs by prefix.
  return PEER_CODES.has(code) || code.startsWith('HPE_') || code.startsWith('WS_ERR_');
}

export interface LastResortOptions {
  proc?: NodeJS.Process;
  /** Ends the process after an own fault (the CLI flushes the log first). */
  exit?: (code: number) => void;
}

export function installLastResortHandler(logger: Logger, opts: LastResortOptions = {}): void {
  const proc = opts.proc ?? process;
  const exit = opts.exit ?? ((code: number) => proc.exit(code));
  const noisy = new RateLimitedLog(logger, { perWindow: 5, windowMs: 60_000 });
  let exiting = false;
  proc.on('unhandledRejection', (reason) => {
    // AgentErrors describe what a client or device did wrong: the message says it all, a stack adds only noise.
    const stack = reason instanceof Error && !(reason instanceof AgentError) ? { stack: reason.stack } : {};
    noisy.error(
      'unhandled-rejection',
      { err: errorMessage(reason), ...stack },
      'unhandled promise rejection (a bug: please report it); the agent keeps serving',
    );
  });
  proc.on('uncaughtException', (err) => {
    if (isPeerFault(err)) {
      const code = (err as { code?: unknown }).code;
      noisy.error(
        'uncaught-peer',
        { err: errorMessage(err), ...(typeof code === 'string' ? { code } : {}) },
        'uncaught error caused by a client or device (a bug: please report it); the agent keeps serving',
      );
      return;
    }
    if (exiting) return;
    exiting = true;
    logger.fatal(
      { err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined, exit_code: OWN_FAULT_EXIT },
      'uncaught exception in the agent itself; exiting so systemd restarts it clean',
    );
    exit(OWN_FAULT_EXIT);
  });
}
