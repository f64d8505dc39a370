// Runs go2rtc as a child in its own process group and keeps it honest:
// ready = the "[api] listen addr=" line AND GET /api answering a supported
// version; liveness = GET /api every interval; restart with backoff after a
// crash, a hang or too much memory; stop = SIGTERM, wait, SIGKILL the group,
// so no ffmpeg it started outlives it (go2rtc issues AlexxIT/go2rtc#814, #894, #907: ffmpeg zombies and orphans).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import type { Logger } from 'pino';
import { Backoff } from '../transport/backoff.js';
import { httpRequest } from '../transport/http-client.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { killStale } from '../util/stale-process.js';
import { redactUrlsInText } from './redact.js';
import { isApiListenError, isApiListenLine, isSupportedVersion, SUPPORTED_VERSIONS } from './go2rtc-config.js';

/** `unresponsive`: running, but the last liveness probe got no answer (the proxy answers 503 meanwhile). */
export type SupervisorState = 'stopped' | 'starting' | 'running' | 'unresponsive' | 'restarting' | 'error';

export interface SupervisorStatus {
  state: SupervisorState;
  message: string;
  since: string;
  pid: number | null;
  version: string | null;
  /** Times go2rtc was started again after a crash, hang or RSS limit. */
  restarts: number;
  last_exit: { code: number | null; signal: string | null; at: string; reason: string } | null;
}

export interface SupervisorOptions {
  binary: string;
  args: string[];
  apiPort: number;
  /** Loopback ports that must be free before go2rtc starts (B.9.3). */
  ports: number[];
  healthIntervalMs: number;
  healthTimeoutMs: number;
  healthMisses: number;
  readyTimeoutMs: number;
  stopGraceMs: number;
  rssLimitBytes: number;
  restartMinMs: number;
  restartMaxMs: number;
  logger: Logger;
  clock: Clock;
  env?: NodeJS.ProcessEnv;
  /** Holds the running go2rtc's pid, so a go2rtc left by a killed agent is found and ended. */
  pidFile?: string;
  onStatus?(s: SupervisorStatus): void;
}

interface Run {
  gen: number;
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  hasExited: boolean;
  sawListen: boolean;
  ready: boolean;
  misses: number;
  timers: TimerHandle[];
  /** Set when we end it on purpose (stop, hang, RSS), so its exit is not a "crash". */
  endingReason: string | null;
}

const LOG_LINES_KEPT = 200;

export class Go2rtcSupervisor {
  private run: Run | null = null;
  private gen = 0;
  private wanted = false;
  private restartTimer: TimerHandle | null = null;
  private readonly backoff: Backoff;
  private readonly lines: string[] = [];
  private st: SupervisorStatus;

  constructor(private readonly o: SupervisorOptions) {
    this.backoff = new Backoff({ initialMs: o.restartMinMs, maxMs: o.restartMaxMs, jitter: 0.1 });
    this.st = {
      state: 'stopped',
      message: 'not started',
      since: this.iso(),
      pid: null,
      version: null,
      restarts: 0,
      last_exit: null,
    };
  }

  status(): SupervisorStatus {
    return { ...this.st };
  }

  /** The last lines go2rtc printed (diagnostics for status and logs). */
  recentLog(): string[] {
    return [...this.lines];
  }

  start(): void {
    if (this.o.pidFile) {
      const stale = killStale(this.o.pidFile, this.o.args.join(' '), { group: true });
      if (stale) this.o.logger.warn({ pid: stale }, 'ended a go2rtc process group left by an earlier agent');
    }
    this.wanted = true;
    if (!this.run && !this.restartTimer) void this.launch(false);
  }

  /** Ends the current process (graceful, then the whole group) and starts a new one. */
  async restart(reason: string): Promise<void> {
    this.clearRestartTimer();
    const run = this.run;
    if (run) {
      run.endingReason = reason;
      await this.endRun(run, true);
    }
    if (this.wanted) void this.launch(true);
  }

  async stop(): Promise<void> {
    this.wanted = false;
    this.clearRestartTimer();
    const run = this.run;
    if (run) {
      run.endingReason = 'stopped';
      await this.endRun(run, true);
    }
    if (this.o.pidFile) fs.rmSync(this.o.pidFile, { force: true });
    this.set('stopped', 'stopped');
  }

  private async launch(isRestart: boolean): Promise<void> {
    this.restartTimer = null;
    if (!this.wanted || this.run) return;
    if (isRestart) this.st.restarts++;
    this.set(isRestart ? 'restarting' : 'starting', 'starting go2rtc');
    const busy = await firstBusyPort(this.o.ports);
    if (!this.wanted || this.run) return;
    if (busy !== null) {
      this.failAttempt(`port 127.0.0.1:${busy} is in use; go2rtc not started`);
      return;
    }
    let child: ChildProcess;
    try {
      // detached: its own process group, so the group kill reaches every ffmpeg it spawns.
      child = spawn(this.o.binary, this.o.args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.o.env ?? process.env,
      });
    } catch (e) {
      this.failAttempt(`cannot start ${this.o.binary}: ${errorMessage(e)}`);
      return;
    }
    const gen = ++this.gen;
    let resolveExit!: () => void;
    const run: Run = {
      gen,
      child,
      pid: child.pid ?? -1,
      exited: new Promise((r) => (resolveExit = r)),
      hasExited: false,
      sawListen: false,
      ready: false,
      misses: 0,
      timers: [],
      endingReason: null,
    };
    this.run = run;
    child.on('error', (e) => {
      run.hasExited = true;
      resolveExit();
      this.onExit(run, null, null, `cannot start ${this.o.binary}: ${errorMessage(e)}`);
    });
    child.on('exit', (code, signal) => {
      run.hasExited = true;
      resolveExit();
      this.onExit(run, code, signal, null);
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      readline.createInterface({ input: stream }).on('line', (line) => this.onLine(run, line));
    }
    this.st.pid = run.pid;
    if (this.o.pidFile) fs.writeFileSync(this.o.pidFile, String(run.pid));
    run.timers.push(
      this.o.clock.setTimeout(() => {
        if (this.run === run && !run.ready)
          void this.failRun(run, `not ready after ${this.o.readyTimeoutMs} ms (no API listen line or no answer to GET /api)`);
      }, this.o.readyTimeoutMs),
    );
  }

  private onLine(run: Run, raw: string): void {
    // go2rtc names stream sources in its log; no password or token goes further.
    const line = redactUrlsInText(raw);
    this.lines.push(line);
    if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
    this.o.logger.debug({ go2rtc: line }, 'go2rtc');
    if (this.run !== run || run.ready) return;
    if (isApiListenError(line)) {
      void this.failRun(run, `go2rtc could not open its API: ${line.trim()}`);
    } else if (!run.sawListen && isApiListenLine(line)) {
      run.sawListen = true;
      void this.awaitApi(run);
    }
  }

  /** After the listen line: poll GET /api until it answers, then check the version. */
  private async awaitApi(run: Run): Promise<void> {
    while (this.run === run && !run.ready) {
      const info = await this.probe().catch(() => null);
      if (this.run !== run) return;
      if (info) {
        if (!isSupportedVersion(info.version)) {
          this.wanted = false;
          run.endingReason = 'unsupported version';
          await this.endRun(run, true);
          this.set(
            'error',
            `go2rtc ${String(info.version)} is not supported (need >= ${SUPPORTED_VERSIONS.min} and < ${SUPPORTED_VERSIONS.below})`,
          );
          return;
        }
        run.ready = true;
        this.st.version = String(info.version);
        this.backoff.reset();
        this.set('running', `go2rtc ${this.st.version} ready on 127.0.0.1:${this.o.apiPort}`);
        this.scheduleHealth(run);
        return;
      }
      await new Promise<void>((r) => run.timers.push(this.o.clock.setTimeout(r, 100)));
    }
  }

  private scheduleHealth(run: Run): void {
    run.timers.push(this.o.clock.setTimeout(() => void this.healthCheck(run), this.o.healthIntervalMs));
  }

  private async healthCheck(run: Run): Promise<void> {
    if (this.run !== run || run.endingReason) return;
    const info = await this.probe().catch(() => null);
    if (this.run !== run || run.endingReason) return;
    if (info) run.misses = 0;
    else run.misses++;
    if (run.misses >= this.o.healthMisses) {
      await this.failRun(run, `hang: GET /api did not answer ${run.misses} times in a row`);
      return;
    }
    if (run.misses > 0) {
      // Said at the first miss: viewers get 503 instead of a proxy into a hung go2rtc.
      this.set(
        'unresponsive',
        `GET /api did not answer within ${this.o.healthTimeoutMs} ms (${run.misses} of ${this.o.healthMisses} misses before a restart)`,
      );
    } else if (this.st.state === 'unresponsive') {
      this.set('running', `go2rtc ${this.st.version} answering again on 127.0.0.1:${this.o.apiPort}`);
    }
    const rss = readRssBytes(run.pid);
    if (rss !== null && rss > this.o.rssLimitBytes) {
      await this.failRun(
        run,
        `memory: RSS ${Math.round(rss / 1048576)} MB above the ${Math.round(this.o.rssLimitBytes / 1048576)} MB limit`,
      );
      return;
    }
    this.scheduleHealth(run);
  }

  private async probe(): Promise<{ version?: unknown }> {
    const res = await httpRequest(`http://127.0.0.1:${this.o.apiPort}/api`, { timeoutMs: this.o.healthTimeoutMs });
    if (res.status !== 200) throw new Error(`GET /api answered ${res.status}`);
    return res.json() as { version?: unknown };
  }

  /** Ends a run we consider broken, then restarts with backoff. */
  private async failRun(run: Run, reason: string): Promise<void> {
    if (run.endingReason) return;
    run.endingReason = reason;
    this.o.logger.warn({ reason, lastLines: this.lines.slice(-10) }, 'go2rtc failed; restarting');
    // Not `running` while it is being stopped (up to stop_grace_ms).
    this.set('restarting', `${reason}; stopping go2rtc`);
    await this.endRun(run, true);
    this.st.last_exit = { code: run.child.exitCode, signal: run.child.signalCode, at: this.iso(), reason };
    this.failAttempt(reason);
  }

  private onExit(run: Run, code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): void {
    for (const t of run.timers) this.o.clock.clearTimeout(t);
    if (run.endingReason) return; // ended on purpose; the caller handles what follows
    // A crash: its children (ffmpeg) may still run in the group; kill them now.
    killGroup(run.pid, 'SIGKILL');
    if (this.run === run) this.run = null;
    const reason = spawnError ?? `go2rtc exited (code ${code ?? '-'}, signal ${signal ?? '-'})`;
    this.st.last_exit = { code, signal, at: this.iso(), reason };
    this.o.logger.warn({ reason, lastLines: this.lines.slice(-10) }, 'go2rtc exited; restarting');
    this.failAttempt(reason);
  }

  private failAttempt(reason: string): void {
    this.st.pid = null;
    if (!this.wanted) return;
    const delay = this.backoff.next();
    this.set('restarting', `${reason}; restarting in ${delay} ms`);
    this.clearRestartTimer();
    this.restartTimer = this.o.clock.setTimeout(() => void this.launch(true), delay);
  }

  /** SIGTERM the group, wait the grace time, SIGKILL the group (always: children may ignore TERM). */
  private async endRun(run: Run, graceful: boolean): Promise<void> {
    for (const t of run.timers) this.o.clock.clearTimeout(t);
    if (graceful && !run.hasExited) {
      killGroup(run.pid, 'SIGTERM');
      await Promise.race([run.exited, new Promise<void>((r) => this.o.clock.setTimeout(r, this.o.stopGraceMs))]);
    }
    killGroup(run.pid, 'SIGKILL');
    await Promise.race([run.exited, new Promise<void>((r) => this.o.clock.setTimeout(r, 2000))]);
    if (this.run === run) this.run = null;
    this.st.pid = null;
  }

  private clearRestartTimer(): void {
    this.o.clock.clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private set(state: SupervisorState, message: string): void {
    const changed = state !== this.st.state || message !== this.st.message;
    this.st = { ...this.st, state, message, since: state !== this.st.state ? this.iso() : this.st.since };
    if (changed) this.o.onStatus?.(this.status());
  }

  private iso(): string {
    return new Date(this.o.clock.now()).toISOString();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** RSS of a process from /proc (Linux); null where /proc is not there. */
export function readRssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The first port of the list that cannot be bound on 127.0.0.1, or null. */
export async function firstBusyPort(ports: readonly number[]): Promise<number | null> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => resolve(true)));
    });
    if (!free) return port;
  }
  return null;
}
