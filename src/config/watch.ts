// The config file on disk, re-read on SIGHUP and when it changes ([agent] watch_config). The text
// is validated exactly as at start (schema, ${ENV}, start refusals) and against what a running
// agent can change; an invalid file is refused and reported (log, `config_refused` alert, bus
// topic `config`) and the running config stays. A valid one goes to the agent's disk applier
// (config-versions' apply path, which stores it as a version and reconfigures the agent).
//
// The folder is watched, not the file: editors and config-versions replace the file by renaming
// a new one over it, which a watch on the old file would never see.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Feature } from '../app-context.js';
import type { DriverRegistry } from '../host/registry.js';
import type { Bus } from '../state/bus.js';
import type { AlertSink } from '../sync/alerts.js';
import { errorMessage } from '../util/errors.js';
import { ConfigError, type ConfigIssue, configVersion, formatIssue, type LoadedConfig, parseConfig } from './load.js';
import type { ReloadCause, ReloadReport } from './reload.js';
import { liveChangeRefusals } from './reload.js';
import { startRefusals } from './start-checks.js';

/** What the reloader needs of the agent (src/app.ts). */
export interface DiskReloadAgent {
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly drivers: DriverRegistry;
  readonly bus: Bus;
  readonly env: NodeJS.ProcessEnv | undefined;
  feature<T extends Feature>(name: string): T | undefined;
  /** Settles when the reloads queued so far are done. */
  idle(): Promise<void>;
  diskApplier(text: string, next: LoadedConfig, cause: ReloadCause): Promise<ReloadReport>;
}

export type DiskReloadOutcome =
  | { status: 'applied'; report: ReloadReport }
  | { status: 'unchanged'; version: string }
  | { status: 'refused'; issues: ConfigIssue[] }
  | { status: 'failed'; error: string };

export class ConfigFileReloader {
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<DiskReloadOutcome> | null = null;
  private again = false;
  private readonly log: Logger;
  /** The last outcome (for status and tests). */
  last: DiskReloadOutcome | null = null;

  constructor(private readonly agent: DiskReloadAgent) {
    this.log = agent.logger.child({ mod: 'config-file' });
  }

  /** Watches the file's folder when [agent] watch_config is on (again after a reload changed it). */
  start(): void {
    const on = this.agent.loaded.config.agent.watch_config !== false;
    if (!on) {
      this.stop();
      return;
    }
    if (this.watcher) return;
    const file = this.agent.loaded.file;
    const name = path.basename(file);
    try {
      this.watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, changed) => {
        // Some platforms do not say which file changed: then any change in the folder counts.
        if (changed === null || changed === name) this.schedule();
      });
      this.watcher.on('error', (e) => {
        this.log.warn({ err: errorMessage(e), dir: path.dirname(file) }, 'config folder watch failed; SIGHUP still reloads');
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (e) {
      this.log.warn({ err: errorMessage(e), dir: path.dirname(file) }, 'cannot watch the config folder; SIGHUP still reloads');
      return;
    }
    // A change between reading the file at start and watching it is not missed.
    if (this.fileVersion() !== this.agent.loaded.version) this.schedule();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Re-reads the file after [agent] reload_debounce_ms of quiet. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload('file');
    }, this.agent.loaded.config.agent.reload_debounce_ms ?? 500);
    this.timer.unref?.();
  }

  /**
   * Reads, validates and applies the file. One at a time: a request during a reload runs once
   * more after it (the file may have changed again meanwhile). Never throws.
   */
  reload(from: 'file' | 'sighup' | 'api'): Promise<DiskReloadOutcome> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      let out: DiskReloadOutcome;
      do {
        this.again = false;
        try {
          out = await this.reloadOnce(from);
        } catch (e) {
          // Not expected (every step reports its own failure); the agent must run on whatever happened.
          out = { status: 'failed', error: errorMessage(e) };
          this.last = out;
          this.log.error({ from, err: errorMessage(e) }, 'config file not applied');
        }
      } while (this.again);
      return out;
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async reloadOnce(from: 'file' | 'sighup' | 'api'): Promise<DiskReloadOutcome> {
    // An apply from the API may be writing this very file and reconfiguring: let it finish first.
    await this.agent.idle();
    const running = this.agent.loaded;
    const file = running.file;
    let out: DiskReloadOutcome;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      return this.refused(from, [{ file, key: '', message: `cannot read: ${errorMessage(e)}` }]);
    }
    const version = configVersion(text);
    let next: LoadedConfig;
    try {
      next = parseConfig(text, file, this.agent.drivers, this.agent.env);
    } catch (e) {
      if (e instanceof ConfigError) return this.refused(from, e.issues);
      return this.refused(from, [{ file, key: '', message: errorMessage(e) }]);
    }
    const issues = [...startRefusals(next, this.agent.drivers), ...liveChangeRefusals(running, next)];
    if (issues.length) return this.refused(from, issues);
    if (version === running.version && isSameEffective(running, next)) {
      out = { status: 'unchanged', version };
      this.log.info({ from, version }, 'config file unchanged; nothing to apply');
      this.accepted();
      this.last = out;
      return out;
    }
    try {
      const report = await this.agent.diskApplier(text, next, { from, version, who: from });
      out = { status: 'applied', report };
      this.accepted();
    } catch (e) {
      if (e instanceof ConfigError) return this.refused(from, e.issues);
      out = { status: 'failed', error: errorMessage(e) };
      this.log.error({ from, err: errorMessage(e) }, 'config file not applied');
    }
    this.last = out;
    return out;
  }

  private refused(from: string, issues: ConfigIssue[]): DiskReloadOutcome {
    const out: DiskReloadOutcome = { status: 'refused', issues };
    this.last = out;
    // Issues name file, line and key; load.ts never puts a secret value in their text.
    const lines = issues.map(formatIssue);
    this.log.error({ from, issues: lines }, 'config file refused; the running config stays');
    this.agent.bus.publish('config', { refused: lines, version: this.agent.loaded.version });
    this.agent
      .feature<AlertSink & Feature>('alerts')
      ?.raise(
        'config_refused',
        'file',
        `config file refused (${from}); the running config stays: ${lines.join('; ')}`,
        { issues: lines },
        'warning',
      );
    return out;
  }

  private accepted(): void {
    this.agent.feature<AlertSink & Feature>('alerts')?.clear('config_refused', 'file', 'config file accepted');
  }

  private fileVersion(): string | null {
    try {
      return configVersion(fs.readFileSync(this.agent.loaded.file, 'utf8'));
    } catch {
      return null;
    }
  }
}

/** Same text, and the same values after ${ENV} (an environment change is a change). */
function isSameEffective(a: LoadedConfig, b: LoadedConfig): boolean {
  const h = (c: LoadedConfig) => createHash('sha256').update(JSON.stringify(c.config)).digest('hex');
  return h(a) === h(b);
}
