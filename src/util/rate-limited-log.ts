// Log lines caused by clients or devices (bad frames, garbage bytes, protocol
// errors) must not let one sender flood the log: each kind of line is written
// at most `perWindow` times per window; the rest are counted, and the count is
// reported on the next line of that kind that gets through.
import type { Logger } from 'pino';
import { type Clock, realClock } from './clock.js';

export type RateLimitedLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug';

export interface RateLimitOptions {
  /** Lines per key per window (default 5). */
  perWindow?: number;
  /** Window length in ms (default 60 s). */
  windowMs?: number;
  clock?: Clock;
}

interface KeyWindow {
  start: number;
  written: number;
  suppressed: number;
}

/** Keys are a caller's own categories; past this many, the oldest is forgotten so memory stays bounded. */
const MAX_KEYS = 1000;

export class RateLimitedLog {
  private readonly windows = new Map<string, KeyWindow>();
  private perWindow: number;
  private readonly windowMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly logger: Logger,
    opts: RateLimitOptions = {},
  ) {
    this.perWindow = opts.perWindow ?? 5;
    this.windowMs = opts.windowMs ?? 60_000;
    this.clock = opts.clock ?? realClock;
  }

  /**
   * Writes `msg` at `level` unless `key` already wrote `perWindow` lines in this
   * window. `fields` should hold messages, not Error objects: no stack is logged.
   * Returns whether the line was written.
   */
  log(level: RateLimitedLevel, key: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      this.windows.delete(key); // re-insert: Map order is then oldest window first
      w = { start: now, written: 0, suppressed };
      this.windows.set(key, w);
      if (this.windows.size > MAX_KEYS) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
    }
    if (w.written >= this.perWindow) {
      w.suppressed++;
      return false;
    }
    w.written++;
    const extra = w.suppressed > 0 ? { suppressed: w.suppressed } : {};
    w.suppressed = 0;
    this.logger[level]({ ...fields, ...extra }, msg);
    return true;
  }

  /** Changes the lines per key per window (a config reload); counts of the current window are kept. */
  setPerWindow(n: number): void {
    this.perWindow = n;
  }

  /** How many keys have a window now (bounded by MAX_KEYS). */
  get keysTracked(): number {
    return this.windows.size;
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): boolean {
    return this.log('warn', key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): boolean {
    return this.log('error', key, fields, msg);
  }
}
