// Capped exponential backoff with jitter, shared by every transport so no
// driver re-implements reconnect timing.
export interface BackoffOptions {
  /** First delay (ms). */
  initialMs?: number;
  /** Upper bound (ms). */
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay added or removed at random (0.2 = ±20 %). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly o: Required<BackoffOptions>;
  constructor(opts: BackoffOptions = {}) {
    this.o = {
      initialMs: opts.initialMs ?? 500,
      maxMs: opts.maxMs ?? 30_000,
      factor: opts.factor ?? 2,
      jitter: opts.jitter ?? 0.2,
      random: opts.random ?? Math.random,
    };
  }
  /** Delay before the next attempt; grows each call until reset. */
  next(): number {
    const base = Math.min(this.o.maxMs, this.o.initialMs * this.o.factor ** this.attempt);
    this.attempt++;
    const spread = base * this.o.jitter * (this.o.random() * 2 - 1);
    return Math.max(0, Math.round(Math.min(this.o.maxMs, base + spread)));
  }
  reset(): void {
    this.attempt = 0;
  }
  get attempts(): number {
    return this.attempt;
  }
}
