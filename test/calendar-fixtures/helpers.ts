// Shared by the calendar tests: a DriverContext that records what a driver
// reports, with every log line captured (for the no-secrets assertions).
import { connectWithoutHost } from '../../src/transport/lifecycle.js';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { ActionContext, DeviceStatus, DriverContext } from '../../src/host/contract.js';
import type { Clock } from '../../src/util/clock.js';
import { RateLimitedLog } from '../../src/util/rate-limited-log.js';

export interface Recorded {
  ctx: DriverContext;
  statuses: { status: DeviceStatus; message: string }[];
  state: Record<string, unknown>;
  errors: string[];
  logs: string[];
  /** Everything a driver said, as one string (logs, statuses, errors, state). */
  everything(): string;
}

export function captureLogger(lines: string[]): pino.Logger {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return pino({ level: 'trace' }, sink);
}

export function recordingContext(clock: Clock, id = 'cal'): Recorded {
  const rec: Recorded = {
    statuses: [],
    state: {},
    errors: [],
    logs: [],
    everything: () => JSON.stringify([rec.logs, rec.statuses, rec.errors, rec.state]),
    ctx: undefined as unknown as DriverContext,
  };
  rec.ctx = {
    id,
    logger: captureLogger(rec.logs),
    deviceNoise: new RateLimitedLog(captureLogger(rec.logs), { clock }),
    agentReady: Promise.resolve(),
    clock,
    dataDir: '/nonexistent',
    setStatus: (status, message) => rec.statuses.push({ status, message }),
    connect: connectWithoutHost({ clock, setStatus: (status, message) => rec.statuses.push({ status, message }) }),
    reportError: (m) => rec.errors.push(m),
    setState: (patch) => Object.assign(rec.state, patch),
    emit: () => undefined,
  };
  return rec;
}

export function lastStatus(r: Recorded): { status: DeviceStatus; message: string } | undefined {
  return r.statuses[r.statuses.length - 1];
}

/** Polls `pred` on real timers (the HTTP side of these tests is real), up to 10 s: a hang's bound on a loaded machine, not a timing. */
export async function waitUntil(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const ACTION_CTX = (): ActionContext => ({ cause: { kind: 'api' }, signal: new AbortController().signal });
