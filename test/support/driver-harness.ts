// Test helpers for driver tests (one copy for extron-sis, kramer-p3000 and
// videohub): a DriverContext that records status, state and log lines, test
// teardown, running an action, and a fast-check helper that re-chunks a
// transcript at random points.
import os from 'node:os';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, expect, vi } from 'vitest';
import type { Cause, DeviceEvent, DeviceInstance, DeviceStatus, DriverContext } from '../../src/host/contract.js';
import { realClock } from '../../src/util/clock.js';

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

export interface RecordingContext {
  ctx: DriverContext;
  statuses: { status: DeviceStatus; message: string }[];
  state: Record<string, unknown>;
  stateLog: { patch: Record<string, unknown>; cause?: Cause }[];
  events: DeviceEvent[];
  logs: { level: number; msg: string; [k: string]: unknown }[];
  readonly status: DeviceStatus | undefined;
}

export function recordingContext(id = 'matrix'): RecordingContext {
  const logs: RecordingContext['logs'] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const rec: RecordingContext = {
    statuses: [],
    state: {},
    stateLog: [],
    events: [],
    logs,
    get status() {
      return rec.statuses.at(-1)?.status;
    },
    ctx: {
      id,
      logger,
      clock: realClock,
      dataDir: os.tmpdir(),
      setStatus: (status, message) => void rec.statuses.push({ status, message }),
      reportError: (message) => void logs.push({ level: 40, msg: message }),
      setState: (patch, cause) => {
        Object.assign(rec.state, structuredClone(patch));
        rec.stateLog.push({ patch: structuredClone(patch), cause });
      },
      emit: (e) => void rec.events.push(e),
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
