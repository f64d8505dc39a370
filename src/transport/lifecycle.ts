// The one device lifecycle every network driver goes through:
//
//   connecting → handshake → online ⇄ (probe) → offline → backoff → connecting …
//
// The lifecycle, not the driver, decides the status: a driver supplies hooks
// (`handshake`, `probe`, `onDown`) and reports what its protocol sees; the
// host creates one per link (`DriverContext.connect`) and hands the
// transitions to the device status. Rules (docs/architecture.md, "Device lifecycle"):
// - `offline` whenever the device cannot be reached, from boot too;
//   `connecting` only while an attempt is under way; every message says why.
// - A failure after connect (handshake, set-up, missed probe) is a failed
//   attempt: the backoff keeps growing and starts again from its first delay
//   only after the device stayed online for `stableMs`.
// - A failure caused by config (`ConfigFault`: unknown control, wrong password,
//   wrong model) is shown as `bad_config` / `auth_failure` with the device's
//   words and retried at the longest interval, or on the fault's own retry
//   schedule (growing while the fault repeats, reset once online).
// - A missed probe, or `timeoutsBeforeReconnect` action timeouts in a row, drop
//   the connection and reconnect.
// - Silence has a deadline: with a probe, a device from which nothing was heard
//   (no byte; for HTTP no answer) for `probeIntervalMs + probeTimeoutMs` is
//   offline. One timer counts from the last byte, not a chain of timers (probe
//   timer, then the request's timer); probes start `probeIntervalMs` after the
//   previous probe *started* (the first one after the handshake's last byte),
//   so a live device always gets its probe `probeTimeoutMs` before the deadline.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { Backoff } from './backoff.js';
import type { Link } from './link.js';

/** The statuses the lifecycle reports (a subset of the host's DeviceStatus). */
export type LifecycleStatus = 'connecting' | 'online' | 'offline' | 'error' | 'bad_config' | 'auth_failure';

/**
 * How soon to retry after a particular fault: a capped exponential backoff from
 * `initialMs` to `maxMs` (say TrueConf's refused login: 1 min doubling to 15 min).
 * It grows with each fault in a row and starts again after the device was online.
 */
export interface RetrySchedule {
  initialMs: number;
  maxMs: number;
}

/** A failure reconnecting will not fix: thrown by a handshake (or passed to `fault`). Never put a secret in it. */
export class ConfigFault extends Error {
  constructor(
    message: string,
    readonly status: 'bad_config' | 'auth_failure' = 'bad_config',
    /** Its own retry schedule; without one the next attempt waits `reconnectMaxMs`. */
    readonly retry?: RetrySchedule,
  ) {
    super(message);
    this.name = 'ConfigFault';
  }
}

/**
 * The device answered the handshake, with an error (an HTTP 5xx, a body it cannot have meant): it is
 * reachable but not serving. Shown as `error` with its words (never a secret) rather than `offline`,
 * and retried on the reconnect backoff like any failed attempt.
 */
export class AnsweredFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnsweredFault';
  }
}

export interface HandshakeContext {
  /** The link's description, e.g. `tcp://10.0.0.5:23`. */
  info: string;
  /** Aborted when this connection ends (lost, failed, timed out, stopped). */
  signal: AbortSignal;
}

export interface ConnectionHooks {
  /**
   * Runs on every connect; resolves when the device is ready (optionally with the `online`
   * message). Reject to fail the attempt; throw `ConfigFault` for a config cause.
   */
  handshake(h: HandshakeContext): Promise<string | undefined>;
  /** The cheapest request of the protocol; resolves when the device answered (any answer). Must be bounded by the driver's request timeout. */
  probe?(): Promise<unknown>;
  /** Time from the start of one probe to the start of the next (ms); default 30 s. */
  probeIntervalMs?: number;
  /**
   * Longest the device may stay silent after a probe was sent (ms): the driver's request timeout,
   * resends included. Nothing heard for `probeIntervalMs + probeTimeoutMs` → offline. Default 10 s.
   */
  probeTimeoutMs?: number;
  /** Longest the whole handshake may take (ms); default 15 s. */
  handshakeTimeoutMs?: number;
  /** The connection ended (lost, failed or stopped): drop per-connection state, fail pending requests. */
  onDown?(reason: string): void;
}

/** The limits every device shares (common config keys `reconnect_min_ms`, … — see docs/config-reference.md). */
export interface LifecycleLimits {
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  stableMs?: number;
  timeoutsBeforeReconnect?: number;
  handshakeTimeoutMs?: number;
}

export const LIFECYCLE_DEFAULTS = {
  reconnectMinMs: 1000,
  reconnectMaxMs: 60_000,
  stableMs: 30_000,
  timeoutsBeforeReconnect: 3,
  handshakeTimeoutMs: 15_000,
  probeIntervalMs: 30_000,
  probeTimeoutMs: 10_000,
} as const;

export type StatusSink = (status: LifecycleStatus, message: string, opts: { restart: boolean }) => void;

export interface ConnectionOptions {
  link: Link;
  hooks: ConnectionHooks;
  clock: Clock;
  logger?: Logger;
  report: StatusSink;
  limits?: LifecycleLimits;
  /** Jitter source for the backoff (tests pass a constant). */
  random?: () => number;
}

type Phase = 'idle' | 'connecting' | 'handshake' | 'online' | 'waiting' | 'stopped';

export class DeviceConnection {
  private phase: Phase = 'idle';
  /** Bumped whenever a connection ends, so late settlements of its handshake or probe are ignored. */
  private generation = 0;
  private readonly backoff: Backoff;
  /** One backoff per fault schedule (by status and bounds), reset when the device goes online. */
  private readonly faultBackoffs = new Map<string, Backoff>();
  private readonly limits: Required<LifecycleLimits>;
  private retryTimer: TimerHandle | null = null;
  private handshakeTimer: TimerHandle | null = null;
  private probeTimer: TimerHandle | null = null;
  private stableTimer: TimerHandle | null = null;
  private silenceTimer: TimerHandle | null = null;
  /** When the device was last heard from: its last byte (`data`) or answer (`answered`, HTTP); the connect until then. */
  private lastHeardAt = 0;
  /** When the running or last probe of this connection started. */
  private lastProbeAt = 0;
  private abort: AbortController | null = null;
  private everOnline = false;
  private consecutiveTimeouts = 0;
  /** An `error` condition the device reported during the handshake, shown instead of `online`. */
  private heldCondition: { status: 'offline' | 'error'; message: string } | null = null;
  /** Connection attempts made (for diagnostics and tests). */
  attempts = 0;

  constructor(private readonly o: ConnectionOptions) {
    const l = o.limits ?? {};
    this.limits = {
      reconnectMinMs: l.reconnectMinMs ?? LIFECYCLE_DEFAULTS.reconnectMinMs,
      reconnectMaxMs: l.reconnectMaxMs ?? LIFECYCLE_DEFAULTS.reconnectMaxMs,
      stableMs: l.stableMs ?? LIFECYCLE_DEFAULTS.stableMs,
      timeoutsBeforeReconnect: l.timeoutsBeforeReconnect ?? LIFECYCLE_DEFAULTS.timeoutsBeforeReconnect,
      handshakeTimeoutMs: l.handshakeTimeoutMs ?? o.hooks.handshakeTimeoutMs ?? LIFECYCLE_DEFAULTS.handshakeTimeoutMs,
    };
    this.backoff = new Backoff({
      initialMs: this.limits.reconnectMinMs,
      maxMs: this.limits.reconnectMaxMs,
      random: o.random,
    });
    o.link.on('down', this.onLinkDown);
    o.link.on('data', this.onLinkData);
    o.link.on('answered', this.onLinkData);
  }

  /** True between a completed handshake and the end of that connection. */
  get online(): boolean {
    return this.phase === 'online';
  }

  /** True while the link is up (handshake or online). */
  get connected(): boolean {
    return this.phase === 'handshake' || this.phase === 'online';
  }

  describe(): string {
    return this.o.link.describe();
  }

  /** Starts the first attempt (status `connecting`). Idempotent. */
  start(): void {
    if (this.phase !== 'idle') return;
    this.o.report('connecting', `connecting to ${this.describe()}`, { restart: false });
    this.attempt();
  }

  /** Ends the connection and every timer; no status is reported. Idempotent. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    const hadSession = this.connected;
    this.phase = 'stopped';
    this.generation++;
    this.endTimers();
    this.o.link.off('down', this.onLinkDown);
    this.o.link.off('data', this.onLinkData);
    this.o.link.off('answered', this.onLinkData);
    if (hadSession) this.o.hooks.onDown?.('stopped');
    await this.o.link.disconnect('stopped').catch(() => undefined);
  }

  /** The driver found this connection unusable (desynchronised, device restarted mid-handshake…): reconnect with backoff. */
  fail(reason: string): void {
    if (this.connected) this.endAttempt(reason, 'offline');
  }

  /**
   * The device said something reconnecting will not fix (config): show it and retry at the longest
   * interval, or on the fault's own `retry` schedule.
   */
  fault(message: string, status: 'bad_config' | 'auth_failure' = 'bad_config', retry?: RetrySchedule): void {
    if (this.phase !== 'stopped' && this.phase !== 'idle') this.endAttempt(message, status, retry);
  }

  /**
   * A condition the device reports while connected (Q-SYS engine state, Videohub "Device present"):
   * `error` or `offline` (reachable but not serving) keep the connection and its probe; `online`
   * clears it. Reported during the handshake, it is what the device shows once the handshake completes.
   */
  condition(status: 'online' | 'offline' | 'error', message: string): void {
    if (this.phase === 'online') this.o.report(status, message, { restart: false });
    else if (this.phase === 'handshake') this.heldCondition = status === 'online' ? null : { status, message };
  }

  /** An action on this device got no answer in time; after `timeoutsBeforeReconnect` in a row the connection is dropped. */
  noteActionTimeout(): void {
    if (this.phase !== 'online') return;
    this.consecutiveTimeouts++;
    const n = this.limits.timeoutsBeforeReconnect;
    if (this.consecutiveTimeouts >= n) this.endAttempt(`${n} actions in a row got no answer`, 'offline');
  }

  /** An action got an answer (success or a device error): the device is alive. */
  noteActionAnswered(): void {
    this.consecutiveTimeouts = 0;
  }

  /** The longest silence allowed while online (probe interval + probe timeout), or null without a probe. */
  get silenceLimitMs(): number | null {
    if (!this.o.hooks.probe) return null;
    return this.probeIntervalMs + (this.o.hooks.probeTimeoutMs ?? LIFECYCLE_DEFAULTS.probeTimeoutMs);
  }

  private get probeIntervalMs(): number {
    return this.o.hooks.probeIntervalMs ?? LIFECYCLE_DEFAULTS.probeIntervalMs;
  }

  private attempt(): void {
    this.retryTimer = null;
    if (this.phase === 'stopped') return;
    this.phase = 'connecting';
    this.attempts++;
    const gen = this.generation;
    this.o.link.connectOnce().then(
      () => {
        if (gen !== this.generation || this.phase !== 'connecting') {
          void this.o.link.disconnect('stale attempt').catch(() => undefined);
          return;
        }
        this.onConnected(gen);
      },
      (e: unknown) => {
        if (gen !== this.generation || this.phase !== 'connecting') return;
        this.endAttempt(`${this.describe()}: ${errorMessage(e)}`, 'offline');
      },
    );
  }

  private onConnected(gen: number): void {
    this.phase = 'handshake';
    this.consecutiveTimeouts = 0;
    this.heldCondition = null;
    this.lastHeardAt = this.o.clock.now();
    const abort = new AbortController();
    this.abort = abort;
    this.o.report('connecting', `connected to ${this.describe()}; handshake`, { restart: false });
    const ms = this.limits.handshakeTimeoutMs;
    this.handshakeTimer = this.o.clock.setTimeout(() => {
      this.handshakeTimer = null;
      if (gen === this.generation) this.endAttempt(`${this.describe()}: handshake not completed within ${ms} ms`, 'offline');
    }, ms);
    let running: Promise<string | undefined>;
    try {
      running = this.o.hooks.handshake({ info: this.describe(), signal: abort.signal });
    } catch (e) {
      running = Promise.reject(e);
    }
    running.then(
      (message) => {
        if (gen !== this.generation || this.phase !== 'handshake') return;
        this.goOnline(message || `connected to ${this.describe()}`);
      },
      (e: unknown) => {
        if (gen !== this.generation || this.phase !== 'handshake') return;
        if (e instanceof ConfigFault) this.endAttempt(e.message, e.status, e.retry);
        else if (e instanceof AnsweredFault) this.endAttempt(`${this.describe()}: handshake failed: ${e.message}`, 'error');
        else this.endAttempt(`${this.describe()}: handshake failed: ${errorMessage(e)}`, 'offline');
      },
    );
  }

  private goOnline(message: string): void {
    this.o.clock.clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.phase = 'online';
    for (const b of this.faultBackoffs.values()) b.reset();
    if (this.heldCondition) this.o.report(this.heldCondition.status, this.heldCondition.message, { restart: this.everOnline });
    else this.o.report('online', message, { restart: this.everOnline });
    this.everOnline = true;
    this.stableTimer = this.o.clock.setTimeout(() => {
      this.stableTimer = null;
      this.backoff.reset();
    }, this.limits.stableMs);
    // The first probe is due one interval after the device was last heard (its last handshake byte),
    // not after the handshake ended: a handshake that waits after its last byte must not push it back.
    this.lastProbeAt = this.lastHeardAt;
    this.scheduleProbe(this.generation);
    this.armSilenceDeadline(this.generation);
  }

  /**
   * Offline once nothing was heard for `silenceLimitMs`: one timer at the deadline counted from the
   * last thing heard; when it fires early (something was heard meanwhile) it moves to the new deadline.
   */
  private armSilenceDeadline(gen: number): void {
    const limit = this.silenceLimitMs;
    if (limit === null) return;
    const deadline = this.lastHeardAt + limit;
    this.silenceTimer = this.o.clock.setTimeout(() => {
      this.silenceTimer = null;
      if (gen !== this.generation || this.phase !== 'online') return;
      if (this.o.clock.now() < this.lastHeardAt + limit) return this.armSilenceDeadline(gen);
      const interval = this.probeIntervalMs;
      this.endAttempt(
        `${this.describe()}: no answer to the liveness probe: nothing heard for ${limit} ms (no answer within ${limit - interval} ms of a probe sent every ${interval} ms)`,
        'offline',
      );
    }, deadline - this.o.clock.now());
  }
  /** The next probe starts one interval after the previous one started (at once if that has passed). */
  private scheduleProbe(gen: number): void {
    const probe = this.o.hooks.probe;
    if (!probe) return;
    const due = this.lastProbeAt + this.probeIntervalMs;
    this.probeTimer = this.o.clock.setTimeout(() => {
      this.probeTimer = null;
      if (gen !== this.generation) return;
      this.lastProbeAt = this.o.clock.now();
      let p: Promise<unknown>;
      try {
        p = probe();
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        () => {
          if (gen !== this.generation || this.phase !== 'online') return;
          this.scheduleProbe(gen);
        },
        (e: unknown) => {
          if (gen === this.generation && this.phase === 'online')
            this.endAttempt(`${this.describe()}: no answer to the liveness probe (${errorMessage(e)})`, 'offline');
        },
      );
    }, due - this.o.clock.now());
  }

  private readonly onLinkData = (): void => {
    if (this.connected) this.lastHeardAt = this.o.clock.now();
  };

  private readonly onLinkDown = (reason: string): void => {
    if (this.connected) this.endAttempt(`${this.describe()}: ${reason}`, 'offline');
  };

  /** Ends the current connection or attempt, reports why, and schedules the next attempt. */
  private endAttempt(reason: string, status: 'offline' | 'error' | 'bad_config' | 'auth_failure', retry?: RetrySchedule): void {
    if (this.phase === 'stopped') return;
    const hadSession = this.connected;
    this.generation++;
    this.endTimers();
    this.phase = 'waiting';
    if (hadSession) {
      try {
        this.o.hooks.onDown?.(reason);
      } catch (e) {
        this.o.logger?.error({ err: errorMessage(e) }, 'onDown hook failed');
      }
      void this.o.link.disconnect(reason).catch(() => undefined);
    }
    // A config fault will not heal by retrying fast: wait the longest interval, or its own schedule.
    const delay =
      status === 'offline' || status === 'error'
        ? this.backoff.next()
        : retry
          ? this.faultBackoff(status, retry).next()
          : this.limits.reconnectMaxMs;
    this.o.logger?.debug({ reason, status, delay }, 'connection attempt ended');
    this.o.report(status, `${reason}; next attempt in ${formatDelay(delay)}`, { restart: false });
    this.retryTimer = this.o.clock.setTimeout(() => this.attempt(), delay);
  }

  private faultBackoff(status: string, retry: RetrySchedule): Backoff {
    const key = `${status}:${retry.initialMs}:${retry.maxMs}`;
    let b = this.faultBackoffs.get(key);
    if (!b) {
      b = new Backoff({ initialMs: retry.initialMs, maxMs: retry.maxMs, random: this.o.random });
      this.faultBackoffs.set(key, b);
    }
    return b;
  }

  private endTimers(): void {
    for (const t of [this.retryTimer, this.handshakeTimer, this.probeTimer, this.stableTimer, this.silenceTimer])
      this.o.clock.clearTimeout(t);
    this.retryTimer = this.handshakeTimer = this.probeTimer = this.stableTimer = this.silenceTimer = null;
    this.abort?.abort(new Error('connection ended'));
    this.abort = null;
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * `DriverContext.connect` for a context that has no host (driver tests, `scenarios check`):
 * the lifecycle's transitions go to that context's `setStatus`.
 */
export function connectWithoutHost(ctx: {
  clock: Clock;
  logger?: Logger;
  setStatus(status: LifecycleStatus, message: string): void;
}): (link: Link, hooks: ConnectionHooks) => DeviceConnection {
  return (link, hooks) =>
    new DeviceConnection({ link, hooks, clock: ctx.clock, logger: ctx.logger, report: (s, m) => ctx.setStatus(s, m) });
}
