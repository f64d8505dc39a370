// Test helpers: a recording DriverContext and a driver+simulator pair on loopback.
import { connectWithoutHost } from '../../src/transport/lifecycle.js';
import { Value } from '@sinclair/typebox/value';
import pino, { type Logger } from 'pino';
import type { DeviceStatus, DriverContext } from '../../src/host/contract.js';
import { realClock } from '../../src/util/clock.js';
import { RateLimitedLog } from '../../src/util/rate-limited-log.js';
import { ViscaConfigSchema, type ViscaConfig } from './config.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { ViscaCamera } from './driver.js';
import { ViscaSimulator, type ViscaSimulatorOptions } from './simulator.js';
import { until } from '../../test/support/wait.js';

export { until };

export interface RecordingContext extends DriverContext {
  statuses: { status: DeviceStatus; message: string }[];
  state: Record<string, unknown>;
  stateLog: Record<string, unknown>[];
  /** What the driver logged at info and above (parsed pino lines). */
  logs: { level: number; msg: string; [k: string]: unknown }[];
  readonly status: DeviceStatus | null;
}

export function recordingContext(id = 'cam'): RecordingContext {
  const logs: RecordingContext['logs'] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
  const ctx: RecordingContext = {
    logs,
    id,
    logger,
    deviceNoise: new RateLimitedLog(logger),
    agentReady: Promise.resolve(),
    clock: realClock,
    dataDir: '/nonexistent',
    statuses: [],
    state: {},
    stateLog: [],
    get status() {
      return ctx.statuses.at(-1)?.status ?? null;
    },
    setStatus(status, message) {
      ctx.statuses.push({ status, message });
    },
    connect: (link, hooks) => connectWithoutHost(ctx)(link, hooks),
    reportError() {},
    setState(patch) {
      Object.assign(ctx.state, patch);
      ctx.stateLog.push(patch);
    },
    emit() {},
  };
  return ctx;
}

export function viscaConfig(partial: Partial<ViscaConfig>): ViscaConfig {
  return Value.Default(ViscaConfigSchema, structuredClone(partial)) as ViscaConfig;
}

/** Polls until `pred` holds (no timing assertions: only a generous upper bound). */
export interface Pair {
  sim: ViscaSimulator;
  cam: ViscaCamera;
  ctx: RecordingContext;
  /** Runs an action the way the host would (no validation, no online check). */
  act(name: string, params?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a simulator and a driver pointed at it, and waits until the driver is online. */
export async function startPair(
  simOpts: ViscaSimulatorOptions,
  cfg: Partial<ViscaConfig>,
  waitOnline = true,
  logger?: Logger,
): Promise<Pair> {
  const sim = await new ViscaSimulator(simOpts).start();
  if (sim.binding && simOpts.path) simulatedSerialPorts.set(simOpts.path, sim.binding);
  const ctx = recordingContext();
  if (logger) Object.assign(ctx, { logger, deviceNoise: new RateLimitedLog(logger) });
  const cam = new ViscaCamera(viscaConfig({ framing: simOpts.framing, ...cfg, ...sim.endpoint }), ctx);
  await cam.start();
  if (waitOnline) await until(() => ctx.status === 'online', 'driver online');
  return {
    sim,
    cam,
    ctx,
    act: (name, params = {}) =>
      cam.actions[name].run(params as never, { cause: { kind: 'api' }, signal: new AbortController().signal }),
    async stop() {
      await cam.stop();
      await sim.stop();
      if (simOpts.path) simulatedSerialPorts.delete(simOpts.path);
    },
  };
}
