// What versioned config needs from the running agent: its config, a reload
// that restarts only what changed, and a health snapshot (src/config/reload.ts,
// issue 21 item 2). Declared here by shape so the versions module depends on
// the contract, not on the Agent class.
import type { ConfigIssue, LoadedConfig } from '../load.js';

export interface ReloadCauseLike {
  from: 'file' | 'sighup' | 'ws' | 'mqtt' | 'rollback' | 'api';
  version?: string;
  who?: string;
  why?: string;
}

export interface ReloadReportLike {
  ok: boolean;
  failed: { part: string; error: string }[];
}

export interface HealthSnapshotLike {
  api: boolean;
  /** Device id → status (`online`, `offline`, `connecting`, `error`, …). */
  devices: Record<string, string>;
  features: Record<string, string>;
  reloading: boolean;
}

export interface ConfigHost {
  /** The config running now. */
  readonly loaded: LoadedConfig;
  /** Restarts what changed; rejects (ConfigError) when the change needs an agent restart. */
  reconfigure(next: LoadedConfig, cause: ReloadCauseLike): Promise<ReloadReportLike>;
  health(): HealthSnapshotLike;
  /** Keys that cannot change while the agent runs (listen address, data folder, …). */
  liveChangeRefusals(running: LoadedConfig, next: LoadedConfig): ConfigIssue[];
}
