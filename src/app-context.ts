import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TokenAuth } from './api/auth.js';
import type { RpcRegistry } from './api/rpc.js';
import type { LoadedConfig } from './config/load.js';
import type { DiskReloadOutcome } from './config/watch.js';
import type { Config } from './config/schema.js';
import type { DeviceHost } from './host/host.js';
import type { DriverRegistry } from './host/registry.js';
import type { Bus, RoomEvents } from './state/bus.js';
import type { DeviceStateStore } from './state/devices.js';
import type { AuditLog } from './store/audit.js';
import type { Store } from './store/db.js';
import type { Clock } from './util/clock.js';

/** What a feature module (tracking, director, sync, …) receives from the agent. */
export interface AgentContext {
  readonly config: Config;
  readonly loaded: LoadedConfig;
  readonly version: string;
  readonly startedAt: string;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: Store;
  readonly audit: AuditLog;
  /** Live notifications by topic (WS `event`, MQTT). */
  readonly bus: Bus;
  /** Durable room events (history for the central service). */
  readonly events: RoomEvents;
  readonly devices: DeviceStateStore;
  readonly host: DeviceHost;
  readonly drivers: DriverRegistry;
  readonly rpc: RpcRegistry;
  readonly auth: TokenAuth;
  /** Register HTTP routes here during `create` (before the server listens). */
  readonly http: FastifyInstance;
  /**
   * Re-reads the config file and applies it like SIGHUP (validated, stored as a version, only what
   * changed restarts); never rejects: the outcome says applied, unchanged, refused (issues) or failed.
   */
  reloadConfigFile(): Promise<DiskReloadOutcome>;
  /** Other features by name, available once all were created (e.g. director → scenarios). */
  feature<T extends Feature>(name: string): T | undefined;
}

/**
 * A feature: constructed with the context (constructors only assign and
 * register methods/routes), started after the devices, stopped before them.
 */
export interface Feature {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Optional: a config reload replaced `previous` (stopped by now) by this instance, before start().
   * A feature that keeps state worth keeping (active alerts) takes it over here.
   */
  takeOver?(previous: Feature): void;
}

/** Returns null when the feature is not configured (e.g. no `[mqtt]` → no sync). */
export type FeatureFactory = (ctx: AgentContext) => Feature | null;
