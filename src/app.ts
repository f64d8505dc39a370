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
import { registerWs, wsErrorHandler } from './api/ws.js';
import { apiLimits } from './api/config.js';
import type { AgentContext, Feature, FeatureFactory } from './app-context.js';
import { ConfigError, type LoadedConfig, loadConfig } from './config/load.js';
import { lineOf } from './config/locate.js';
import { parseListen, startRefusals } from './config/start-checks.js';
import { features as builtinFeatures } from './features.js';
import type { DriverDefinition } from './host/contract.js';
import { DeviceHost } from './host/host.js';
import { DriverRegistry } from './host/registry.js';
import { Bus, RoomEvents } from './state/bus.js';
import { DeviceStateStore } from './state/devices.js';
import { AuditLog } from './store/audit.js';
import { Store } from './store/db.js';
import { realClock, type Clock } from './util/clock.js';
import { AgentError, errorMessage } from './util/errors.js';
import { httpErrorHandler, httpNotFound } from './util/http-errors.js';
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
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly store: Store;
  readonly http: FastifyInstance;
  readonly host: DeviceHost;
  readonly devices: DeviceStateStore;
  readonly rpc = new RpcRegistry();
  readonly bus = new Bus();
  readonly events = new RoomEvents();
  readonly drivers: DriverRegistry;
  readonly startedAt = new Date().toISOString();
  readonly ctx: AgentContext;
  private readonly features: Feature[] = [];
  private ws: ReturnType<typeof registerWs> | null = null;
  private address = '';
  private stopping: Promise<void> | null = null;
  /** The start in progress (settled, never rejecting), so stop() can let it reach a step boundary. */
  private starting: Promise<unknown> | null = null;
  private stopRequested = false;

  constructor(private readonly o: AgentOptions) {
    this.drivers = new DriverRegistry([...builtinDrivers, ...(o.drivers ?? [])]);
    this.loaded = loadConfig(o.configFile, this.drivers, o.env);
    // Every refusal after the schema, listed with file and line before anything is opened
    // (check-config runs the same checks).
    const refused = startRefusals(this.loaded, this.drivers);
    if (refused.length) throw new ConfigError(refused);
    const cfg = this.loaded.config;
    const clock = o.clock ?? realClock;
    this.logger = o.logger ?? createLogger(cfg.agent.log_level);
    const dataDir = path.resolve(path.dirname(this.loaded.file), o.dataDir ?? cfg.agent.data_dir);
    this.store = new Store(path.join(dataDir, 'room-agent.db'), { backgroundCheckpoint: true, logger: this.logger });
    const audit = new AuditLog(this.store);
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
    });
    const auth = new TokenAuth(resolveTokenFiles(cfg.agent.tokens, path.dirname(this.loaded.file), this.logger));
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
    }) as unknown as FastifyInstance;
    this.http.setErrorHandler(httpErrorHandler(new RateLimitedLog(httpLogger, { clock })));
    this.http.setNotFoundHandler(httpNotFound);
    const limits = apiLimits(cfg.api);
    this.rpc.maxParamsDepth = limits.max_json_depth;
    void this.http.register(websocket, {
      options: { maxPayload: limits.max_frame_bytes },
      errorHandler: wsErrorHandler(this.logger.child({ mod: 'ws' })),
    });
    const byName = new Map<string, Feature>();
    const disabled = new Set(
      Object.entries(cfg.devices)
        .filter(([, d]) => d.enabled === false)
        .map(([id]) => id),
    );
    const metrics = new AgentMetrics(this.devices, () => this.ws?.stats.clients ?? 0, this.buildInfo(), disabled);
    this.host.metrics = metrics;
    registerCoreMethods({ rpc: this.rpc, host: this.host, devices: this.devices, audit, info: () => this.info() });
    this.http.get('/healthz', async () => ({
      status: 'ok',
      version: VERSION,
      room_id: cfg.agent.room_id,
      uptime_s: Math.round(process.uptime()),
      devices: Object.fromEntries(this.devices.list().map((d) => [d.id, d.status.status])),
    }));
    this.http.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
    this.ctx = {
      config: cfg,
      loaded: this.loaded,
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
      feature: <T extends Feature>(name: string) => byName.get(name) as T | undefined,
    };
    void this.http.register(async (scoped) => {
      this.ws = registerWs(scoped, { rpc: this.rpc, auth, bus: this.bus, logger: this.logger.child({ mod: 'ws' }), limits });
    });
    for (const make of o.features ?? builtinFeatures) {
      const f = make(this.ctx);
      if (f) {
        this.features.push(f);
        byName.set(f.name, f);
      }
    }
    const sync = this.features.find((f) => f instanceof SyncFeature);
    const alerts = this.features.find((f) => f instanceof AlertsFeature);
    const video = this.features.find((f) => f instanceof VideoFeature);
    metrics.attachFeatures({
      outbox: sync && (() => sync.metricsReading()),
      disk: alerts && (() => alerts.diskReading()),
      recorderMeetings: video && (() => video.recordersInMeeting()),
    });
  }

  info(): Record<string, unknown> {
    const a = this.loaded.config.agent;
    return {
      name: a.name ?? a.room_id,
      room_id: a.room_id,
      version: VERSION,
      started_at: this.startedAt,
      uptime_s: Math.round(process.uptime()),
      node: process.version,
      config_version: this.loaded.version,
    };
  }

  /** Package, runtime and config version, as /metrics and the MQTT status report them. */
  buildInfo(): BuildInfo {
    return { version: VERSION, node: process.version, config_version: this.loaded.version };
  }

  /**
   * Listens, then starts devices and features. Resolves with the bound address. A stop() requested
   * meanwhile ends the start at the next step (rejecting with UNAVAILABLE) and then tears down.
   */
  start(): Promise<string> {
    const run = this.startSteps();
    this.starting = run.catch(() => undefined);
    return run;
  }

  private abortIfStopping(): void {
    if (this.stopRequested) throw new AgentError('UNAVAILABLE', 'start abandoned: the agent is stopping');
  }

  private async startSteps(): Promise<string> {
    this.abortIfStopping();
    const listen = this.o.listen ?? this.loaded.config.agent.listen;
    const at = parseListen(listen);
    const listenIssue = (message: string) =>
      new ConfigError([
        { file: this.loaded.file, line: lineOf(this.loaded.lines, ['agent', 'listen']), key: 'agent.listen', message },
      ]);
    if ('error' in at) throw listenIssue(at.error);
    try {
      this.address = await this.http.listen({ host: at.host, port: at.port });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'EADDRINUSE'
          ? 'the address is in use (another agent running?)'
          : code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
              ? 'no such address on this machine'
              : errorMessage(e);
      throw listenIssue(`cannot listen on ${listen}: ${why}`);
    }
    this.abortIfStopping();
    await this.host.start();
    for (const f of this.features) {
      this.abortIfStopping();
      try {
        await f.start();
      } catch (e) {
        this.logger.error({ feature: f.name, err: errorMessage(e) }, 'feature failed to start');
        throw e;
      }
    }
    this.abortIfStopping();
    this.logger.info({ address: this.address, devices: this.host.ids().length }, 'room-agent ready');
    return this.address;
  }

  get url(): string {
    return this.address;
  }

  /** Stops features, clients, HTTP, devices and the store; safe during start (waits for its current step). */
  stop(): Promise<void> {
    this.stopRequested = true;
    this.stopping ??= (async () => {
      await this.starting;
      for (const f of [...this.features].reverse()) {
        await f.stop().catch((e) => this.logger.warn({ feature: f.name, err: errorMessage(e) }, 'feature stop failed'));
      }
      this.ws?.closeAll();
      await this.http.close().catch(() => undefined);
      await this.host.stop();
      await this.store.closeAsync();
      this.logger.flush?.();
    })();
    return this.stopping;
  }
}
