// A clock seam so time-driven logic (director, scenarios, backoff) can be
// tested on a fake clock without timing assertions.
//
// Node runs a timer longer than 2^31-1 ms (~24.8 days) after 1 ms and prints
// a TimeoutOverflowWarning. A long wait (a token that lives 30 days, a
// calendar boundary next month) would then fire at once, and whatever re-arms
// it would spin. Both clocks here chain such waits in steps of at most
// MAX_TIMER_MS, so any delay through the seam waits as long as asked; the fake
// clock's underlying timers behave like Node's, so a test on it sees the same
// overflow a real timer would.
import { iso } from './iso.js';
import { keepTimerList } from './timer-lists.js';

export type TimerHandle = { readonly id: number };

export interface Clock {
  now(): number;
  /** Runs `fn` after `ms` (any length: long waits are chained; NaN or negative is 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | null | undefined): void;
}

/** The longest delay a Node timer honours (a signed 32-bit millisecond count). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** One timer of a ChainingClock: the handle callers hold, and its state (no closure or map entry per timer). */
class ChainedTimer<Raw> {
  raw: Raw | undefined = undefined;
  live = true;
  constructor(
    readonly id: number,
    readonly clock: ChainingClock<Raw>,
    public fn: () => void,
    public remaining: number,
  ) {}
}

/** A clock over a Node-like one-shot timer primitive; chains waits longer than MAX_TIMER_MS. */
abstract class ChainingClock<Raw> implements Clock {
  private next = 1;
  abstract now(): number;
  /** Arms the underlying timer: calls `fire(timer)` after `ms`. */
  protected abstract setRaw(fire: (timer: ChainedTimer<Raw>) => void, ms: number, timer: ChainedTimer<Raw>): Raw;
  protected abstract clearRaw(raw: Raw): void;

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = new ChainedTimer<Raw>(this.next++, this, fn, Number.isNaN(ms) ? 0 : Math.max(0, ms));
    this.arm(t);
    return t;
  }

  clearTimeout(handle: TimerHandle | null | undefined): void {
    if (!(handle instanceof ChainedTimer) || handle.clock !== this || !handle.live) return;
    const t = handle as ChainedTimer<Raw>;
    t.live = false;
    t.fn = noop;
    if (t.raw !== undefined) this.clearRaw(t.raw);
    t.raw = undefined;
  }

  private arm(t: ChainedTimer<Raw>): void {
    const step = Math.min(t.remaining, MAX_TIMER_MS);
    t.remaining -= step;
    t.raw = this.setRaw(this.fire, step, t);
  }

  /** The one callback of every underlying timer (a bound method, not a closure per timer). */
  private readonly fire = (t: ChainedTimer<Raw>): void => {
    if (!t.live) return;
    if (t.remaining > 0) {
      this.arm(t);
      return;
    }
    const fn = t.fn;
    t.live = false;
    t.fn = noop;
    t.raw = undefined;
    fn();
  };
}

const noop = (): void => undefined;

class RealClock extends ChainingClock<NodeJS.Timeout> {
  now(): number {
    return Date.now();
  }
  protected setRaw(fire: (timer: ChainedTimer<NodeJS.Timeout>) => void, ms: number, timer: ChainedTimer<NodeJS.Timeout>) {
    keepTimerList(ms);
    const t = setTimeout(fire, ms, timer);
    t.unref?.();
    return t;
  }
  protected clearRaw(raw: NodeJS.Timeout): void {
    clearTimeout(raw);
  }
}

export const realClock: Clock = new RealClock();

/** Deterministic clock for tests: time moves only when `advance` is called. */
export class FakeClock extends ChainingClock<number> {
  private t: number;
  private nextRaw = 1;
  private queue: { id: number; at: number; fn: () => void }[] = [];
  /** Underlying timers asked for more than MAX_TIMER_MS (Node would warn and fire them after 1 ms). */
  overflows = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    super();
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  protected setRaw(fire: (timer: ChainedTimer<number>) => void, ms: number, timer: ChainedTimer<number>): number {
    let delay = Math.max(0, ms);
    // As Node's setTimeout: an out-of-range delay becomes 1 ms.
    if (!(delay <= MAX_TIMER_MS)) {
      this.overflows++;
      delay = 1;
    }
    const id = this.nextRaw++;
    this.queue.push({ id, at: this.t + delay, fn: () => fire(timer) });
    return id;
  }
  protected clearRaw(raw: number): void {
    this.queue = this.queue.filter((x) => x.id !== raw);
  }
  /** Move time forward, firing due timers in order (timers set by timers included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.id - b.id);
      const due = this.queue[0];
      if (!due || due.at > end) break;
      this.queue.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.queue.length;
  }
}

export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const isoNow = (clock: Clock = realClock): string => iso(clock.now());

/**
 * One timer started again and again, one wait at a time (e.g. a connection's reply timeout:
 * one message on the wire at a time): `fn` runs `ms` after the last `start` unless `stop`
 * came first.
 */
export interface ReusableTimer {
  start(ms: number): void;
  stop(): void;
}

/**
 * A ReusableTimer on `clock`. On the real clock it is one Node timer for its whole life: a
 * start within the same duration re-arms it with `refresh()` and a stop only disarms it (it
 * fires once more, doing nothing, unless started again), so a start allocates nothing where
 * setTimeout makes a handle and a Node timer each time. Other clocks (FakeClock) get one
 * setTimeout per start.
 */
export function reusableTimer(clock: Clock, fn: () => void): ReusableTimer {
  return clock === realClock ? new RefreshedTimer(fn) : new ClockTimer(clock, fn);
}

/** The real clock's reusable timer: one Node timer, re-armed in place. */
class RefreshedTimer implements ReusableTimer {
  private timer: NodeJS.Timeout | null = null;
  /** The duration `timer` was made with (refresh() keeps it). */
  private ms = -1;
  private armed = false;
  constructor(private readonly fn: () => void) {}

  start(ms: number): void {
    const wait = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    if (wait > MAX_TIMER_MS) {
      // Beyond one Node timer: the chaining clock's own timers (a reply timeout never is).
      this.armed = false;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.fallback ??= new ClockTimer(realClock, this.fn);
      this.fallback.start(wait);
      return;
    }
    this.fallback?.stop();
    this.armed = true;
    keepTimerList(wait);
    if (this.timer !== null && this.ms === wait) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.ms = wait;
    this.timer = setTimeout(this.fire, wait);
    this.timer.unref();
  }

  stop(): void {
    this.armed = false;
    this.fallback?.stop();
  }

  private fallback: ClockTimer | null = null;
  private readonly fire = (): void => {
    if (!this.armed) return;
    this.armed = false;
    this.fn();
  };
}

/** A reusable timer on any clock: a clock timer per start. */
class ClockTimer implements ReusableTimer {
  private handle: TimerHandle | null = null;
  constructor(
    private readonly clock: Clock,
    private readonly fn: () => void,
  ) {}
  start(ms: number): void {
    this.clock.clearTimeout(this.handle);
    this.handle = this.clock.setTimeout(this.fire, ms);
  }
  stop(): void {
    this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
  private readonly fire = (): void => {
    this.handle = null;
    this.fn();
  };
}
