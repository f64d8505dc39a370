// Shared by the microphone drivers (shure-mic, conference-mic): one normalised event stream.
import type { DriverContext } from '../host/contract.js';
import { isoNow } from './clock.js';

/**
 * Per-channel microphone state of one device: emits the normalised
 * `mic {channel, on, chairman, at}` event on every change and publishes the
 * channel map as device state (`channels`, `active`).
 */
export class MicChannels {
  private readonly on = new Map<number, boolean>();
  private readonly chairman = new Set<number>();
  private publishQueued = false;
  constructor(
    private readonly ctx: DriverContext,
    /** Seats configured as chairman (for protocols that do not say so). */
    chairmanSeats: readonly number[] = [],
  ) {
    for (const c of chairmanSeats) this.chairman.add(c);
  }

  set(channel: number, on: boolean, chairman = false, reason?: string): void {
    if (chairman) this.chairman.add(channel);
    const known = this.on.has(channel);
    const was = this.on.get(channel) ?? false;
    this.on.set(channel, on);
    if (was === on) {
      // A first "off" report is no change for the director, but the channel becomes visible.
      if (!known) this.publish();
      return;
    }
    const data: Record<string, unknown> = {
      channel,
      on,
      chairman: this.chairman.has(channel),
      at: isoNow(this.ctx.clock),
    };
    if (reason) data.reason = reason;
    this.ctx.emit({ type: 'mic', data });
    this.publish();
  }

  /** Every channel off, e.g. when the link is lost: nothing is known to be on any more. */
  allOff(reason: string): void {
    for (const channel of this.active()) this.set(channel, false, false, reason);
  }

  /** Makes exactly `channels` the ones that are on. */
  sync(channels: readonly number[], reason: string): void {
    const want = new Set(channels);
    for (const c of this.active()) if (!want.has(c)) this.set(c, false, false, reason);
    for (const c of want) this.set(c, true, false, reason);
  }

  active(): number[] {
    return [...this.on]
      .filter(([, v]) => v)
      .map(([k]) => k)
      .sort((a, b) => a - b);
  }

  /** Once per turn, after the `mic` events of the chunk went out (and the camera commands they
   * caused): the channel map is for displays, not for the director's decision. */
  private publish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      const channels = Object.fromEntries([...this.on].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
      this.ctx.setState({ channels, active: this.active() });
    });
  }
}
