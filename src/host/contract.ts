// The driver contract: everything a driver may depend on from the host.
// Drivers import only from this file, src/transport and src/util — never from
// the host's internals — so the host can change without touching drivers.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { ConnectionHooks, DeviceConnection } from '../transport/lifecycle.js';
import type { Link } from '../transport/link.js';
import type { Clock } from '../util/clock.js';
import type { RateLimitedLog } from '../util/rate-limited-log.js';

/** One status vocabulary for every device (Companion-style, grouped for UIs). */
export const DEVICE_STATUSES = ['connecting', 'online', 'offline', 'error', 'bad_config', 'auth_failure'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export interface DeviceStatusInfo {
  status: DeviceStatus;
  /** Human message, e.g. "connected to 10.0.0.5:52381" or "no reply for 2 s". */
  message: string;
  /** ISO time the status last changed. */
  since: string;
  /** How often the device link was re-established or the driver restarted. */
  restarts: number;
  last_error: { message: string; at: string } | null;
}

/** Who or what caused an action or a state change. */
export interface Cause {
  kind: 'api' | 'scenario' | 'director' | 'device' | 'system' | 'mqtt' | 'calendar' | 'trigger';
  /** Token name for API clients, scenario name, rule name, … */
  name?: string;
  /** Free text: e.g. "microphone 4 (seat 4)" or the WS client's address. */
  detail?: string;
}

export type DeviceKind = 'camera' | 'matrix' | 'mixer' | 'audio' | 'microphone' | 'recorder' | 'calendar' | 'other';

export interface ActionContext {
  cause: Cause;
  /**
   * Aborted when the host's action timeout fires or the caller cancels. The host makes it when a
   * driver first reads it: an action that never waits on anything cancellable need not.
   */
  signal: AbortSignal;
  /**
   * Whether `signal` is aborted, without making it (the host's context has it; a context built
   * elsewhere, e.g. in a test, may not: see actionAborted).
   */
  readonly aborted?: boolean;
}

/** Whether an action was aborted (timeout, caller), asked without making its signal when the context allows. */
export function actionAborted(ctx: ActionContext): boolean {
  return ctx.aborted ?? ctx.signal.aborted;
}

export interface ActionDefinition<P extends TSchema = TSchema> {
  description: string;
  /** TypeBox (JSON Schema) for the params; the host validates before `run`. */
  params: P;
  /** Overrides the host's default action timeout (ms). */
  timeoutMs?: number;
  /** True for read-only actions that may run while the device is offline. */
  allowOffline?: boolean;
  /** True when the action changes nothing (a viewer may call it). */
  readOnly?: boolean;
  run(params: Static<P>, ctx: ActionContext): Promise<unknown>;
}

/** Helper so action params are typed from their schema. */
export function defineAction<P extends TSchema>(def: ActionDefinition<P>): ActionDefinition<P> {
  return def;
}

/** A typed event a device emits (e.g. `mic`), fanned out to subscribers. */
export interface DeviceEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface DriverContext {
  /** The device id from `[devices.<id>]`. */
  readonly id: string;
  readonly logger: Logger;
  /**
   * The device's rate-limited log for what it sends that cannot be used (garbage bytes, lines
   * outside the protocol, dropped frames): each key writes at most 5 lines a minute, and the next
   * line that gets through carries `suppressed`, the count left out. The data is still skipped.
   * One per device, kept across driver restarts, so a device spewing garbage cannot flood the log.
   */
  readonly deviceNoise: RateLimitedLog;
  /**
   * How many commands may wait in the device's command queue (src/transport/queue.ts `maxPending`):
   * the device's `queue_max`, else `[agent] device_queue_max`. Unset: the queue's default (64).
   */
  readonly queueMax?: number;
  readonly clock: Clock;
  /** Where a driver may keep files (`<data_dir>/devices/<id>`), created on demand. */
  readonly dataDir: string;
  /**
   * Resolves once the agent is ready (API serving, every device's start returned, `room-agent ready`
   * logged; at once for a device added later by a config reload). Work that serving the API does
   * not need, such as a calendar's first read and parse, waits for it so it does not delay ready.
   * Never await it inside `start()`: the agent is ready only after every start has returned.
   */
  readonly agentReady: Promise<void>;
  /**
   * Puts a link under the host's device lifecycle (connect, handshake, probe, backoff; see
   * src/transport/lifecycle.ts): from then on the lifecycle sets this device's status. The driver
   * calls `start()` / `stop()` on the result from its own `start` / `stop`.
   */
  connect(link: Link, hooks: ConnectionHooks): DeviceConnection;
  /** Report driver status for a device that is not under `connect` (e.g. a local process). */
  setStatus(status: DeviceStatus, message: string): void;
  /** Record an error (kept as `last_error`) without changing status. */
  reportError(message: string): void;
  /** Merge values the device reported into the published state. */
  setState(patch: Record<string, unknown>, cause?: Cause): void;
  /** Emit a device event (e.g. a microphone turning on). */
  emit(event: DeviceEvent): void;
}

export interface DeviceInstance {
  /** Open connections. Must not throw for a device that is simply unreachable:
   * report `offline` and let the transport reconnect. Throw only for bad config. */
  start(): Promise<void>;
  /** Close everything; idempotent. */
  stop(): Promise<void>;
  readonly actions: Record<string, ActionDefinition>;
}

/** A simulator the host can start in-process for `simulated = true`. */
export interface RunningSimulator {
  /** Config keys to override so the driver talks to the simulator (host, port, path…). */
  readonly endpoint: Record<string, unknown>;
  stop(): Promise<void>;
}

export interface SimulatorContext {
  logger: Logger;
  id: string;
  /** Where to listen; default 127.0.0.1 and an ephemeral port (0). `room-agent simulate`
   * passes the integrator's choice (e.g. 0.0.0.0:52381) for commissioning. */
  host?: string;
  port?: number;
  /** Serial path for serial simulators (a binding-mock port is created under this path). */
  path?: string;
}

export interface DriverDefinition<C extends TObject = TObject> {
  name: string;
  kind: DeviceKind;
  description: string;
  /** Driver-specific keys of `[devices.<id>]` (common keys are added by the host). */
  config: C;
  create(config: Static<C>, ctx: DriverContext): DeviceInstance;
  /** Starts a protocol-faithful simulator on loopback for `simulated = true`. */
  simulate?(config: Static<C>, ctx: SimulatorContext): Promise<RunningSimulator>;
}

export function defineDriver<C extends TObject>(def: DriverDefinition<C>): DriverDefinition<C> {
  return def;
}
