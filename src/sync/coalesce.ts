// Rate limit for retained topics that carry "the latest value" (`state`,
// `devices/<id>`): a key marked dirty is published at once when its last
// publish is at least `intervalMs` old, otherwise once when the interval is
// over — with the value of that moment, so the final value of a burst always
// goes out. Nothing is queued: the value is built when it is published.
import type { Clock, TimerHandle } from '../util/clock.js';

export class RetainedCoalescer {
  private readonly lastAt = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private timer: TimerHandle | null = null;
  private timerDue = 0;

  /**
   * @param publish called with the keys due now; returns false when nothing
   *   could be published (link down): the keys stay dirty for the next flush.
   */
  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly publish: (keys: string[]) => boolean,
  ) {}

  mark(key: string): void {
    this.dirty.add(key);
  }

  get pending(): number {
    return this.dirty.size;
  }

  /** Publishes the dirty keys whose interval is over; schedules the rest. */
  flush(): void {
    if (!this.dirty.size) return;
    const now = this.clock.now();
    const due: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const key of this.dirty) {
      const at = (this.lastAt.get(key) ?? Number.NEGATIVE_INFINITY) + this.intervalMs;
      if (at <= now) due.push(key);
      else next = Math.min(next, at);
    }
    if (due.length && this.publish(due)) {
      for (const key of due) {
        this.dirty.delete(key);
        this.lastAt.set(key, now);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.schedule(next - now);
  }

  /** Every dirty key now, whatever its interval (a new connection's full picture, a clean stop). */
  flushAll(): void {
    if (!this.dirty.size) return;
    const keys = [...this.dirty];
    if (!this.publish(keys)) return;
    const now = this.clock.now();
    for (const key of keys) this.lastAt.set(key, now);
    this.dirty.clear();
    this.cancel();
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    const due = this.clock.now() + ms;
    if (this.timer && this.timerDue <= due) return;
    this.cancel();
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }
}
