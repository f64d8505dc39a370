import path from 'node:path';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { builtinDrivers } from '../drivers/index.js';
import { TokenAuth } from './api/auth.js';
import { resolveTokenFiles } from './api/token-files.js';
import { registerCoreMethods } from './api/core-methods.js';
import { AgentMetrics, type BuildInfo } from './api/metrics.js';
import { AlertsFeature, SyncFeature } from './sync/index.js';
import { VideoFeature } from './video/index.js';
import { RpcRegistry } from './api/rpc.js';
import { warmUpBeforeReady } from './api/warm-up.js';
import { registerWs, wsErrorHandler } from './api/ws.js';
import { apiLimits, clientLimits } from './api/config.js';
import type { AgentContext, Feature, FeatureFactory } from './app-context.js';
import { ConfigError, type LoadedConfig, loadConfig } from './config/load.js';
import {
  type HealthSnapshot,
  healthSnapshot,
  liveChangeRefusals,
  type ReloadCause,
  type ReloadReport,
  reconfigure,
} from './config/reload.js';
import { type ConfigVersions, createConfigVersions, diskApplier } from './config/versions/index.js';
import { ConfigFileReloader } from './config/watch.js';
import { FeatureSlots } from './feature-slots.js';
import { RouteSlots } from './api/route-slots.js';
import { lineOf } from './config/locate.js';
import { listenFailure, parseListen, startRefusals } from './config/start-checks.js';
import { features as builtinFeatures } from './features.js';
import type { DriverDefinition } from './host/contract.js';
import { DeviceHost } from './host/host.js';
import { DriverRegistry } from './host/registry.js';
import { Bus, RoomEvents } from './state/bus.js';
import { DeviceStateStore } from './state/devices.js';
import { AuditLog } from './store/audit.js';
import { AuditRetention } from './store/audit-retention.js';
import { Store } from './store/db.js';
import { realClock, type Clock } from './util/clock.js';
import { AgentError } from './util/errors.js';
import { httpErrorHandler, httpFrameworkError, httpNotFound } from './util/http-errors.js';
import { createLogger, httpLogSerializers } from './util/logger.js';
import { RateLimitedLog } from './util/rate-limited-log.js';
import { VERSION } from './version.js';

export interface AgentOptions {
  configFile: string;
  logger?: Logger;
  clock?: Clock;
  /** Override `[agent] listen` (tests use 127.0.0.1:0). */
  listen?: string;
  /** Override `[agent] data_dir`. */
  dataDir?: string;
  features?: FeatureFactory[];
  /** Extra drivers beside the built-in ones (tests, site-specific plug-ins). */
  drivers?: DriverDefinition[];
  env?: NodeJS.ProcessEnv;
}

/**
 * The agent: core services boot in order and fail fast (config, store, API);
 * devices and features fail soft (status "error", retried) so one bad device
 * never keeps the room from starting.
 */
export class Agent {
  private running: LoadedConfig;
  readonly logger: Logger;
  readonly store: Store;
  /** Deletes audit rows past [agent] audit_max_age_days / audit_max_rows from a timer. */
  readonly auditRetention: AuditRetention;
  readonly http: FastifyInstance;
  readonly host: DeviceHost;
  readonly devices: DeviceStateStore;
  readonly rpc = new RpcRegistry();
  readonly bus = new Bus();
  readonly events = new RoomEvents();
  readonly drivers: DriverRegistry;
  readonly startedAt = new Date().toISOString();
  readonly ctx: AgentContext;
  readonly features: FeatureSlots;
  private readonly auth: TokenAuth;
  private readonly apiLimits: ReturnType<typeof apiLimits>;
  private readonly disabledDevices = new Set<string>();
  private readonly clock: Clock;
  /** Reloads in order: a second waits for the first. */
  private reloads: Promise<unknown> = Promise.resolve();
  private reloading = false;
  /** SIGHUP and the file watch (started with the agent). */
  readonly fileReloader: ConfigFileReloader;
  /** The config history and the one apply path (config.apply, rollback, SIGHUP, file watch). */
  readonly configVersions: ConfigVersions;
  /**
   * How a config read from disk (SIGHUP, file watch) is applied once it validated. config-versions
   * sets this to its apply path, so every running config is a stored version.
   */
  diskApplier: (text: string, next: LoadedConfig, cause: ReloadCause) => Promise<ReloadReport> = (_text, next, cause) =>
    this.reconfigure(next, cause);
  private ws: ReturnType<typeof registerWs> | null = null;
  private address = '';
  private stopping: Promise<void> | null = null;
  /** The start in progress (settled, never rejecting), so stop() can let it reach a step boundary. */
  private starting: Promise<unknown> | null = null;
  private stopRequested = false;
  private started = false;
  /** Resolved right after `room-agent ready` is logged: drivers defer work the API does not need to it. */
  private readonly readyGate = (() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  })();

  constructor(private readonly o: AgentOptions) {
    this.drivers = new DriverRegistry([...builtinDrivers, ...(o.drivers ?? [])]);
    this.running = loadConfig(o.configFile, this.drivers, o.env);
    // Every refusal after the schema, listed with file and line before anything is opened
    // (check-config runs the same checks).
    const refused = startRefusals(this.running, this.drivers);
    if (refused.length) throw new ConfigError(refused);
    const cfg = this.running.config;
    const clock = o.clock ?? realClock;
    this.clock = clock;
    this.logger = o.logger ?? createLogger(cfg.agent.log_level);
    const dataDir = path.resolve(path.dirname(this.running.file), o.dataDir ?? cfg.agent.data_dir);
    this.store = new Store(path.join(dataDir, 'room-agent.db'), { backgroundCheckpoint: true, logger: this.logger });
    const audit = new AuditLog(this.store, this.logger.child({ mod: 'audit' }));
    this.auditRetention = new AuditRetention({
      store: this.store,
      clock,
      logger: this.logger.child({ mod: 'audit' }),
      limits: () => ({
        maxAgeDays: this.running.config.agent.audit_max_age_days,
        maxRows: this.running.config.agent.audit_max_rows,
      }),
    });
    this.devices = new DeviceStateStore(this.bus, this.events, clock);
    this.host = new DeviceHost({
      devices: cfg.devices,
      registry: this.drivers,
      state: this.devices,
      events: this.events,
      audit,
      logger: this.logger,
      dataDir,
      clock,
      actionTimeoutMs: cfg.agent.action_timeout_ms,
      deviceLogLinesPerMin: cfg.agent.device_log_lines_per_min,
      deviceQueueMax: cfg.agent.device_queue_max,
      agentReady: this.readyGate.promise,
    });
    const auth = new TokenAuth(resolveTokenFiles(cfg.agent.tokens, path.dirname(this.running.file), this.logger));
    const httpLogger = this.logger.child({ mod: 'http' }, { level: 'warn', serializers: httpLogSerializers });
    this.http = Fastify({
      // Per-request logs stay off (warn level) so the API's hot path does not log;
      // requests are logged as method and path, never with their query (?token=).
      loggerInstance: httpLogger,
      bodyLimit: 1024 * 1024,
      // A client trickling its request a byte at a time must not hold a socket forever.
      requestTimeout: cfg.agent.http_request_timeout_ms,
      // Node checks that deadline this often (its default is every 30 s), and only
      // while the headers' own deadline is not longer than the request's.
      http: {
        connectionsCheckingInterval: Math.min(1000, cfg.agent.http_request_timeout_ms),
        headersTimeout: Math.min(60_000, cfg.agent.http_request_timeout_ms),
      },
      forceCloseConnections: true,
      // A path that is not valid percent-encoding: fastify's own answer quotes the whole URL, ?token= included.
      frameworkErrors: httpFrameworkError,
    }) as unknown as FastifyInstance;
    this.http.setErrorHandler(httpErrorHandler(new RateLimitedLog(httpLogger, { clock })));
    this.http.setNotFoundHandler(httpNotFound);
    const limits = apiLimits(cfg.api);
    this.apiLimits = limits;
    this.auth = auth;
    this.rpc.maxParamsDepth = limits.max_json_depth;
    void this.http.register(websocket, {
      options: { maxPayload: limits.max_frame_bytes },
      errorHandler: wsErrorHandler(this.logger.child({ mod: 'ws' })),
    });
    this.noteDisabled(cfg);
    const metrics = new AgentMetrics(
      this.devices,
      () => this.ws?.stats.clients ?? 0,
      () => this.buildInfo(),
      this.disabledDevices,
    );
    this.host.metrics = metrics;
    registerCoreMethods({ rpc: this.rpc, host: this.host, devices: this.devices, audit, info: () => this.info() });
    this.http.get('/healthz', async () => ({
      status: 'ok',
      version: VERSION,
      room_id: this.running.config.agent.room_id,
      uptime_s: Math.round(process.uptime()),
      devices: Object.fromEntries(this.devices.list().map((d) => [d.id, d.status.status])),
    }));
    this.http.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
    const agent = this;
    this.ctx = {
      get config() {
        return agent.running.config;
      },
      get loaded() {
        return agent.running;
      },
      version: VERSION,
      startedAt: this.startedAt,
      dataDir,
      logger: this.logger,
      clock,
      store: this.store,
      audit,
      bus: this.bus,
      events: this.events,
      devices: this.devices,
      host: this.host,
      drivers: this.drivers,
      rpc: this.rpc,
      auth,
      http: this.http,
      reloadConfigFile: () => this.fileReloader.reload('api'),
      feature: <T extends Feature>(name: string) => this.features.lookup(name) as T | undefined,
    };
    void this.http.register(async (scoped) => {
      this.ws = registerWs(scoped, { rpc: this.rpc, auth, bus: this.bus, logger: this.logger.child({ mod: 'ws' }), limits });
    });
    this.features = new FeatureSlots(this.ctx, new RouteSlots(this.http), this.logger);
    this.features.createAll(o.features ?? builtinFeatures, this.running);
    // Readings of the feature running now (a reload may have replaced the instance); the metrics of a
    // feature that was off at start appear after a restart of the agent.
    const running = <T>(type: abstract new (...args: never[]) => T) => {
      if (!this.features.list().some((f) => f instanceof type)) return undefined;
      return () => this.features.list().find((f): f is Feature & T => f instanceof type);
    };
    const sync = running(SyncFeature);
    const alerts = running(AlertsFeature);
    const video = running(VideoFeature);
    metrics.attachFeatures({
      outbox: sync && (() => sync()?.metricsReading() ?? { rows: 0, dropped: 0, connected: false }),
      disk: alerts && (() => alerts()?.diskReading() ?? null),
      recorderMeetings: video && (() => video()?.recordersInMeeting() ?? []),
      auditPrunedRows: () => this.auditRetention.prunedRows,
    });
    this.fileReloader = new ConfigFileReloader(this);
    // Every config that runs is a stored version: config.* methods, and SIGHUP / the file watch
    // apply through the same path (stored, health-gated; src/config/versions/).
    this.configVersions = createConfigVersions({
      store: this.store,
      audit,
      rpc: this.rpc,
      registry: this.drivers,
      env: o.env,
      logger: this.logger,
      clock,
      host: {
        get loaded() {
          return agent.running;
        },
        reconfigure: (next, cause) => this.reconfigure(next, cause),
        health: () => this.health(),
        liveChangeRefusals,
      },
      events: this.events,
      alerts: () => this.features.lookup('alerts') as AlertsFeature | undefined,
      onRollback: () => metrics.configRollbacks.inc(),
    });
    this.diskApplier = diskApplier(
      this.configVersions,
      (next, cause) => this.reconfigure(next, cause),
      () => this.running,
    );
  }

  /** The config the agent runs (replaced by a reload). */
  get loaded(): LoadedConfig {
    return this.running;
  }

  /** The environment `${ENV}` values come from. */
  get env(): NodeJS.ProcessEnv | undefined {
    return this.o.env;
  }

  /** A running feature by name. */
  feature<T extends Feature>(name: string): T | undefined {
    return this.features.lookup(name) as T | undefined;
  }

  /** Settles when the reloads queued so far are done. */
  async idle(): Promise<void> {
    await this.reloads;
  }

  private noteDisabled(cfg: LoadedConfig['config']): void {
    this.disabledDevices.clear();
    for (const [id, d] of Object.entries(cfg.devices)) if (d.enabled === false) this.disabledDevices.add(id);
  }

  /**
   * Applies a new (validated) config to the running agent, restarting only what changed
   * (src/config/reload.ts). Rejects with ConfigError, changing nothing, when a change needs a
   * restart of the agent; otherwise resolves with what restarted and what failed. Reloads run
   * one at a time.
   */
  reconfigure(next: LoadedConfig, cause: ReloadCause): Promise<ReloadReport> {
    const run = this.reloads.then(async () => {
      if (this.stopRequested || !this.started) {
        throw new AgentError('UNAVAILABLE', 'config not applied: the agent is not running (starting or stopping)');
      }
      this.reloading = true;
      try {
        const report = await reconfigure(
          {
            loaded: this.running,
            host: this.host,
            features: this.features,
            logger: this.logger,
            adopt: (n) => this.adopt(n),
          },
          next,
          cause,
        );
        this.bus.publish('config', { version: report.to_version, report });
        return report;
      } finally {
        this.reloading = false;
      }
    });
    this.reloads = run.catch(() => undefined);
    return run;
  }

  /** The new config becomes the running one; the keys read on each use take effect now. */
  private adopt(next: LoadedConfig): void {
    this.running = next;
    const cfg = next.config;
    this.host.actionTimeoutMs = cfg.agent.action_timeout_ms;
    this.host.deviceLogLinesPerMin = cfg.agent.device_log_lines_per_min;
    this.host.deviceQueueMax = cfg.agent.device_queue_max;
    this.auth.replace(resolveTokenFiles(cfg.agent.tokens, path.dirname(next.file), this.logger));
    const revoked = this.ws?.closeRevoked() ?? 0;
    if (revoked) this.logger.info({ connections: revoked }, 'closed WebSocket connections whose token left the config');
    Object.assign(this.apiLimits, apiLimits(cfg.api));
    this.rpc.maxParamsDepth = this.apiLimits.max_json_depth;
    this.noteDisabled(cfg);
    if (this.started) this.fileReloader.start();
  }

  /** What config-versions' health gate reads: API listening, each device's status, each feature's state. */
  health(): HealthSnapshot {
    return healthSnapshot({
      loaded: this.running,
      listening: this.address !== '' && !this.stopRequested && this.http.server.listening,
      devices: this.devices.list(),
      features: this.features.health(),
      reloading: this.reloading,
      now: this.clock.now(),
    });
  }

  info(): Record<string, unknown> {
    const a = this.running.config.agent;
    return {
      name: a.name ?? a.room_id,
      room_id: a.room_id,
      version: VERSION,
      started_at: this.startedAt,
      uptime_s: Math.round(process.uptime()),
      node: process.version,
      config_version: this.running.version,
      limits: clientLimits(this.apiLimits),
    };
  }

  /** Package, runtime and config version, as /metrics and the MQTT status report them. */
  buildInfo(): BuildInfo {
    return { version: VERSION, node: process.version, config_version: this.running.version };
  }

  /**
   * Listens, then starts devices and features. Resolves with the bound address. A stop() requested
   * meanwhile ends the start at the next step (rejecting with UNAVAILABLE) and then tears down.
   */
  start(): Promise<string> {
    const run = this.startSteps().then((address) => {
      // A config version whose health window a crash cut short is checked now (src/config/versions/).
      this.configVersions.afterStart();
      return address;
    });
    this.starting = run.catch(() => undefined);
    return run;
  }

  private abortIfStopping(): void {
    if (this.stopRequested) throw new AgentError('UNAVAILABLE', 'start abandoned: the agent is stopping');
  }

  private async startSteps(): Promise<string> {
    this.abortIfStopping();
    const listen = this.o.listen ?? this.running.config.agent.listen;
    const at = parseListen(listen);
    const listenIssue = (message: string) =>
      new ConfigError([
        { file: this.running.file, line: lineOf(this.running.lines, ['agent', 'listen']), key: 'agent.listen', message },
      ]);
    if ('error' in at) throw listenIssue(at.error);
    try {
      this.address = await this.http.listen({ host: at.host, port: at.port });
    } catch (e) {
      throw listenIssue(listenFailure(listen, e));
    }
    this.abortIfStopping();
    await this.host.start();
    await this.features.startAll(() => this.abortIfStopping());
    this.abortIfStopping();
    await warmUpBeforeReady(this.http.server, this.ctx.auth, this.apiLimits, this.logger);
    this.abortIfStopping();
    this.started = true;
    this.fileReloader.start();
    this.logger.info({ address: this.address, devices: this.host.ids().length }, 'room-agent ready');
    this.readyGate.resolve();
    this.auditRetention.start();
    return this.address;
  }

  get url(): string {
    return this.address;
  }

  /** Stops features, clients, HTTP, devices and the store; safe during start (waits for its current step). */
  stop(): Promise<void> {
    this.stopRequested = true;
    this.configVersions.stop();
    this.stopping ??= (async () => {
      await this.starting;
      this.fileReloader.stop();
      await this.reloads;
      await this.features.stopAll();
      this.ws?.closeAll();
      await this.http.close().catch(() => undefined);
      await this.host.stop();
      this.auditRetention.stop();
      await this.store.closeAsync();
      this.logger.flush?.();
    })();
    return this.stopping;
  }
}
