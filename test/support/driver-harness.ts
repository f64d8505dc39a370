// Test helpers for driver tests (one copy for extron-sis, kramer-p3000 and
// videohub): a DriverContext that records status, state and log lines, and a
// fast-check helper that re-chunks a transcript at random points.
import os from 'node:os';
import pino from 'pino';
import type { Cause, DeviceEvent, DeviceStatus, DriverContext } from '../../src/host/contract.js';
import { realClock } from '../../src/util/clock.js';

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
