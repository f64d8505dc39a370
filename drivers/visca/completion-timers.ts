// The completion timeouts of the commands running in a VISCA camera's sockets (drivers/visca/session.ts).
import { type Clock, type ReusableTimer, reusableTimer } from '../../src/util/clock.js';
import type { Exchange } from './exchange.js';

/** Sony cameras (and the PTZOptics family) have two command sockets. */
export const SOCKETS = 2;

/** One reusable timer per socket, for the session's life; `expired` hears of a command whose timeout fired. */
export class CompletionTimers {
  /** The commands running in the camera's sockets, by slot, and their completion timers. */
  private readonly slotHolders: (Exchange | null)[] = [];
  private readonly slotTimers: ReusableTimer[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly expired: (ex: Exchange) => void,
  ) {
    for (let slot = 0; slot < SOCKETS; slot++) {
      this.slotHolders.push(null);
      this.slotTimers.push(reusableTimer(clock, () => this.slotTimedOut(slot)));
    }
  }

  /**
   * Arms the completion timeout of a command now running in a socket. The camera runs at most
   * SOCKETS commands: each running command takes one of these reusable timers (any
   * more, should a camera ever ACK them, get a clock timer of their own).
   */
  arm(ex: Exchange): void {
    const slot = this.slotHolders.indexOf(null);
    if (slot < 0) {
      ex.timer = this.clock.setTimeout(() => this.expired(ex), ex.completionTimeoutMs);
      return;
    }
    this.slotHolders[slot] = ex;
    ex.slot = slot;
    this.slotTimers[slot].start(ex.completionTimeoutMs);
  }

  disarm(ex: Exchange): void {
    if (ex.slot >= 0) {
      this.slotTimers[ex.slot].stop();
      this.slotHolders[ex.slot] = null;
      ex.slot = -1;
    }
    this.clock.clearTimeout(ex.timer);
    ex.timer = null;
  }

  /** A slot's completion timeout fired: the command it holds. */
  private slotTimedOut(slot: number): void {
    const ex = this.slotHolders[slot];
    if (!ex) return;
    this.slotHolders[slot] = null;
    ex.slot = -1;
    this.expired(ex);
  }
}
