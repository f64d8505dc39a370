// Test helpers for driver tests (one copy for the matrix, mixer and audio
// drivers): a DriverContext that records status, state, errors and log lines
// and can wait for them, test teardown, running an action, and a fast-check
// helper that re-chunks a transcript at random points.
import { connectWithoutHost, type DeviceConnection } from '../../src/transport/lifecycle.js';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, expect, vi } from 'vitest';
import type { Cause, DeviceEvent, DeviceInstance, DeviceStatus, DriverContext } from '../../src/host/contract.js';
import { type Clock, realClock } from '../../src/util/clock.js';
import { RateLimitedLog } from '../../src/util/rate-limited-log.js';

/** Teardown steps pushed during a test run after it, last pushed first (call once, at the top of a test file). */
export function cleanupAfterEach(): (() => Promise<unknown> | unknown)[] {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

const TEST_CAUSE = { kind: 'api' as const, name: 'test' };

/** Runs an action directly on a driver instance, as an API caller named "test". */
export function runAction(dev: DeviceInstance, action: string, params: Record<string, unknown> = {}): Promise<unknown> {
  return dev.actions[action].run(params, { cause: TEST_CAUSE, signal: new AbortController().signal });
}

/** A pino line as the recording context keeps it. */
export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A DriverContext that records what the driver reports, for driver tests without a host. */
export interface RecordingContext extends DriverContext {
  statuses: { status: DeviceStatus; message: string }[];
  state: Record<string, unknown>;
  /** Every patch (a copy, as it was when set) with the cause it carried. */
  patches: { patch: Record<string, unknown>; cause?: Cause }[];
  /** `reportError` messages. */
  errors: string[];
  events: DeviceEvent[];
  /** The connections the driver put under the lifecycle (`connect`). */
  connections: DeviceConnection[];
  /** Parsed pino lines (level, msg, …). */
  logs: LogLine[];
  readonly status: DeviceStatus | undefined;
  /** Resolves when `pred` holds, checked now and after every change (real time, 10 s by default: a hang's bound, not a timing). */
  until(pred: (c: RecordingContext) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

export function recordingContext(id = 'dev', clock: Clock = realClock): RecordingContext {
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const w of [...waiters]) w();
  };
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        logs.push(JSON.parse(line));
        changed();
      },
    },
  );
  const rec: RecordingContext = {
    id,
    logger,
    // The host keeps one per device; the recording context keeps one per context.
    deviceNoise: new RateLimitedLog(logger, { clock }),
    agentReady: Promise.resolve(),
    clock,
    // The drivers tested with this keep no files.
    dataDir: '/nonexistent',
    statuses: [],
    state: {},
    patches: [],
    errors: [],
    events: [],
    logs,
    get status() {
      return rec.statuses.at(-1)?.status;
    },
    setStatus(status, message) {
      rec.statuses.push({ status, message });
      changed();
    },
    connect: (link, hooks) => {
      const c = connectWithoutHost(rec)(link, hooks);
      rec.connections.push(c);
      return c;
    },
    connections: [],
    reportError(message) {
      rec.errors.push(message);
      changed();
    },
    setState(patch, cause) {
      Object.assign(rec.state, structuredClone(patch));
      rec.patches.push({ patch: structuredClone(patch), cause });
      changed();
    },
    emit(event) {
      rec.events.push(event);
      changed();
    },
    until(pred, what, timeoutMs = 10_000) {
      if (pred(rec)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(rec)) return;
          waiters.delete(check);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify(rec.statuses.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
  return rec;
}

/** Property: `parse` gives `whole` (its answer for the unsplit text) however `text` is split into chunks. */
export function expectSameWhenRechunked<T>(text: string, parse: (chunks: string[]) => T, whole = parse([text])): void {
  fc.assert(
    fc.property(fc.array(fc.nat(text.length), { maxLength: 40 }), (cuts) => {
      expect(parse(rechunk(text, cuts))).toEqual(whole);
    }),
    { numRuns: 300 },
  );
}

/** Splits `text` at the given cut points (fast-check supplies them). */
export function rechunk(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(text.slice(prev, p));
    prev = p;
  }
  out.push(text.slice(prev));
  return out;
}

export const waitStatus = (rec: RecordingContext, status: string) =>
  vi.waitFor(() => expect(rec.status).toBe(status), { timeout: 8000 });

/** A matrix driver's `routes` / `audio_routes` state (output → input, null = none). */
export const routes = (rec: RecordingContext) => rec.state.routes as Record<string, number | null>;
export const audioRoutes = (rec: RecordingContext) => rec.state.audio_routes as Record<string, number | null>;

/**
 * Gives `rec` a device-noise log whose clock can be moved on (the rest of the context keeps real
 * time), so a test can end the rate-limit window and see the count of suppressed lines.
 */
export function movableNoiseWindow(rec: RecordingContext): { moveOn(ms: number): void } {
  let skew = 0;
  const clock: Clock = {
    now: () => realClock.now() + skew,
    setTimeout: (fn, ms) => realClock.setTimeout(fn, ms),
    clearTimeout: (h) => realClock.clearTimeout(h),
  };
  Object.assign(rec, { deviceNoise: new RateLimitedLog(rec.logger, { clock }) });
  return {
    moveOn(ms) {
      skew += ms;
    },
  };
}

/** The warn lines whose message matches `pattern`. */
export const warnLines = (rec: RecordingContext, pattern: RegExp) =>
  rec.logs.filter((l) => l.level === 40 && pattern.test(l.msg));
