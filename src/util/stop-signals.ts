// SIGTERM / SIGINT for `room-agent start`, installed before the agent is even
// loaded. A first signal asks for a clean stop — at once if the agent is
// already there, else as soon as it is built (or, when it came before anything
// was opened, by simply not starting). A second signal leaves at once: the
// operator (or systemd's final stop) has waited long enough.
export type StopSignal = 'SIGTERM' | 'SIGINT';

export class StopSignals {
  /** The first signal received, or null. */
  requested: StopSignal | null = null;
  private stop: ((signal: StopSignal) => void) | null = null;
  private force: (() => void) | null = null;

  constructor(private readonly proc: NodeJS.Process = process) {}

  install(): void {
    for (const s of ['SIGTERM', 'SIGINT'] as const) this.proc.on(s, () => this.receive(s));
  }

  /** What a first signal does once the agent exists; runs now if one already came. */
  onStop(fn: (signal: StopSignal) => void): void {
    this.stop = fn;
    if (this.requested) fn(this.requested);
  }

  /** What a second signal does (exit without waiting for the clean stop). */
  onForce(fn: () => void): void {
    this.force = fn;
  }

  private receive(signal: StopSignal): void {
    if (this.requested) {
      if (this.force) this.force();
      else this.proc.exit(1);
      return;
    }
    this.requested = signal;
    this.stop?.(signal);
  }
}
