// The poll loop the calendar sources (tcs, ics) share: one run in flight at a
// time, the next run scheduled after each one with the delay it returns (the
// interval, or a backoff after a failure), runs on demand, and a stop that
// waits for the run in flight.
import type { Clock, TimerHandle } from './clock.js';

export class Poller {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private active = false;

  /** `once` polls and resolves with the delay (ms) before the next run. */
  constructor(
    private readonly clock: Clock,
    private readonly once: () => Promise<number>,
  ) {}

  /** Between `start` and `stop`; a run that ends after `stop` must not publish anything. */
  get running(): boolean {
    return this.active;
  }

  /** Starts polling; the first run begins now, in the background. */
  start(): void {
    this.active = true;
    void this.run();
  }

  /** Runs now, or joins the run in flight; the next scheduled run then counts from this one. */
  run(): Promise<void> {
    this.inFlight ??= this.cycle().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Cancels the scheduled run and runs now (or joins the run in flight). */
  runNow(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    return this.run();
  }

  /** Stops scheduling at once (synchronously); the promise waits for a run in flight to end. */
  async stop(): Promise<void> {
    this.active = false;
    this.clock.clearTimeout(this.timer);
    await this.inFlight?.catch(() => undefined);
  }

  private async cycle(): Promise<void> {
    const delay = await this.once();
    // An extra run (an action asking for fresh data) replaces the scheduled one: one timer, never a second chain.
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.active) this.timer = this.clock.setTimeout(() => void this.run(), delay);
  }
}
