// Test helper shared by the mixer and audio driver tests: a DriverContext that
// records statuses, state and log lines, and a way to wait for them.
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Cause, DeviceEvent, DeviceStatus, DriverContext } from '../../src/host/contract.js';
import { realClock, type Clock } from '../../src/util/clock.js';

export interface RecordingContext extends DriverContext {
  statuses: { status: DeviceStatus; message: string }[];
  state: Record<string, unknown>;
  /** Every patch with the cause it carried. */
  patches: { patch: Record<string, unknown>; cause?: Cause }[];
  errors: string[];
  events: DeviceEvent[];
  /** Parsed pino lines (level, msg, …). */
  logs: Record<string, unknown>[];
  readonly status: DeviceStatus | undefined;
  /** Resolves when `pred` holds, checked after every change. */
  until(pred: (c: RecordingContext) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export function recordingContext(id = 'dev', clock: Clock = realClock): RecordingContext {
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      changed();
      cb();
    },
  });
  const ctx: RecordingContext = {
    id,
    logger: pino({ level: 'debug' }, sink),
    clock,
    dataDir: '/nonexistent',
    statuses: [],
    state: {},
    patches: [],
    errors: [],
    events: [],
    logs,
    get status() {
      return ctx.statuses.at(-1)?.status;
    },
    setStatus(status, message) {
      ctx.statuses.push({ status, message });
      changed();
    },
    reportError(message) {
      ctx.errors.push(message);
      changed();
    },
    setState(patch, cause) {
      Object.assign(ctx.state, patch);
      ctx.patches.push({ patch, cause });
      changed();
    },
    emit(event) {
      ctx.events.push(event);
      changed();
    },
    until(pred, what, timeoutMs = 5000) {
      if (pred(ctx)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(ctx)) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify(ctx.statuses.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
  return ctx;
}
