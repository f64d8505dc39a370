import { DeviceError } from '../util/errors.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';

/** Requests that may wait per device queue unless config says otherwise ([agent] device_queue_max). */
export const DEFAULT_DEVICE_QUEUE_MAX = 64;

export interface QueueOptions {
  /** Per-request timeout (ms) counted from when it is sent. */
  timeoutMs?: number;
  /**
   * Requests waiting beyond this are refused at once with DEVICE_BUSY (no unbounded queue). Drivers
   * pass `ctx.queueMax` ([agent] device_queue_max, a device's queue_max); default 64.
   */
  maxPending?: number;
  clock?: Clock;
}

interface Entry<T> {
  label: string;
  send: () => void;
  timeoutMs: number;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
}

/**
 * One request in flight at a time, for protocols that say "wait for the reply
 * before the next command" (vMix, HyperDeck, Extron, Kramer…). The driver
 * sends through `request` and settles the head with `resolveCurrent` /
 * `rejectCurrent` when the matching reply arrives.
 */
export class CommandQueue<T = string> {
  private readonly waiting: Entry<T>[] = [];
  private head: Entry<T> | null = null;
  private timer: TimerHandle | null = null;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly clock: Clock;
  constructor(o: QueueOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.maxPending = o.maxPending ?? DEFAULT_DEVICE_QUEUE_MAX;
    this.clock = o.clock ?? realClock;
  }

  request(label: string, send: () => void, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    if (this.waiting.length >= this.maxPending) {
      return Promise.reject(
        new DeviceError(
          `device busy: ${this.waiting.length} requests already waiting (the limit: the device's queue_max, else [agent] device_queue_max)`,
          'DEVICE_BUSY',
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const e: Entry<T> = { label, send, timeoutMs: opts.timeoutMs ?? this.timeoutMs, resolve, reject, signal: opts.signal };
      if (opts.signal) {
        opts.signal.addEventListener(
          'abort',
          () => {
            const i = this.waiting.indexOf(e);
            // Only a request not yet sent can be withdrawn; one on the wire runs to its reply.
            if (i >= 0) {
              this.waiting.splice(i, 1);
              reject(new DeviceError(`${label}: cancelled before it was sent`, 'DEVICE_ERROR'));
            }
          },
          { once: true },
        );
      }
      this.waiting.push(e);
      this.pump();
    });
  }

  /** The request on the wire, if any. */
  get current(): string | null {
    return this.head?.label ?? null;
  }
  get size(): number {
    return this.waiting.length + (this.head ? 1 : 0);
  }

  resolveCurrent(value: T): boolean {
    const h = this.head;
    if (!h) return false;
    this.finish();
    h.resolve(value);
    return true;
  }

  rejectCurrent(err: Error): boolean {
    const h = this.head;
    if (!h) return false;
    this.finish();
    h.reject(err);
    return true;
  }

  /** Fails everything (e.g. the link went down): nothing is replayed later. */
  failAll(err: Error): void {
    const all = [...(this.head ? [this.head] : []), ...this.waiting.splice(0)];
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.head = null;
    for (const e of all) e.reject(err);
  }

  private finish(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.head = null;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    if (this.head) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.head = next;
    this.timer = this.clock.setTimeout(() => {
      if (this.head !== next) return;
      this.head = null;
      this.timer = null;
      next.reject(new DeviceError(`${next.label}: no reply within ${next.timeoutMs} ms`, 'DEVICE_TIMEOUT'));
      this.pump();
    }, next.timeoutMs);
    try {
      next.send();
    } catch (e) {
      this.rejectCurrent(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
