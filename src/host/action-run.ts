// One device action in flight (DeviceHost.invoke, after its checks): the context its driver
// gets, its timeout, and how it ends — metrics, the audit row with its room event, then the
// caller's answer. Every action of every device passes here, so one object holds all of it:
// the driver's context is this object, its signal is made only when a driver reads it, its
// timeout is one Node timer, and the promise callbacks are this object's fields, not a
// suspended async frame and closures per action.
import { performance } from 'node:perf_hooks';
import type { RoomEvents } from '../state/bus.js';
import type { AuditEntry, AuditLog, AuditRowHooks } from '../store/audit.js';
import type { Clock } from '../util/clock.js';
import { keepTimerList } from '../util/timer-lists.js';
import { AgentError, DeviceError, errorMessage } from '../util/errors.js';
import { iso } from '../util/iso.js';
import type { ActionContext, ActionDefinition, Cause } from './contract.js';
import type { SecretScrubber } from './secret-scrub.js';

export interface ActionMetrics {
  observe(driver: string, action: string, ok: boolean, seconds: number): void;
}

/** What a run needs of its host (read when the action ends: metrics may be attached after start). */
export interface ActionRunHost {
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly events: RoomEvents;
  readonly metrics: ActionMetrics | null;
}

/** What a run needs of its device. */
export interface ActionDevice {
  readonly id: string;
  readonly driver: { readonly name: string };
  /** The device's links under the lifecycle, told whether the action timed out or was answered. */
  readonly connections: readonly { noteActionTimeout(): void; noteActionAnswered(): void }[];
  readonly scrubber: SecretScrubber | null;
  /** Cause of the action in flight, so device reports during it are attributed (a run is one). */
  activeCause: { readonly cause: Cause; readonly until: number } | null;
}

type AuditRow = Omit<AuditEntry, 'id'>;

/** How long after an action a device report is still attributed to it (ms). */
export const CAUSE_WINDOW_MS = 2000;

/** Where a run is: waiting for its driver (or timeout), then for its audit row's commit, then done. */
const RUNNING = 0;
const COMMITTING = 1;
const DONE = 2;

export class ActionRun implements ActionContext, AuditRowHooks {
  /** Until when device reports are attributed to this action (it is its device's `activeCause`). */
  until = Number.POSITIVE_INFINITY;
  /** Made by the first read of `signal`: most actions end without anyone listening to it. */
  private controller: AbortController | null = null;
  private abortedWith: { reason: unknown } | null = null;
  private stage = RUNNING;
  /** Its timeout: a Node timer in real time, as before (a host on a fake clock still times actions out). */
  private timer: NodeJS.Timeout | null = null;
  private outer: AbortSignal | undefined = undefined;
  private onOuterAbort: (() => void) | null = null;
  private readonly started = performance.now();
  private readonly at: string;
  private ok = true;
  private result: unknown = undefined;
  private error: unknown = undefined;
  private resolveCaller: (value: unknown) => void = noop;
  private rejectCaller: (error: unknown) => void = noop;
  /** Its audit row, from the action's end until it committed. */
  private row: AuditRow | null = null;

  constructor(
    private readonly host: ActionRunHost,
    private readonly device: ActionDevice,
    private readonly def: ActionDefinition,
    private readonly action: string,
    private readonly params: unknown,
    readonly cause: Cause,
    private readonly timeoutMs: number,
  ) {
    this.at = iso(host.clock.now());
  }

  /** Aborted when the action times out or its caller's signal aborts (ActionContext). */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Whether `signal` is aborted, without making it (ActionContext). */
  get aborted(): boolean {
    return this.abortedWith !== null;
  }

  /** Runs the driver's action; the promise settles once the action's audit row committed. */
  start(outer: AbortSignal | undefined): Promise<unknown> {
    if (outer) {
      // Listened to as before: a signal aborted already does not fire (EventTarget never replays).
      this.outer = outer;
      this.onOuterAbort = () => this.abort(outer.reason);
      outer.addEventListener('abort', this.onOuterAbort, { once: true });
    }
    this.device.activeCause = this;
    capturing = this;
    const answer = new Promise(captureResolvers);
    capturing = null;
    keepTimerList(this.timeoutMs); // one action at a time would rebuild Node's list for this duration
    this.timer = setTimeout(this.timedOut, this.timeoutMs);
    let ran: unknown;
    try {
      ran = this.def.run(this.params as never, this);
    } catch (e) {
      ran = Promise.reject(e);
    }
    // Promise.resolve: the same promise for a native one; a driver returning a plain value still works.
    Promise.resolve(ran).then(this.answered, this.failed);
    return answer;
  }

  private abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }

  /** The timeout came first: the driver's signal aborts, then the action fails with the timeout. */
  private readonly timedOut = (): void => {
    this.timer = null;
    if (this.stage !== RUNNING) return;
    const err = new DeviceError(
      `device ${this.device.id}: action "${this.action}" timed out after ${this.timeoutMs} ms`,
      'DEVICE_TIMEOUT',
    );
    this.abort(err);
    this.end(false, err);
  };

  /** The driver's answer or failure (ignored once the timeout ended the action). */
  private readonly answered = (value: unknown): void => {
    if (this.stage === RUNNING) this.end(true, value);
  };
  private readonly failed = (e: unknown): void => {
    if (this.stage === RUNNING) this.end(false, e);
  };

  /**
   * The driver answered or failed, or the timeout fired: stop listening, note it, audit it.
   * Whatever throws on the way (a metric, a listener of the status a timeout changes, the audit
   * queue) fails this action for its caller, as an exception in the old async run did: it never
   * leaves the caller waiting or escapes from a timer callback.
   */
  private end(ok: boolean, value: unknown): void {
    this.stage = COMMITTING;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    try {
      this.record(ok, value);
    } catch (e) {
      this.stage = DONE;
      this.row = null;
      this.rejectCaller(e);
    }
  }

  private record(ok: boolean, value: unknown): void {
    if (this.onOuterAbort) this.outer?.removeEventListener('abort', this.onOuterAbort);
    const m = this.device;
    // This run, its window now ending: no second object per action.
    if (m.activeCause === this) this.until = this.host.clock.now() + CAUSE_WINDOW_MS;
    const timedOut = !ok && value instanceof AgentError && value.code === 'DEVICE_TIMEOUT';
    // Indexed: before V8 optimizes this, each for-of step allocates (the first calls after start).
    for (let i = 0; i < m.connections.length; i++) {
      if (timedOut) m.connections[i].noteActionTimeout();
      else m.connections[i].noteActionAnswered();
    }
    this.ok = ok;
    if (ok) this.result = value;
    // A driver's error may quote its own secrets: the caller, the audit row and the event get it scrubbed.
    else this.error = m.scrubber ? m.scrubber.error(value) : value;
    const duration_ms = Math.round((performance.now() - this.started) * 1000) / 1000;
    this.host.metrics?.observe(m.driver.name, this.action, ok, duration_ms / 1000);
    const error = ok ? null : errorMessage(this.error);
    // The caller hears back only after the audit row (and the room event's
    // outbox row, same transaction) committed: an acknowledged action is
    // always in the log (see the SIGKILL test). This run hears it as the row's hooks.
    const { at, cause, action, params } = this;
    const row = { at, cause, device: m.id, action, params, ok, result: this.result, error, duration_ms };
    this.row = row;
    this.host.audit.appendRow(row, this);
  }

  /** The audit row's transaction (AuditRowHooks): the room event lands with it. */
  inTransaction(): void {
    const row = this.row!;
    const { at, device, action, params, ok, error, duration_ms, cause } = row;
    this.host.events.emit({
      type: 'device.action',
      at,
      data: { device, action, params: params as Record<string, unknown>, ok, error, duration_ms, cause },
    });
  }

  /** The audit row committed (AuditRowHooks): the caller gets the result, or the action's error. */
  committed(): void {
    this.stage = DONE;
    this.row = null;
    if (this.ok) {
      this.resolveCaller(this.result);
      return;
    }
    const e = this.error;
    this.rejectCaller(
      e instanceof AgentError ? e : new DeviceError(`device ${this.device.id}: ${this.action} failed: ${errorMessage(e)}`),
    );
  }

  /** The audit commit failed (AuditRowHooks): the caller hears that. */
  notCommitted(e: Error): void {
    this.stage = DONE;
    this.row = null;
    this.rejectCaller(e);
  }
}

/** The run whose answer promise is being made (its executor runs at once, inside `start`). */
let capturing: ActionRun | null = null;
function captureResolvers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  const run = capturing as unknown as { resolveCaller: typeof resolve; rejectCaller: typeof reject };
  run.resolveCaller = resolve;
  run.rejectCaller = reject;
}

function noop(): void {}
