// Hot reload: applies a new config to the running agent, restarting only what changed.
//   - a device whose section changed (resolved ${ENV} values included) is stopped and started
//     with its new config; a new device starts, a removed one stops; the others keep their
//     connections and state;
//   - a feature restarts when a config key it read changed (src/feature-slots.ts records what
//     each feature reads), or when a feature it holds restarts;
//   - [agent] name, action_timeout_ms, tokens and [api] limits but max_frame_bytes apply live;
//   - what the running process cannot change (the listen address, data_dir, room_id, log_level,
//     the HTTP server's limits, HTTP routes) is refused: nothing changes, and the refusal names
//     file, line and key and says to restart the agent (docs/config.md "Reloading").
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { FeatureHealth, FeatureSlots } from '../feature-slots.js';
import type { DeviceHost } from '../host/host.js';
import { iso } from '../util/iso.js';
import { ConfigError, type ConfigIssue, type LoadedConfig } from './load.js';
import { lineOf } from './locate.js';

/** Who asked for the reload and why (config-versions passes its version and the token name). */
export interface ReloadCause {
  from: 'file' | 'sighup' | 'ws' | 'mqtt' | 'rollback' | 'api';
  version?: string;
  who?: string;
  why?: string;
}

export interface ReloadReport {
  /** False when anything is in `failed`. */
  ok: boolean;
  from_version: string;
  to_version: string;
  cause: ReloadCause;
  /** The effective config (after ${ENV}) is the same: nothing was restarted. */
  unchanged: boolean;
  devices: { restarted: string[]; added: string[]; removed: string[]; kept: string[] };
  features: { restarted: string[]; started: string[]; stopped: string[]; kept: string[] };
  /** part: "device:<id>" or "feature:<name>". */
  failed: { part: string; error: string }[];
  /** Keys applied without restarting anything (e.g. "agent.tokens"). */
  live: string[];
}

export interface HealthSnapshot {
  at: string;
  config_version: string;
  /** The HTTP/WS server is listening (and the agent is not stopping). */
  api: boolean;
  /** Device id → status ("online", "connecting", "offline", "error", …; a disabled device is "offline"). */
  devices: Record<string, string>;
  features: Record<string, FeatureHealth>;
  /** A reload is being applied. */
  reloading: boolean;
}

/** Keys the running process cannot change: each needs a restart of the agent. */
const RESTART_KEYS: Record<string, string> = {
  'agent.listen': 'the HTTP/WS server keeps its address while it runs',
  'agent.data_dir': 'the database and device files stay open where they are',
  'agent.room_id': 'the room id names MQTT topics, events and metrics of the running agent',
  'agent.log_level': 'loggers take their level when they are created',
  'agent.http_request_timeout_ms': 'the HTTP server takes its timeouts when it is created',
  'api.max_frame_bytes': 'the WebSocket server takes its frame limit when it is created',
  'tracking.max_body_bytes': 'HTTP routes take their body limit when they are registered',
  'video.max_body_bytes': 'HTTP routes take their body limit when they are registered',
  'identity.max_body_bytes': 'HTTP routes take their body limit when they are registered',
};

/** Keys applied in place: the agent reads them again on the next use. */
const LIVE_KEYS = new Set([
  'agent.name',
  'agent.action_timeout_ms',
  'agent.device_log_lines_per_min',
  // Read when a device (re)starts: devices started after the reload get the new queue limit.
  'agent.device_queue_max',
  'agent.tokens',
  'agent.watch_config',
  'agent.reload_debounce_ms',
  // Read by config versions at each apply (src/config/versions/).
  'agent.config_health_window_s',
  'agent.config_history_max',
  // Read by the audit log's retention at each batch (src/store/audit-retention.ts).
  'agent.audit_max_age_days',
  'agent.audit_max_rows',
  'api',
]);

/** How deep keys are told apart: `[agent] <key>`, `[devices.<id>] <key>`; other sections as a whole. */
const KEY_DEPTH: Record<string, number> = { agent: 1, devices: 2 };

/**
 * The config keys that differ (values compared after ${ENV}): a section by name; `agent.<key>`;
 * `devices.<id>.<key>`; for a device added or removed also `devices.<id>`; and `<path>.*` when the
 * set of keys under a path changed (src/feature-slots.ts records reads the same way).
 */
export function changedKeys(running: LoadedConfig, next: LoadedConfig): Set<string> {
  const out = new Set<string>();
  const isTable = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  /** Every key under `path` (a table that appeared or went), `levels` deep. */
  const all = (path: string, table: Record<string, unknown>, levels: number) => {
    out.add(`${path}.*`);
    for (const [k, v] of Object.entries(table)) {
      out.add(`${path}.${k}`);
      if (levels > 1 && isTable(v)) all(`${path}.${k}`, v, levels - 1);
    }
  };
  /** The differing keys under `path`, told apart `levels` deep. */
  const diff = (path: string, a: unknown, b: unknown, levels: number) => {
    if (isDeepStrictEqual(a, b)) return;
    if (levels === 0 || !isTable(a) || !isTable(b)) {
      out.add(path);
      if (levels > 0 && isTable(a)) all(path, a, levels);
      if (levels > 0 && isTable(b)) all(path, b, levels);
      return;
    }
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(`${path}.${k}`, a[k], b[k], levels - 1);
    if (!isDeepStrictEqual(Object.keys(a).sort(), Object.keys(b).sort())) out.add(`${path}.*`);
  };
  const a = running.config as unknown as Record<string, unknown>;
  const b = next.config as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diff(k, a[k], b[k], KEY_DEPTH[k] ?? 0);
  return out;
}

/**
 * What a running agent refuses to change (the file is fine; the process cannot take it live):
 * file, line and key of the new config, and why a restart is needed. config-versions checks this
 * before it writes a file; reconfigure() checks it again, with the features' HTTP routes.
 */
export function liveChangeRefusals(running: LoadedConfig, next: LoadedConfig): ConfigIssue[] {
  const changed = changedKeys(running, next);
  const out: ConfigIssue[] = [];
  const valueAt = (c: LoadedConfig, key: string) =>
    key
      .split('.')
      .reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), c.config);
  for (const [key, why] of Object.entries(RESTART_KEYS)) {
    const [section] = key.split('.');
    // A section that appears or goes is not a change of its key: its feature starts or stops (and the
    // feature's HTTP routes are checked when it is rebuilt).
    const inBoth = valueAt(running, section) !== undefined && valueAt(next, section) !== undefined;
    const differs =
      section === 'agent'
        ? changed.has(key)
        : changed.has(section) && inBoth && !isDeepStrictEqual(valueAt(running, key), valueAt(next, key));
    if (!differs) continue;
    out.push({ file: next.file, line: lineOf(next.lines, key.split('.')), key, message: notLive(why) });
  }
  return out;
}

function notLive(why: string): string {
  return `cannot change while the agent runs (${why}); restart the agent to apply it (systemctl restart room-agent)`;
}

/** What reconfigure() works on: the agent's parts (src/app.ts). */
export interface ReloadTarget {
  readonly loaded: LoadedConfig;
  readonly host: DeviceHost;
  readonly features: FeatureSlots;
  readonly logger: Logger;
  /** Takes the new config as the running one and applies the live keys. */
  adopt(next: LoadedConfig, changed: ReadonlySet<string>): void;
}

/** Throws ConfigError (nothing changed) when the new config cannot be applied live. */
export async function reconfigure(target: ReloadTarget, next: LoadedConfig, cause: ReloadCause): Promise<ReloadReport> {
  const running = target.loaded;
  const changed = changedKeys(running, next);
  const report: ReloadReport = {
    ok: true,
    from_version: running.version,
    to_version: next.version,
    cause,
    unchanged: changed.size === 0,
    devices: { restarted: [], added: [], removed: [], kept: [] },
    features: { restarted: [], started: [], stopped: [], kept: [] },
    failed: [],
    live: [],
  };
  const refused = liveChangeRefusals(running, next);
  if (refused.length) throw new ConfigError(refused);
  const plan = await target.features.plan(next, changed);
  if (plan.refusals.length) {
    target.features.discard(plan);
    throw new ConfigError(
      plan.refusals.map((r) => {
        const section = sectionOf(r.feature);
        return { file: next.file, line: lineOf(next.lines, [section]), key: section, message: `[${section}] ${r.message}` };
      }),
    );
  }
  const before = running.config.devices;
  const after = next.config.devices;
  const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
  const log = target.logger.child({ mod: 'reload' });
  log.info({ from: running.version, to: next.version, cause: cause.from, changed: [...changed] }, 'applying config');

  // Features that go or restart stop first (the director stops before its cameras restart) …
  await target.features.stopPlanned(plan);
  // … then the devices that changed, all at once (each one's failure is its own) …
  const deviceSteps = [...ids].map(async (id) => {
    const was = before[id];
    const now = after[id];
    try {
      if (was && now && isDeepStrictEqual(was, now)) return void report.devices.kept.push(id);
      if (was && now) {
        await target.host.replaceDevice(id, now);
        report.devices.restarted.push(id);
      } else if (now) {
        await target.host.addDevice(id, now);
        report.devices.added.push(id);
      } else {
        await target.host.removeDevice(id);
        report.devices.removed.push(id);
      }
    } catch (e) {
      report.failed.push({ part: `device:${id}`, error: e instanceof Error ? e.message : String(e) });
    }
  });
  await Promise.all(deviceSteps);
  // … the running config becomes the new one (live keys applied), and features start on it.
  target.adopt(next, changed);
  report.live = [...changed].filter((k) => LIVE_KEYS.has(k) || LIVE_KEYS.has(k.split('.')[0]));
  const features = await target.features.startPlanned(plan, next);
  report.features = { restarted: features.restarted, started: features.started, stopped: features.stopped, kept: features.kept };
  report.failed.push(...features.failed);
  for (const list of [report.devices.restarted, report.devices.added, report.devices.removed, report.devices.kept]) list.sort();
  report.ok = report.failed.length === 0;
  log.info(
    {
      to: next.version,
      devices: report.devices,
      features: { restarted: report.features.restarted, started: report.features.started, stopped: report.features.stopped },
      failed: report.failed,
    },
    report.ok ? 'config applied' : 'config applied with failures',
  );
  return report;
}

/** The config section a feature is configured by (feature names match their sections, but for a few). */
function sectionOf(feature: string): string {
  return feature === 'sync' ? 'mqtt' : feature;
}

export function healthSnapshot(parts: {
  loaded: LoadedConfig;
  listening: boolean;
  devices: { id: string; status: { status: string } }[];
  features: Record<string, FeatureHealth>;
  reloading: boolean;
  now: number;
}): HealthSnapshot {
  return {
    at: iso(parts.now),
    config_version: parts.loaded.version,
    api: parts.listening,
    devices: Object.fromEntries(parts.devices.map((d) => [d.id, d.status.status])),
    features: parts.features,
    reloading: parts.reloading,
  };
}
