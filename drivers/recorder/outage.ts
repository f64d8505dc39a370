// An outage inside a recording session: ffmpeg restarting because its input
// is gone (e.g. go2rtc restarting mid-meeting). One that outlasts the alert
// delay is announced once as `recorder.alert`; its end as `recorder.resumed`.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import type { LastGap } from './recording.js';

export interface OutageEvents {
  alert(data: { reason: string; session: string; since: string }): void;
  resumed(data: { session: string; since: string; until: string | null }): void;
}

export class OutageWatch {
  private timer: TimerHandle | null = null;
  private alerted: { session: string; since: string } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly alertAfterS: number,
    private readonly logger: Logger,
    private readonly events: OutageEvents,
  ) {}

  /** Called on every change of the session: `gap` is its last gap (open while `end` is null). */
  update(session: string | null, gap: LastGap | null): void {
    const open = session !== null && gap !== null && gap.end === null;
    if (open && !this.timer && !this.alerted) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        if (gap.end !== null) return;
        this.alerted = { session, since: gap.start };
        const reason = `not recording for ${this.alertAfterS} s (since ${gap.start}; ffmpeg restarting): ${gap.reason}`;
        this.logger.warn({ session }, reason);
        this.events.alert({ reason, session, since: gap.start });
      }, this.alertAfterS * 1000);
    } else if (!open) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      const was = this.alerted;
      this.alerted = null;
      if (was && session !== null) this.events.resumed({ ...was, until: gap?.end ?? null });
    }
  }

  /** The session ended: nothing more to say about it. */
  reset(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.alerted = null;
  }
}
