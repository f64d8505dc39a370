// The keep-alive the TCP control drivers (vmix, qsys, tesira, extron-sis, kramer-p3000) run per
// connection: a periodic request whose failure (no answer) means the link is
// half-dead. One copy of the rescheduling and of the rule that an answer
// arriving after its connection ended is ignored.
import type { Clock, TimerHandle } from '../util/clock.js';

export interface KeepAliveOptions {
  clock: Clock;
  /** Pause between the end of one check and the start of the next. */
  everyMs: number;
  /** The request; resolves when the device answered. */
  check: () => Promise<unknown>;
  /** A check of the current connection failed (typically: report, then `link.reconnect`). Not called again until `start`. */
  onFail: (err: unknown) => void;
}

export class KeepAlive {
  private timer: TimerHandle | null = null;
  /** Bumped by `end`, so the settling of an older connection's check is ignored. */
  private generation = 0;

  constructor(private readonly o: KeepAliveOptions) {}

  /** Starts checking for a new connection (the first check after `everyMs`); ends any previous one. */
  start(): void {
    this.end();
    this.schedule(this.generation);
  }

  /** The connection ended (down, stop): no more checks; one in flight is ignored when it settles. */
  end(): void {
    this.generation++;
    this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(gen: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.o.check().then(
        () => {
          if (gen === this.generation) this.schedule(gen);
        },
        (e: unknown) => {
          if (gen === this.generation) this.o.onFail(e);
        },
      );
    }, this.o.everyMs);
  }
}
