// A "link" to a device whose session a vendor library keeps (atem-connection
// for Blackmagic ATEM: its own UDP socket, handshake, acknowledgements and
// state dump). The library owns the wire; the device lifecycle
// (src/transport/lifecycle.ts) still owns the status, the attempts and the
// backoff, as for every other device: this link opens the library's session
// once per attempt, waits a bounded time for it to be ready, reports its loss
// as `down`, and closes the library's session when the lifecycle ends an
// attempt, so the library's own retry loop never runs beside the lifecycle's
// backoff. Liveness: `heard()` (the driver calls it from its probe while the
// library says the session is up, or on any traffic the library reports)
// emits `answered`, which the lifecycle counts like a byte.
import type { TimerHandle } from '../util/clock.js';
import { DeviceError } from '../util/errors.js';
import { Link, type LinkOptions } from './link.js';

export interface SessionLinkOptions extends LinkOptions {
  /** What the status messages call the device, e.g. `ATEM at 10.0.0.5:9910`. */
  label: string;
  /** Starts the library's session; resolves once the session is ready (handshake and state dump done). */
  open(signal: AbortSignal): Promise<void>;
  /** Ends the library's session and stops anything it retries on its own. Idempotent. */
  close(): Promise<void>;
  /** Longest `open` may take before the attempt fails (ms). */
  openTimeoutMs: number;
}

export class SessionLink extends Link {
  private pending: AbortController | null = null;

  constructor(private readonly so: SessionLinkOptions) {
    super(so);
  }

  describe(): string {
    return this.so.label;
  }

  /** Bytes do not go through this link: the driver talks to the device through the library. */
  write(): void {
    throw new DeviceError(`${this.so.label}: the session is kept by the vendor library; send through it`, 'DEVICE_ERROR');
  }

  /** The device was heard (the library reports the session alive, or traffic). */
  heard(): void {
    if (this.connected) this.emit('answered');
  }

  /** The library reports the session lost (the device stopped answering). */
  sessionLost(reason: string): void {
    if (this.connected) this.lost(reason);
  }

  protected async open(): Promise<void> {
    const abort = new AbortController();
    this.pending = abort;
    const ms = this.so.openTimeoutMs;
    let timer: TimerHandle | null = null;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        abort.abort();
        reject(new DeviceError(`no answer within ${ms} ms`, 'DEVICE_TIMEOUT'));
      }, ms);
    });
    try {
      await Promise.race([this.so.open(abort.signal), timeout]);
    } finally {
      this.clock.clearTimeout(timer);
      if (this.pending === abort) this.pending = null;
    }
  }

  protected async close(): Promise<void> {
    this.pending?.abort();
    this.pending = null;
    await this.so.close();
  }
}
