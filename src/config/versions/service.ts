// Versioned config: the one path by which a config becomes the running one
// (config.apply / config.rollback over WS and MQTT, SIGHUP and the file watch
// of hot reload), the history it leaves, and the health gate that rolls a bad
// version back by itself. docs/config.md "Versions" describes the behaviour.
//
// One apply at a time. Its steps: check the text exactly like check-config →
// store the row durably → write the file atomically → reload what changed →
// watch health for [agent] config_health_window_s → keep it, or write the
// previous text back, reload it, raise an alert and count the rollback.
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { AlertSink } from '../../sync/alerts.js';
import type { DriverRegistry } from '../../host/registry.js';
import type { RoomEvents } from '../../state/bus.js';
import type { AuditLog } from '../../store/audit.js';
import type { Store } from '../../store/db.js';
import type { Clock } from '../../util/clock.js';
import { AgentError, errorMessage } from '../../util/errors.js';
import { runExtraChecks } from '../extra-checks.js';
import { startRefusals } from '../start-checks.js';
import { ConfigError, type ConfigIssue, configVersion, formatIssue, type LoadedConfig, parseConfig } from '../load.js';
import { removeStaleTempFiles, writeFileAtomic } from './atomic-write.js';
import { apiAuditRow, rollbackAuditRow } from './audit.js';
import { devicesToCheck, healthProblems } from './gate.js';
import type { ConfigHost, ReloadReportLike } from './host.js';
import { placeholderIssues, redactText, restoreRedacted } from './redact.js';
import { type ConfigAction, type ConfigSource, ConfigVersionStore, type VersionRow } from './store.js';

export interface ApplyRequest {
  /** The new file text, before ${ENV} substitution; may hold config.get's redaction placeholders. */
  toml: string;
  /** The version the change is based on; when given and not the running one, the apply is refused (CONFLICT). */
  base_version?: string;
  why: string;
  /** Token name, or "file" / "sighup" for local changes. */
  who: string;
  from: ConfigSource;
  /** false when the text came from the file itself (file watch, SIGHUP). Default true. */
  writeFile?: boolean;
  action?: ConfigAction;
  /** Resolve only once the health gate decided (default: once the reload is done). */
  wait?: boolean;
  /** Where an API request came from, for the audit log. */
  remote?: string;
}

export interface ApplyResult {
  id: number | null;
  version: string;
  previous_version: string;
  /** unchanged: the text is the running one (nothing done); checking: in its health window; running / rolled_back: decided. */
  outcome: 'unchanged' | 'checking' | 'running' | 'rolled_back';
  /** What the health gate found when it rolled the version back. */
  problems?: string[];
  health_window_s?: number;
  reload?: ReloadReportLike;
}

export interface ConfigVersionsOptions {
  store: Store;
  audit: AuditLog;
  registry: DriverRegistry;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  clock: Clock;
  host: ConfigHost;
  events: RoomEvents;
  /** The alerts feature when it runs. */
  alerts: () => AlertSink | undefined;
  /** Counts an automatic rollback (room_agent_config_rollbacks_total). */
  onRollback: () => void;
}

const API_SOURCES: ReadonlySet<ConfigSource> = new Set(['ws', 'mqtt']);

export class ConfigVersions {
  readonly history: ConfigVersionStore;
  private readonly log: Logger;
  private current: VersionRow;
  /** Held from the start of an apply until its health gate decided. */
  private lock: Promise<unknown> = Promise.resolve();
  private checking: { version: string; until: string } | null = null;
  /** A version whose health window a stop cut short, checked again after start. */
  private resume: { row: VersionRow; prev: VersionRow } | null = null;
  private stopped = false;

  constructor(private readonly o: ConfigVersionsOptions) {
    this.log = o.logger.child({ mod: 'config' });
    this.history = new ConfigVersionStore(o.store, () => new Date(o.clock.now()).toISOString());
    this.current = this.recordStart();
  }

  get file(): string {
    return this.o.host.loaded.file;
  }

  /** The running version's row. */
  running(): VersionRow {
    return this.current;
  }

  /**
   * The file's text at start becomes a version unless it is the one already running. A version the
   * agent stopped (crash, power cut) inside its health window is checked again once the agent has
   * started (afterStart), against the devices it had to bring back.
   */
  private recordStart(): VersionRow {
    const { loaded } = this.o.host;
    const stale = removeStaleTempFiles(loaded.file);
    if (stale.length) this.log.warn({ files: stale }, 'removed temporary config files left by an interrupted write');
    const cut = this.history.latest();
    this.history.closeOpenRows('the agent stopped before this apply and its health check finished');
    const prev = cut?.base_version ? this.history.byVersion(cut.base_version) : undefined;
    if (cut && (cut.outcome === 'applying' || cut.outcome === 'checking') && cut.version === loaded.version && prev) {
      this.history.setOutcome(cut.id, 'checking', 'the agent stopped inside the health window; checked again after start');
      for (const r of this.history.list({ limit: 20 })) {
        if (r.outcome === 'running') this.history.setOutcome(r.id, 'replaced');
      }
      this.resume = { row: cut, prev };
      const windowMs = loaded.config.agent.config_health_window_s * 1000;
      this.checking = { version: cut.version, until: new Date(this.o.clock.now() + windowMs).toISOString() };
      this.log.warn(
        { version: cut.version },
        "the agent stopped inside this config version's health window; checking it again after start",
      );
      return { ...cut, outcome: 'checking' };
    }
    const latest = this.history.latest();
    if (latest && latest.version === loaded.version && latest.outcome === 'running') return latest;
    const previous = this.history.list({ limit: 20 }).filter((r) => r.outcome === 'running');
    for (const r of previous) this.history.setOutcome(r.id, 'replaced', 'the file changed while the agent was stopped');
    return this.history.insert({
      text: loaded.text,
      who: 'file',
      why: `read from ${loaded.file} at start`,
      from: 'file',
      action: 'start',
      base_version: latest?.version ?? null,
      outcome: 'running',
    });
  }

  /**
   * check-config's verdict on a text (issues point into the running file's name), plus live-change
   * refusals. `asStart`, for a file read from disk: only what `start` refuses (a device config its
   * driver refuses leaves that device in error, as at start), and config.get's placeholders are
   * refused rather than filled in (the file would not hold the version that runs).
   */
  check(text: string, asStart = false): { loaded: LoadedConfig | null; issues: ConfigIssue[]; restart_needed: ConfigIssue[] } {
    // Placeholders are filled from the running config for API clients; a file must hold real values.
    const placeholders = asStart ? placeholderIssues(text, this.file) : [];
    if (placeholders.length) return { loaded: null, issues: placeholders, restart_needed: [] };
    const restored = asStart ? { text } : restoreRedacted(text, this.current.text, this.file);
    if ('issues' in restored) return { loaded: null, issues: restored.issues, restart_needed: [] };
    let loaded: LoadedConfig;
    try {
      loaded = parseConfig(restored.text, this.file, this.o.registry, this.o.env);
    } catch (e) {
      if (e instanceof ConfigError) return { loaded: null, issues: e.issues, restart_needed: [] };
      throw e;
    }
    const issues = asStart ? startRefusals(loaded, this.o.registry) : runExtraChecks(loaded, this.o.registry);
    const restart_needed = this.o.host.liveChangeRefusals(this.o.host.loaded, loaded);
    return { loaded, issues, restart_needed };
  }

  /** The running text (or an older version's) with literal secrets replaced by placeholders. */
  redacted(version?: string): VersionRow & { text: string } {
    const row = version === undefined ? this.current : this.history.byVersion(version);
    if (!row) throw new AgentError('NOT_FOUND', `no config version ${version} in the history (config.history lists them)`);
    return { ...row, text: redactText(row.text) };
  }

  /** Called once the agent serves: runs the health gate a restart interrupted (see recordStart). */
  afterStart(): void {
    const r = this.resume;
    this.resume = null;
    if (!r || this.current.id !== r.row.id) return;
    const windowMs = this.o.host.loaded.config.agent.config_health_window_s * 1000;
    this.checking = { version: r.row.version, until: new Date(this.o.clock.now() + windowMs).toISOString() };
    const gate = this.watchHealth(r.row, r.prev, r.row.must_online ?? [], windowMs).finally(() => {
      this.checking = null;
      this.prune();
    });
    this.lock = this.lock.then(() => gate).catch(() => undefined);
  }

  /** Applies a text; see ApplyRequest. Refusals are AgentErrors with the reason (and `issues`). */
  async apply(req: ApplyRequest): Promise<ApplyResult> {
    const started = this.o.clock.now();
    try {
      const r = await this.enqueue(req);
      if (API_SOURCES.has(req.from)) await this.audit(req, started, r, null);
      return r;
    } catch (e) {
      if (API_SOURCES.has(req.from)) await this.audit(req, started, null, e);
      throw e;
    }
  }

  /** Makes an older version the running one again (through the same apply path and health gate). */
  rollback(version: string, req: Omit<ApplyRequest, 'toml' | 'action'>): Promise<ApplyResult> {
    const row = this.history.byVersion(version);
    if (!row) {
      return Promise.reject(
        new AgentError('NOT_FOUND', `no config version ${version} in the history (config.history lists them)`),
      );
    }
    return this.apply({ ...req, toml: row.text, action: 'rollback' });
  }

  /** Stops waiting in a health window (the agent is stopping); the row stays `checking` → `interrupted` at next start. */
  stop(): void {
    this.stopped = true;
  }

  private enqueue(req: ApplyRequest): Promise<ApplyResult> {
    if (this.checking && API_SOURCES.has(req.from) && configVersion(req.toml) !== this.current.version) {
      const c = this.checking;
      return Promise.reject(
        new AgentError(
          'UNAVAILABLE',
          `version ${c.version} is in its health check until ${c.until}; apply again after it (config.history shows how it went)`,
        ),
      );
    }
    const run = this.lock.then(() => this.applyNow(req));
    this.lock = run.then(
      (r) => r.gate,
      () => undefined,
    );
    return run.then(async (r) => {
      if (!req.wait || !r.gate) return r.result;
      return r.gate;
    });
  }

  private async applyNow(req: ApplyRequest): Promise<{ result: ApplyResult; gate: Promise<ApplyResult> | null }> {
    const prev = this.current;
    if (req.base_version !== undefined && req.base_version !== prev.version) {
      throw new AgentError(
        'CONFLICT',
        `the config changed since you read it: running is ${prev.version}, your base_version is ${req.base_version}; read config.get again and re-apply your change`,
        { running_version: prev.version },
      );
    }
    if (req.writeFile === false && this.readFile() !== req.toml) {
      // Read from the file before an apply or rollback waiting ahead of it rewrote that file: stale.
      this.log.info({ from: req.from }, 'config read from the file was replaced meanwhile; not applied');
      return { result: { id: null, version: prev.version, previous_version: prev.version, outcome: 'unchanged' }, gate: null };
    }
    const checked = this.check(req.toml, req.from === 'file' || req.from === 'sighup');
    if (!checked.loaded || checked.issues.length || checked.restart_needed.length) {
      const all = [...checked.issues, ...checked.restart_needed];
      const lines = all.map(formatIssue);
      throw new AgentError('INVALID_PARAMS', `config refused, nothing was changed:\n${lines.join('\n')}`, {
        issues: all,
        errors: lines,
      });
    }
    const next = checked.loaded;
    const base = { id: null, previous_version: prev.version };
    if (next.version === prev.version) return { result: { ...base, version: prev.version, outcome: 'unchanged' }, gate: null };
    const mustBeOnline = devicesToCheck(this.o.host.health(), next.config);
    const row = this.history.insert({
      text: next.text,
      who: req.who,
      why: req.why,
      from: req.from,
      action: req.action ?? 'apply',
      base_version: prev.version,
      outcome: 'applying',
      must_online: mustBeOnline,
    });
    if (req.writeFile !== false) {
      try {
        writeFileAtomic(this.file, next.text);
      } catch (e) {
        this.history.setOutcome(row.id, 'failed', `cannot write ${this.file}: ${errorMessage(e)}`);
        throw new AgentError('UNAVAILABLE', `cannot write ${this.file}: ${errorMessage(e)}; the running config stays`);
      }
    }
    let reload: ReloadReportLike;
    try {
      reload = await this.o.host.reconfigure(next, {
        from: req.from === 'health' ? 'rollback' : req.from,
        version: next.version,
        who: req.who,
        why: req.why,
      });
    } catch (e) {
      const why = e instanceof ConfigError ? e.issues.map(formatIssue).join('; ') : errorMessage(e);
      this.history.setOutcome(row.id, 'failed', why);
      if (req.writeFile !== false) writeFileAtomic(this.file, prev.text);
      throw new AgentError('INVALID_PARAMS', `config refused by the reload, nothing was changed: ${why}`);
    }
    this.history.setOutcome(prev.id, 'replaced');
    this.history.setOutcome(row.id, 'checking');
    this.current = { ...row, outcome: 'checking' };
    const windowMs = next.config.agent.config_health_window_s * 1000;
    this.checking = { version: row.version, until: new Date(this.o.clock.now() + windowMs).toISOString() };
    this.log.info({ version: row.version, from: req.from, who: req.who }, 'config applied; health check running');
    const gate = this.watchHealth(row, prev, mustBeOnline, windowMs).finally(() => {
      this.checking = null;
      this.prune();
    });
    const result: ApplyResult = {
      ...base,
      id: row.id,
      version: row.version,
      outcome: 'checking',
      health_window_s: windowMs / 1000,
      reload,
    };
    return { result, gate: gate.then((g) => ({ ...result, ...g })) };
  }

  private async watchHealth(
    row: VersionRow,
    prev: VersionRow,
    mustBeOnline: string[],
    windowMs: number,
  ): Promise<Pick<ApplyResult, 'outcome' | 'problems'>> {
    const deadline = this.o.clock.now() + windowMs;
    let problems = healthProblems(this.o.host.health(), mustBeOnline);
    while (problems.length && this.o.clock.now() < deadline && !this.stopped) {
      await this.sleep(Math.min(250, deadline - this.o.clock.now()));
      problems = healthProblems(this.o.host.health(), mustBeOnline);
    }
    // The agent is stopping: undecided; the row stays `checking` and is `interrupted` at the next start.
    if (this.stopped && problems.length) return { outcome: 'checking', problems };
    if (!problems.length) {
      this.history.setOutcome(row.id, 'running');
      this.current = { ...row, outcome: 'running' };
      this.o.alerts()?.clear('config_rolled_back', 'config', `config ${row.version} passed its health check`, {
        version: row.version,
      });
      this.log.info({ version: row.version }, 'config passed its health check');
      return { outcome: 'running' };
    }
    await this.rollBack(row, prev, problems);
    return { outcome: 'rolled_back', problems };
  }

  private async rollBack(failed: VersionRow, prev: VersionRow, problems: string[]): Promise<void> {
    const detail = problems.join('; ');
    const started = this.o.clock.now();
    this.history.setOutcome(failed.id, 'rolled_back', detail);
    const why = `version ${failed.version} failed its health check: ${detail}`;
    const back = this.history.insert({
      text: prev.text,
      who: 'health-gate',
      why,
      from: 'health',
      action: 'auto_rollback',
      base_version: failed.version,
      outcome: 'applying',
    });
    let error: string | null = null;
    try {
      writeFileAtomic(this.file, prev.text);
      const loaded = parseConfig(prev.text, this.file, this.o.registry, this.o.env);
      await this.o.host.reconfigure(loaded, { from: 'rollback', version: prev.version, who: 'health-gate', why });
      this.history.setOutcome(back.id, 'running');
      this.current = { ...back, outcome: 'running' };
    } catch (e) {
      error = errorMessage(e);
      this.history.setOutcome(back.id, 'failed', error);
    }
    this.o.onRollback();
    const message = error
      ? `config ${failed.version} failed its health check (${detail}) and going back to ${prev.version} failed too: ${error}`
      : `config ${failed.version} rolled back to ${prev.version}: ${detail}`;
    this.log.error({ failed: failed.version, restored: prev.version, problems }, message);
    const data = { failed_version: failed.version, restored_version: prev.version, problems };
    this.o.events.emit({ type: 'config.rolled_back', at: new Date(this.o.clock.now()).toISOString(), data });
    this.o.alerts()?.raise('config_rolled_back', 'config', message, data, 'critical');
    await this.o.audit
      .append(rollbackAuditRow(failed.version, prev.version, problems, error, started, this.o.clock.now()))
      .catch((e) => this.log.warn({ err: errorMessage(e) }, 'cannot write the audit row of a config rollback'));
  }

  private readFile(): string | null {
    try {
      return fs.readFileSync(this.file, 'utf8');
    } catch {
      return null;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => this.o.clock.setTimeout(r, Math.max(1, ms)));
  }

  private prune(): void {
    const max = this.o.host.loaded.config.agent.config_history_max;
    if (this.history.count() <= max) return;
    const removed = this.history.prune(max, [this.current.version]);
    if (removed) this.log.info({ removed, kept: max }, 'pruned the config history');
  }

  private audit(req: ApplyRequest, started: number, r: ApplyResult | null, e: unknown): Promise<void> {
    return this.o.audit
      .append(apiAuditRow(req, started, this.o.clock.now(), r, e))
      .catch((err) => this.log.warn({ err: errorMessage(err) }, 'cannot write the audit row of a config change'));
  }
}
