import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { type DeviceConfig, driverConfig } from '../config/schema.js';
import type { RoomEvents } from '../state/bus.js';
import type { DeviceStateStore } from '../state/devices.js';
import type { AuditLog } from '../store/audit.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { AgentError, DeviceError, errorMessage } from '../util/errors.js';
import { iso } from '../util/iso.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import { Backoff } from '../transport/backoff.js';
import { DeviceConnection, type LifecycleLimits } from '../transport/lifecycle.js';
import { type ActionMetrics, ActionRun, type ActionRunHost } from './action-run.js';
import type { ActionDefinition, Cause, DeviceInstance, DriverContext, DriverDefinition, RunningSimulator } from './contract.js';
import type { DriverRegistry } from './registry.js';
import { type SecretScrubber, secretScrubber } from './secret-scrub.js';
import { compileParams, type ParamsValidator } from './validate.js';

export interface HostOptions {
  devices: Record<string, DeviceConfig>;
  registry: DriverRegistry;
  state: DeviceStateStore;
  events: RoomEvents;
  audit: AuditLog;
  logger: Logger;
  dataDir: string;
  clock?: Clock;
  /** Default action timeout (ms); a driver action may set its own. */
  actionTimeoutMs?: number;
  /** Garbage lines a minute each device may log per kind ([agent] device_log_lines_per_min; default 5). */
  deviceLogLinesPerMin?: number;
  /** Commands that may wait per device queue ([agent] device_queue_max; a device's queue_max wins). */
  deviceQueueMax?: number;
  /** Resolves when the agent is ready (DriverContext.agentReady); default: already. */
  agentReady?: Promise<void>;
}

interface Managed {
  id: string;
  config: DeviceConfig;
  driver: DriverDefinition;
  instance: DeviceInstance | null;
  simulator: RunningSimulator | null;
  /** Per action: its params validator working on a copy, and the one working in place (owned params). */
  validators: Map<string, { copying: ParamsValidator; inPlace: ParamsValidator }>;
  restartTimer: TimerHandle | null;
  backoff: Backoff;
  /** The device's links under the lifecycle (`ctx.connect`), told about action timeouts and stopped with the instance. */
  connections: DeviceConnection[];
  /** Cause of the action in flight, so device reports during it are attributed. */
  activeCause: { readonly cause: Cause; readonly until: number } | null;
  /** The device's rate limit for garbage it sends; created with the first context, kept across restarts. */
  deviceNoise: RateLimitedLog | null;
  /** Hides the device's secret config values in what its driver reports and logs; null when it has none. */
  scrubber: SecretScrubber | null;
  stopped: boolean;
}

export type { ActionMetrics } from './action-run.js';

/**
 * Owns device lifecycle: starts every device concurrently, restarts crashed
 * drivers with backoff, validates and times out actions, writes the audit log.
 * One device's failure never blocks another or the API.
 */
export class DeviceHost {
  private readonly managed = new Map<string, Managed>();
  private readonly clock: Clock;
  metrics: ActionMetrics | null = null;
  /** What an action run reads of this host when it ends (src/host/action-run.ts). */
  private readonly runHost: ActionRunHost;

  constructor(private readonly o: HostOptions) {
    this.clock = o.clock ?? realClock;
    const host = this;
    this.runHost = {
      clock: this.clock,
      audit: o.audit,
      events: o.events,
      get metrics() {
        return host.metrics;
      },
    };
    for (const [id, config] of Object.entries(o.devices)) this.manage(id, config);
  }

  /** Registers a device (state record, lifecycle slot) without starting it. */
  private manage(id: string, config: DeviceConfig): Managed {
    const driver = this.o.registry.get(config.driver);
    if (!driver) throw new Error(`device ${id}: unknown driver "${config.driver}"`);
    this.o.state.add({
      id,
      name: config.name ?? id,
      driver: driver.name,
      kind: driver.kind,
      simulated: config.simulated === true,
    });
    const m: Managed = {
      id,
      config,
      driver,
      instance: null,
      simulator: null,
      validators: new Map(),
      restartTimer: null,
      // Companion-like crash restarts: 1 s, doubling to 60 s.
      backoff: new Backoff({ initialMs: 1000, maxMs: 60_000 }),
      connections: [],
      activeCause: null,
      deviceNoise: null,
      // Built once per config (boot, reload): one regex of the device's secrets.
      scrubber: secretScrubber(id, config),
      stopped: false,
    };
    this.managed.set(id, m);
    return m;
  }

  /** Starts all enabled devices concurrently; resolves when each has tried once. */
  async start(): Promise<void> {
    await Promise.allSettled([...this.managed.values()].map((m) => this.startManaged(m)));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.managed.values()].map((m) => this.retire(m)));
  }

  /** Applies a new [agent] device_log_lines_per_min to every device, running or not. */
  set deviceLogLinesPerMin(n: number) {
    this.o.deviceLogLinesPerMin = n;
    for (const m of this.managed.values()) m.deviceNoise?.setPerWindow(n);
  }

  /** [agent] device_queue_max: a config reload changes it for devices started from then on. */
  set deviceQueueMax(n: number) {
    this.o.deviceQueueMax = n;
  }

  /** Default action timeout ([agent] action_timeout_ms); a config reload changes it for the next action. */
  set actionTimeoutMs(ms: number) {
    this.o.actionTimeoutMs = ms;
  }

  /** The config a device runs with (as loaded, `${ENV}` resolved). */
  configOf(id: string): DeviceConfig | undefined {
    return this.managed.get(id)?.config;
  }

  /** Config reload: a device new in the config is started like at boot. */
  async addDevice(id: string, config: DeviceConfig): Promise<void> {
    if (this.managed.has(id)) throw new Error(`device ${id} exists already`);
    await this.startManaged(this.manage(id, config));
  }

  /**
   * Config reload: the device is stopped (driver, connections, simulator) and started again with
   * its new config: a new driver instance with fresh state, as if the agent had just started.
   */
  async replaceDevice(id: string, config: DeviceConfig): Promise<void> {
    const old = this.managed.get(id);
    if (old) await this.retire(old);
    await this.startManaged(this.manage(id, config));
  }

  /** Config reload: the device is stopped and forgotten; its last status says why. */
  async removeDevice(id: string): Promise<void> {
    const m = this.managed.get(id);
    if (!m) return;
    await this.retire(m);
    this.managed.delete(id);
    this.o.state.remove(id, 'removed from the config');
  }

  private async startManaged(m: Managed): Promise<void> {
    if (m.config.enabled === false) {
      this.o.state.setStatus(m.id, 'offline', 'disabled in config');
      return;
    }
    await this.startDevice(m, false);
  }

  /**
   * Stops a device for good: no restart; its instance, connections and simulator stopped. A start
   * still under way notices `stopped` and reports nothing (the id may already run a new instance).
   */
  private async retire(m: Managed): Promise<void> {
    m.stopped = true;
    this.clock.clearTimeout(m.restartTimer);
    m.restartTimer = null;
    await this.stopInstance(m);
  }

  ids(): string[] {
    return [...this.managed.keys()];
  }

  driverOf(id: string): DriverDefinition | undefined {
    return this.managed.get(id)?.driver;
  }

  actions(id: string): Record<string, ActionDefinition> {
    const m = this.require(id);
    return m.instance?.actions ?? {};
  }

  /**
   * Runs a device action: validate, check online, time out, audit. Never throws: rejects.
   * `ownParams`: the caller hands `params` over (a request parsed for this call, e.g. the API's
   * device.action): they are validated and given their defaults in place instead of in a copy
   * (a scenario's params, used run after run, are copied).
   */
  invoke(id: string, action: string, params: unknown, cause: Cause, signal?: AbortSignal, ownParams = false): Promise<unknown> {
    // The checks run synchronously; the action then runs in one object (src/host/action-run.ts).
    let run: ActionRun;
    try {
      run = this.checkAction(id, action, params, cause, ownParams);
    } catch (e) {
      return Promise.reject(e);
    }
    return run.start(signal);
  }

  /** Validates an action call (the device and action exist, the params fit, the device is online): its run. */
  private checkAction(id: string, action: string, params: unknown, cause: Cause, ownParams: boolean): ActionRun {
    const m = this.require(id);
    const actions = m.instance?.actions;
    // The action name comes from clients: only the driver's own names count, never Object.prototype's.
    const def = actions && Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!def) {
      const known = Object.keys(m.instance?.actions ?? {}).join(', ') || 'none (device not started)';
      throw new AgentError('ACTION_NOT_FOUND', `device ${id} has no action "${action}"; actions: ${known}`);
    }
    const validators = this.validators(m, action, def);
    const p = (ownParams ? validators.inPlace : validators.copying)(params ?? {});
    const status = this.o.state.get(id)?.status;
    if (!def.allowOffline && status?.status !== 'online') {
      throw new DeviceError(
        `device ${id} is ${status?.status ?? 'unknown'}${status?.message ? ` (${status.message})` : ''}; action "${action}" was not sent`,
        'DEVICE_OFFLINE',
      );
    }
    const timeoutMs = def.timeoutMs ?? m.config.action_timeout_ms ?? this.o.actionTimeoutMs ?? 10_000;
    return new ActionRun(this.runHost, m, def, action, p, cause, timeoutMs);
  }

  private validators(m: Managed, action: string, def: ActionDefinition): { copying: ParamsValidator; inPlace: ParamsValidator } {
    let v = m.validators.get(action);
    if (!v) {
      const label = `${m.id}.${action}`;
      v = { copying: compileParams(label, def.params), inPlace: compileParams(label, def.params, { inPlace: true }) };
      m.validators.set(action, v);
    }
    return v;
  }

  private require(id: string): Managed {
    const m = this.managed.get(id);
    if (!m) {
      throw new AgentError('DEVICE_NOT_FOUND', `no device "${id}"; devices: ${[...this.managed.keys()].join(', ') || 'none'}`);
    }
    return m;
  }

  private makeContext(m: Managed): DriverContext {
    const plainLogger = this.o.logger.child({ device: m.id, driver: m.driver.name });
    const scrub = m.scrubber;
    const logger = scrub ? scrub.logger(plainLogger) : plainLogger;
    const state = this.o.state;
    const dir = path.join(this.o.dataDir, 'devices', m.id);
    m.deviceNoise ??= new RateLimitedLog(logger, { clock: this.clock, perWindow: this.o.deviceLogLinesPerMin ?? 5 });
    return {
      id: m.id,
      logger,
      deviceNoise: m.deviceNoise,
      queueMax: m.config.queue_max ?? this.o.deviceQueueMax,
      clock: this.clock,
      agentReady: this.o.agentReady ?? Promise.resolve(),
      get dataDir() {
        fs.mkdirSync(dir, { recursive: true });
        return dir;
      },
      connect: (link, hooks) => {
        const c = new DeviceConnection({
          link,
          hooks,
          clock: this.clock,
          logger,
          limits: lifecycleLimits(m.config),
          report: (status, rawMessage, { restart }) => {
            if (m.stopped || !m.connections.includes(c)) return;
            const message = scrubText(m, rawMessage);
            const prev = state.get(m.id)?.status.status;
            if (status !== prev) logger.info({ status, message }, `device ${status}`);
            state.setStatus(m.id, status, message, { restart });
          },
        });
        m.connections.push(c);
        return c;
      },
      setStatus: (status, rawMessage) => {
        if (m.stopped) return;
        const message = scrubText(m, rawMessage);
        const prev = state.get(m.id)?.status.status;
        // A link that comes back online after being lost counts as a restart.
        const restart = status === 'online' && prev !== undefined && prev !== 'online' && prev !== 'connecting';
        if (status !== prev) logger.info({ status, message }, `device ${status}`);
        state.setStatus(m.id, status, message, { restart });
      },
      reportError: (rawMessage) => {
        const message = scrubText(m, rawMessage);
        logger.warn({ err: message }, 'device error');
        state.reportError(m.id, message);
      },
      setState: (patch, cause) => {
        const active = m.activeCause && m.activeCause.until >= this.clock.now() ? m.activeCause.cause : null;
        state.setState(m.id, patch, cause ?? active ?? { kind: 'device' });
      },
      emit: (event) => {
        this.o.events.emit({
          type: event.type,
          at: iso(this.clock.now()),
          data: { device: m.id, ...event.data },
        });
      },
    };
  }

  private async startDevice(m: Managed, isRestart: boolean): Promise<void> {
    m.restartTimer = null;
    if (m.stopped) return;
    const ctx = this.makeContext(m);
    try {
      let config = driverConfig(m.config);
      if (m.config.simulated) {
        if (!m.driver.simulate) throw new AgentError('INVALID_PARAMS', `driver ${m.driver.name} has no simulator`);
        m.simulator ??= await m.driver.simulate(config as never, { logger: ctx.logger.child({ simulator: true }), id: m.id });
        config = { ...config, ...m.simulator.endpoint };
      }
      if (m.stopped) {
        // Retired while its simulator started: nothing else will stop that simulator.
        await this.stopInstance(m);
        return;
      }
      // A driver restart after a crash counts once, here; a link coming back counts in setStatus.
      this.o.state.setStatus(m.id, 'connecting', isRestart ? 'restarting driver' : 'starting', { restart: isRestart });
      m.instance = m.driver.create(config as never, ctx);
      await m.instance.start();
      if (m.stopped) await this.stopInstance(m); // retired during start: retire() may have missed the instance
      m.backoff.reset();
    } catch (e) {
      if (m.stopped) return;
      const msg = scrubText(m, errorMessage(e));
      const badConfig = e instanceof AgentError && e.code === 'INVALID_PARAMS';
      this.o.state.setStatus(m.id, badConfig ? 'bad_config' : 'error', msg);
      ctx.logger.error({ err: msg }, 'driver failed to start');
      await this.stopInstance(m, false);
      if (!badConfig) this.scheduleRestart(m);
    }
  }

  /** A driver that crashed (threw from start) is restarted with backoff. */
  private scheduleRestart(m: Managed): void {
    if (m.stopped || m.restartTimer) return;
    const delay = m.backoff.next();
    m.restartTimer = this.clock.setTimeout(() => void this.startDevice(m, true), delay);
  }

  private async stopInstance(m: Managed, withSimulator = true): Promise<void> {
    const inst = m.instance;
    m.instance = null;
    if (inst) {
      try {
        await inst.stop();
      } catch (e) {
        const err = scrubText(m, errorMessage(e));
        this.o.logger.warn({ device: m.id, err }, 'driver stop failed');
      }
    }
    // A driver that forgot to stop its connection must not leave a socket or timer behind.
    const conns = m.connections.splice(0);
    await Promise.allSettled(conns.map((c) => c.stop()));
    if (withSimulator && m.simulator) {
      const sim = m.simulator;
      m.simulator = null;
      await sim.stop().catch(() => undefined);
    }
  }
}

/** The lifecycle limits from a device's common config keys (defaults in LIFECYCLE_DEFAULTS). */
function lifecycleLimits(c: DeviceConfig): LifecycleLimits {
  return {
    reconnectMinMs: c.reconnect_min_ms,
    reconnectMaxMs: c.reconnect_max_ms,
    stableMs: c.online_stable_ms,
    timeoutsBeforeReconnect: c.timeouts_before_reconnect,
    handshakeTimeoutMs: c.handshake_timeout_ms,
  };
}

/** `text` with the device's secrets hidden (src/host/secret-scrub.ts); as is when it has none. */
function scrubText(m: Managed, text: string): string {
  return m.scrubber ? m.scrubber.text(text) : text;
}
