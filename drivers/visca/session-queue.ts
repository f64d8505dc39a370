// The sending half of a VISCA session (drivers/visca/session.ts, which reads the camera's
// replies): the queue, the one message on the wire and its reply timeout with its resends, and
// the commands running in the camera's sockets with their completion timeouts.
import { actionAborted } from '../../src/host/contract.js';
import { type ReusableTimer, reusableTimer, type TimerHandle } from '../../src/util/clock.js';
import { DeviceError } from '../../src/util/errors.js';
import { CompletionTimers, SOCKETS } from './completion-timers.js';
import { type Exchange, type Kind, makeExchange, noop, payloadTypeOf, removeAt } from './exchange.js';
import { encodeFrame, nextSequence } from './ip-header.js';
import type { CameraMessage } from './protocol.js';
import type { SendOptions, SessionOptions } from './session.js';

/** The queue and the wire of a ViscaSession (its base class): sends, times out, resends and settles. */
export class SessionQueue {
  /** Messages waiting to be sent, the one on the wire awaiting its first reply, and the commands running in sockets. */
  protected readonly queue: Exchange[] = [];
  protected inFlight: Exchange | null = null;
  protected readonly executing: Exchange[] = [];
  /** The Sony framing's next sequence number. */
  protected seq = 0;
  protected wakeTimer: TimerHandle | null = null;
  /** Messages that crossed the wire since start (diagnostics, tests). */
  stats = { sent: 0, resent: 0, timeouts: 0, busyRetries: 0, garbageBytes: 0, staleReplies: 0 };

  /** The reply timeout of the message on the wire (one at a time): one timer for the session's life. */
  protected readonly replyTimer: ReusableTimer;
  /** The completion timeouts of the commands running in the camera's sockets. */
  protected readonly completions: CompletionTimers;

  constructor(protected readonly o: SessionOptions) {
    this.replyTimer = reusableTimer(o.clock, this.replyTimedOut);
    this.completions = new CompletionTimers(o.clock, (ex) => this.noCompletion(ex));
  }

  /** No Completion came for a running command within its completion timeout. */
  private noCompletion(ex: Exchange): void {
    this.remove(this.executing, ex);
    if (ex.answerAt === 'ack') {
      // Answered already; some cameras never send a drive's Completion.
      this.o.logger?.debug({ label: ex.label }, 'no completion for a drive; socket assumed free');
    } else {
      this.fail(ex, new DeviceError(`${ex.label}: no completion within ${ex.completionTimeoutMs} ms`, 'DEVICE_TIMEOUT'), false);
    }
    this.pump();
  }

  protected enqueue(
    kind: Kind,
    label: string,
    bytes: Buffer,
    opts: SendOptions,
    match?: (m: CameraMessage) => unknown,
    socket = 0,
  ): Promise<unknown> {
    if (this.queue.length >= this.o.maxQueue) {
      return Promise.reject(
        new DeviceError(`${label}: camera busy, ${this.queue.length} requests already waiting`, 'DEVICE_BUSY'),
      );
    }
    if (opts.signal?.aborted || (opts.action !== undefined && actionAborted(opts.action))) {
      return Promise.reject(new DeviceError(`${label}: cancelled before it was sent`, 'DEVICE_ERROR'));
    }
    const ex = makeExchange(this.o, kind, label, bytes, opts, match, noop, noop);
    ex.socket = socket;
    // The exchange holds its promise's settlers (no executor closure over this call's arguments).
    settling = ex;
    const answer = new Promise(takeSettlers);
    settling = null;
    if (opts.priority) this.queue.unshift(ex);
    else this.queue.push(ex);
    this.pump();
    // Only a message not yet sent can be withdrawn; one on the wire runs to its reply. So the
    // listener is needed only when pump() left it queued (nothing runs in between): an idle
    // camera's message goes out at once, without a listener (and its allocations) per command.
    // (An action's signal is read only here, so an idle camera's message makes none.)
    if ((opts.signal || opts.action) && this.queue.includes(ex)) {
      (opts.signal ?? opts.action?.signal)?.addEventListener(
        'abort',
        () => {
          if (this.remove(this.queue, ex)) ex.reject(new DeviceError(`${label}: cancelled before it was sent`, 'DEVICE_ERROR'));
        },
        { once: true },
      );
    }
    return answer;
  }

  protected pump(): void {
    if (this.inFlight) return;
    const now = this.o.clock.now();
    let wakeAt = Number.POSITIVE_INFINITY;
    // A loop, not findIndex with a closure: pump runs at least twice per command.
    let i = -1;
    for (let k = 0; k < this.queue.length; k++) {
      const q = this.queue[k];
      if (q.kind === 'command' && this.executing.length >= SOCKETS) continue;
      if (q.notBefore > now) {
        wakeAt = Math.min(wakeAt, q.notBefore);
        continue;
      }
      i = k;
      break;
    }
    if (i < 0) {
      if (wakeAt < Number.POSITIVE_INFINITY && !this.wakeTimer) {
        this.wakeTimer = this.o.clock.setTimeout(() => {
          this.wakeTimer = null;
          this.pump();
        }, wakeAt - now);
      }
      return;
    }
    const ex = this.queue[i];
    if (i === 0) this.queue.shift();
    else removeAt(this.queue, i);
    this.inFlight = ex;
    if (ex.attempts === 0 || ex.kind === 'control') {
      ex.seq = this.seq;
      this.seq = nextSequence(this.seq);
    }
    this.transmit(ex);
  }

  private transmit(ex: Exchange): void {
    ex.attempts++;
    this.stats.sent++;
    if (ex.attempts > 1) this.stats.resent++;
    this.replyTimer.start(this.o.replyTimeoutMs);
    try {
      this.o.write(this.o.framing === 'sony-udp' ? encodeFrame(payloadTypeOf(ex.kind), ex.seq, ex.bytes) : ex.bytes);
    } catch (e) {
      this.fail(ex, e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * The reply timeout's one callback for every message: the message on the wire, since the
   * session's one reply timer is stopped whenever that message leaves the wire (clearInFlight,
   * failAll).
   */
  private readonly replyTimedOut = (): void => {
    if (this.inFlight) this.onReplyTimeout(this.inFlight);
  };

  private onReplyTimeout(ex: Exchange) {
    if (this.inFlight !== ex) return;
    this.stats.timeouts++;
    if (ex.attempts <= this.o.retries && this.o.framing === 'raw-tcp') {
      // TCP delivered the message or drops the connection: the camera has it and is slow. A resend
      // would only run it twice, and with no sequence numbers the duplicate's ACK and Completion
      // would be taken for the next message's. Wait the same total instead, without resending
      // (the PTZOptics Companion module never replays commands either [PROTOCOLS §1.4]).
      ex.attempts++;
      this.replyTimer.start(this.o.replyTimeoutMs);
      return;
    }
    if (ex.attempts <= this.o.retries) {
      // Same sequence number: the camera can tell a resend from a new message.
      this.o.logger?.debug({ label: ex.label, attempt: ex.attempts + 1 }, 'no reply, resending');
      return this.transmit(ex);
    }
    const reason =
      this.o.framing === 'raw-tcp'
        ? `${ex.label}: no reply within ${this.o.replyTimeoutMs * ex.attempts} ms`
        : `${ex.label}: no reply within ${this.o.replyTimeoutMs} ms (${ex.attempts} attempts)`;
    this.fail(ex, new DeviceError(reason, 'DEVICE_TIMEOUT'));
    this.o.onUnresponsive(reason);
  }

  protected settle(ex: Exchange, value: unknown): void {
    this.clearInFlight(ex);
    ex.resolve(value);
    this.pump();
  }

  protected fail(ex: Exchange, err: Error, wasInFlight = true): void {
    if (wasInFlight) this.clearInFlight(ex);
    ex.reject(err);
    this.pump();
  }

  protected clearInFlight(ex: Exchange): void {
    this.completions.disarm(ex);
    if (this.inFlight === ex) {
      this.replyTimer.stop();
      this.inFlight = null;
    }
  }

  protected remove(list: Exchange[], ex: Exchange): boolean {
    const i = list.indexOf(ex);
    if (i < 0) return false;
    removeAt(list, i);
    return true;
  }
}

/** The exchange whose promise is being made (its executor runs at once, inside enqueue). */
let settling: Exchange | null = null;
function takeSettlers(resolve: (v: unknown) => void, reject: (e: Error) => void): void {
  if (settling === null) return;
  settling.resolve = resolve;
  settling.reject = reject;
}
