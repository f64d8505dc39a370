// A driver context that goes nowhere: for building a driver only to read what
// its constructor checks or which actions it offers (check-config, scenario
// checks). Constructors do no I/O, so nothing here is ever called for real;
// status, state and events are dropped and logs are silent.
import path from 'node:path';
import pino from 'pino';
import { connectWithoutHost } from '../transport/lifecycle.js';
import { realClock } from '../util/clock.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import type { DriverContext } from './contract.js';

export function inertDriverContext(id: string, dataDir: string): DriverContext {
  const silent = pino({ level: 'silent' });
  return {
    id,
    logger: silent,
    deviceNoise: new RateLimitedLog(silent),
    agentReady: Promise.resolve(),
    clock: realClock,
    dataDir: path.join(dataDir, 'devices', id),
    setStatus: () => undefined,
    connect: connectWithoutHost({ clock: realClock, setStatus: () => undefined }),
    reportError: () => undefined,
    setState: () => undefined,
    emit: () => undefined,
  };
}
