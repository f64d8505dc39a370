// Rate-limited logging for events a client can cause at will (bad requests,
// failed handlers): the first `burst` lines per key and window are written,
// later ones are counted and reported as one line when the window ends.
// Never a stack: a client's mistake is described by its message.
import type { Logger } from 'pino';

export interface LogLimitOptions {
  /** Lines written per key per window. */
  burst: number;
  windowMs: number;
}

export const DEFAULT_LOG_LIMIT: LogLimitOptions = { burst: 5, windowMs: 60_000 };

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

/** At most this many distinct keys are tracked; a client cannot grow the map without bound. */
const MAX_KEYS = 256;

export class LimitedLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly opts: LogLimitOptions = DEFAULT_LOG_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('warn', key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): void {
    this.write('error', key, fields, msg);
  }

  private write(level: 'warn' | 'error', key: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (w && t - w.start >= this.opts.windowMs) {
      if (w.suppressed > 0) {
        this.logger[level]({ key, suppressed: w.suppressed, window_ms: this.opts.windowMs }, `${msg} (repeats suppressed)`);
      }
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= MAX_KEYS) this.windows.delete(this.windows.keys().next().value as string);
      w = { start: t, written: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.written >= this.opts.burst) {
      w.suppressed++;
      return;
    }
    w.written++;
    this.logger[level](fields, msg);
  }
}
