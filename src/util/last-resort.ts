// The last line of defence: a promise rejection nobody handled must not end the
// agent (Node's default). Every door contains its own errors; reaching this is
// a bug, so it is logged at error level, rate limited, and the agent keeps serving.
import type { Logger } from 'pino';
import { AgentError, errorMessage } from './errors.js';
import { RateLimitedLog } from './rate-limited-log.js';

export function installLastResortHandler(logger: Logger, proc: NodeJS.Process = process): void {
  const noisy = new RateLimitedLog(logger, { perWindow: 5, windowMs: 60_000 });
  proc.on('unhandledRejection', (reason) => {
    // AgentErrors describe what a client or device did wrong: the message says it all, a stack adds only noise.
    const stack = reason instanceof Error && !(reason instanceof AgentError) ? { stack: reason.stack } : {};
    noisy.error(
      'unhandled-rejection',
      { err: errorMessage(reason), ...stack },
      'unhandled promise rejection (a bug: please report it); the agent keeps serving',
    );
  });
}
