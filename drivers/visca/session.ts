// The per-camera conversation: one message on the wire awaiting its first
// reply (ACK, inquiry reply or error), at most two commands executing in the
// camera's two sockets, replies correlated by sequence number (Sony framing)
// or by order and socket (raw framings). Transport-agnostic: the driver hands
// in `write` and feeds received bytes to `receive`. This file reads the camera's messages; the
// queue, the wire and the timeouts are session-queue.ts.
import type { Logger } from 'pino';
import type { ActionContext } from '../../src/host/contract.js';
import type { Clock } from '../../src/util/clock.js';
import { DeviceError } from '../../src/util/errors.js';
import { CONTROL, framePayloadType, frameProblem, frameSequence, HEADER_LENGTH, PAYLOAD } from './ip-header.js';
import { type CameraMessage, decodeMessage, decodeMessageAt, encode, hex, ViscaStreamDecoder } from './protocol.js';
import { answersTo, type Exchange, makeExchange, noop, viscaError } from './exchange.js';
import { SessionQueue } from './session-queue.js';

export type Framing = 'sony-udp' | 'raw-tcp' | 'raw-udp' | 'serial';

export interface SessionOptions {
  framing: Framing;
  /** Camera address 1–7 (replies come from header (address+8)<<4). */
  address: number;
  write: (bytes: Buffer) => void;
  clock: Clock;
  logger?: Logger;
  replyTimeoutMs: number;
  /** Resends after a reply timeout (Sony framing: same sequence number). */
  retries: number;
  completionTimeoutMs: number;
  /** Delay before the one retry after `60 03` (command buffer full). */
  busyRetryMs: number;
  maxQueue: number;
  /** A message got no reply after all resends: the camera is not answering. */
  onUnresponsive: (reason: string) => void;
  onNetworkChange: () => void;
  /** Bytes that were not VISCA (counted; the driver logs them rate-limited). */
  onGarbage: (bytes: number, sample: string) => void;
}

export interface SendOptions {
  signal?: AbortSignal;
  /**
   * The device action the message belongs to: like `signal`, its abort withdraws the message while
   * it is still queued. Its signal is read only then, so a message sent at once makes none.
   */
  action?: ActionContext;
  /** Jump the queue (e.g. `stop` must not wait behind queued moves). */
  priority?: boolean;
  completionTimeoutMs?: number;
  /** Called (as a method of these options) when the camera accepted the command (ACK, or proof that it ran). */
  onAck?: () => void;
  /** Continuous drives (pan-tilt drive, zoom tele/wide/stop): answer at the ACK, since some
   * cameras never send their Completion; a later drive retires the earlier one. */
  drive?: 'pan-tilt' | 'zoom';
}

export class ViscaSession extends SessionQueue {
  private readonly stream = new ViscaStreamDecoder();
  private readonly fromHeaders: Set<number>;
  private toleratedNoted = false;
  constructor(o: SessionOptions) {
    super(o);
    // Over IP the reply header is fixed at 90 whatever the address [PROTOCOLS §1.1].
    this.fromHeaders = new Set([o.address, ...(o.framing === 'serial' ? [] : [1])]);
  }

  /** Sends a socket command; resolves on Completion. */
  command(label: string, bytes: Buffer, opts: SendOptions = {}): Promise<void> {
    return this.enqueue('command', label, bytes, opts) as Promise<void>;
  }
  /** Sends an inquiry; resolves with the reply data (between `y0 50` and FF). */
  inquiry(label: string, bytes: Buffer, opts: SendOptions = {}): Promise<Buffer> {
    return this.enqueue('inquiry', label, bytes, opts) as Promise<Buffer>;
  }
  /** Sony framing: RESET the camera's sequence counter. Ours restarts at 0 once it is acknowledged. */
  reset(): Promise<void> {
    return this.enqueue('control', 'RESET', CONTROL.reset, { priority: true }) as Promise<void>;
  }
  /** Serial interface broadcasts (AddressSet, IF_Clear): `match` picks the answer. */
  broadcast<T>(label: string, bytes: Buffer, match: (m: CameraMessage) => T | undefined): Promise<T> {
    return this.enqueue('broadcast', label, bytes, { priority: true }, match) as Promise<T>;
  }

  /** Cancels the commands running in the camera's sockets (`8x 2z FF`); they fail with "command canceled". */
  async cancelRunning(address: number, action?: ActionContext): Promise<void> {
    const sockets = [...new Set(this.executing.map((e) => e.socket))];
    const opts = { priority: true, action };
    await Promise.all(
      sockets.map((z) => this.enqueue('cancel', `cancel socket ${z}`, encode.cancel(address, z), opts, undefined, z)),
    );
  }

  get busySockets(): number {
    return this.executing.length;
  }
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0) + this.executing.length;
  }

  /** Fails everything queued, on the wire and executing (link lost, camera silent, stop). */
  failAll(err: Error): void {
    const all = [...(this.inFlight ? [this.inFlight] : []), ...this.executing.splice(0), ...this.queue.splice(0)];
    this.inFlight = null;
    this.replyTimer.stop();
    this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    this.stream.reset();
    for (const ex of all) {
      this.completions.disarm(ex);
      ex.reject(err);
    }
  }

  /** Feeds bytes from the link: one datagram (UDP) or any chunk of the stream (TCP, serial). */
  receive(chunk: Buffer) {
    if (this.o.framing === 'sony-udp') return this.receiveFrame(chunk);
    // A UDP datagram is self-contained; a byte stream keeps its partial packet for the next chunk.
    const dec = this.o.framing === 'raw-udp' ? new ViscaStreamDecoder() : this.stream;
    const before = dec.garbageBytes;
    const packets = dec.push(chunk);
    const skipped = dec === this.stream ? dec.garbageBytes - before : chunk.length - packets.reduce((n, p) => n + p.length, 0);
    if (skipped > 0) this.garbage(skipped, chunk);
    for (const p of packets) this.handle(decodeMessage(p), null, p, 0);
  }

  private receiveFrame(d: Buffer) {
    // Read in place: no frame object or payload view for every ACK and Completion.
    if (frameProblem(d) !== null) return this.garbage(d.length, d);
    const payloadType = framePayloadType(d);
    const sequence = frameSequence(d);
    // The camera's ERRORs travel as control commands (02 00); only the RESET
    // acknowledge is a control reply (02 01) [SRG-300H / BRC-X400 technical
    // manuals, VISCA over IP]. Errors on 02 01 are tolerated as well.
    if (payloadType === PAYLOAD.control || payloadType === PAYLOAD.controlReply) {
      return this.handleControl(payloadType, sequence, d.subarray(HEADER_LENGTH));
    }
    if (payloadType !== PAYLOAD.reply) return this.garbage(d.length, d);
    this.handle(decodeMessageAt(d, HEADER_LENGTH), sequence, d, HEADER_LENGTH);
  }

  /** The exchange a Sony reply belongs to: the message on the wire, or a command running in a socket. */
  private ownerOf(sequence: number): Exchange | null {
    // Loops, not a closure and find(): every ACK and Completion asks.
    if (this.inFlight && answersTo(this.inFlight, sequence)) return this.inFlight;
    for (let i = 0; i < this.executing.length; i++) if (answersTo(this.executing[i], sequence)) return this.executing[i];
    return null;
  }

  private handleControl(payloadType: number, sequence: number, payload: Buffer) {
    if (payloadType === PAYLOAD.controlReply && payload.equals(CONTROL.reset)) {
      // RESET's acknowledge: the header's sequence number is meaningless for RESET.
      const ex = this.inFlight;
      if (ex?.kind !== 'control') return this.stale();
      this.seq = 0;
      return this.settle(ex, undefined);
    }
    const isSequenceError = payload.equals(CONTROL.errorSequence);
    if (!isSequenceError && !payload.equals(CONTROL.errorMessage)) return this.garbage(payload.length, payload);
    if (payloadType === PAYLOAD.controlReply && !this.toleratedNoted) {
      this.toleratedNoted = true;
      this.o.logger?.debug('camera sends VISCA-over-IP errors as control replies (02 01); accepted');
    }
    // The camera copies the sequence number of the message it is answering.
    const ex = this.inFlight && this.ownerOf(sequence) === this.inFlight ? this.inFlight : null;
    if (!ex) {
      // E.g. the error for a resend whose late ACK already arrived: the message it is about has moved on.
      this.o.logger?.debug({ sequence, error: hex(payload) }, 'control error for a message no longer on the wire ignored');
      return this.stale();
    }
    if (!isSequenceError) {
      return this.fail(ex, new DeviceError(`${ex.label}: camera rejected the message ("abnormal message")`, 'DEVICE_ERROR'));
    }
    this.clearInFlight(ex);
    if (ex.kind === 'control') {
      return this.fail(ex, new DeviceError(`${ex.label}: camera answered "abnormal sequence number"`, 'DEVICE_ERROR'), false);
    }
    if (ex.attempts > 1 && ex.kind === 'command') {
      // A resend of a message the camera had received: it ran the command, and
      // only its ACK or Completion was lost [Sony delivery-confirmation table].
      if (!ex.acked) this.acked(ex);
      if (ex.answerAt === 'ack') return this.settle(ex, undefined);
      // The Completion still comes if only the ACK was lost; if it was lost
      // too, the manual says to resend with a new sequence number to get the
      // result. Every command we send is idempotent, so do that and let
      // whichever Completion comes first (old or new number) settle it.
      this.o.logger?.debug({ label: ex.label }, 'resend answered "abnormal sequence number": command ran; asking for its result');
    }
    if (++ex.seqErrors > 2) {
      const why = ex.acked
        ? 'camera ran the command but its result never arrived'
        : 'camera keeps answering "abnormal sequence number"';
      return this.fail(ex, new DeviceError(`${ex.label}: ${why}`, 'DEVICE_ERROR'), false);
    }
    // An inquiry whose reply was lost, a command whose result we still need,
    // or counters out of step (a first try): send again with a new sequence
    // number, after a RESET when it was the first try.
    const firstTry = ex.attempts === 1;
    (ex.earlierSeqs ??= []).push(ex.seq);
    ex.attempts = 0;
    this.queue.unshift(ex);
    if (firstTry) this.queue.unshift(makeExchange(this.o, 'control', 'RESET', CONTROL.reset, {}, undefined, noop, noop));
    return this.pump();
  }

  /** One camera message, decoded from `raw` after `start` (the VISCA-over-IP header, if any). */
  private handle(m: CameraMessage, sequence: number | null, raw: Buffer, start: number) {
    if (m.type === 'unknown') return this.garbage(raw.length - start, raw.subarray(start));
    if (m.type === 'network-change') return this.o.onNetworkChange();
    if ('from' in m && !this.fromHeaders.has(m.from)) {
      this.o.logger?.debug({ from: m.from, bytes: hex(raw.subarray(start)) }, 'message from another camera ignored');
      return;
    }
    const ex = this.inFlight;
    if (ex?.kind === 'cancel' && m.type === 'error' && m.socket === ex.socket && (m.code === 0x04 || m.code === 0x05)) {
      // `6z 04`: the command in socket z was cancelled (no Completion follows);
      // `6z 05`: no command in that socket (it had already ended, or never held one).
      const running = this.executing.find((e) => e.socket === m.socket);
      if (running && m.code === 0x04) this.handleExecuting(running, m);
      else if (running) this.retire(running);
      return this.settle(ex, m.code === 0x04);
    }
    if (ex?.kind === 'broadcast') {
      const v = ex.match?.(m);
      if (v !== undefined) this.settle(ex, v);
      return;
    }
    // Sony framing: the reply carries the sequence number of its message.
    if (sequence !== null) {
      const owner = this.ownerOf(sequence);
      if (!owner) return this.stale();
      if (owner !== ex) return this.handleExecuting(owner, m);
    }
    if (sequence === null && (m.type === 'completion' || (m.type === 'error' && m.socket !== 0))) {
      const running = this.executing.find((e) => e.socket === m.socket);
      if (running) return this.handleExecuting(running, m);
    }
    if (!ex) return this.stale();
    switch (m.type) {
      case 'ack':
        if (ex.kind !== 'command') return this.stale();
        this.clearInFlight(ex);
        ex.socket = m.socket;
        this.executing.push(ex);
        if (!ex.acked) this.acked(ex);
        this.completions.arm(ex);
        return this.pump();
      case 'completion':
        // Completion without an ACK (some cameras skip it for instant commands).
        if (ex.kind !== 'command') return this.stale();
        if (!ex.acked) this.acked(ex);
        return this.settle(ex, undefined);
      case 'reply':
        if (ex.kind === 'inquiry') return this.settle(ex, m.data);
        if (ex.kind === 'command' && m.data.length === 0) return this.settle(ex, undefined);
        return this.stale();
      case 'error':
        if (ex.acked) {
          // Asked again for the result of a command the camera said it ran: it ran, whatever this answer.
          this.o.logger?.debug({ label: ex.label, error: m.reason }, 'command ran; its result could not be read back');
          return this.settle(ex, undefined);
        }
        if (m.code === 0x03 && ex.kind === 'command' && !ex.busyRetried) {
          // Both sockets busy (another controller?): retry once, shortly.
          this.stats.busyRetries++;
          this.clearInFlight(ex);
          ex.busyRetried = true;
          ex.attempts = 0;
          ex.notBefore = this.o.clock.now() + this.o.busyRetryMs;
          this.queue.unshift(ex);
          return this.pump();
        }
        return this.fail(ex, viscaError(ex.label, m.code, m.reason));
      default:
        return this.stale();
    }
  }

  /** The command was accepted (ACK, or proof that it ran): tell the caller, answer drives. */
  private acked(ex: Exchange): void {
    ex.acked = true;
    if (ex.drive) {
      // The camera runs one drive per motor at a time: a newer drive replaces the older one.
      for (const old of this.executing.filter((e) => e !== ex && e.drive === ex.drive)) {
        this.retire(old);
      }
    }
    ex.send.onAck?.();
    if (ex.answerAt === 'ack') ex.resolve(undefined);
  }

  /** Drops a running command whose end we will not hear about (it answered already, or the camera says it ended). */
  private retire(ex: Exchange): void {
    this.remove(this.executing, ex);
    this.completions.disarm(ex);
    ex.resolve(undefined);
  }

  private handleExecuting(ex: Exchange, m: CameraMessage) {
    if (m.type === 'completion') {
      this.remove(this.executing, ex);
      this.completions.disarm(ex);
      if (this.inFlight === ex) this.clearInFlight(ex);
      if (!ex.acked) this.acked(ex);
      ex.resolve(undefined);
      return this.pump();
    }
    if (m.type === 'error' && this.inFlight !== ex) {
      this.remove(this.executing, ex);
      this.completions.disarm(ex);
      ex.reject(viscaError(ex.label, m.code, m.reason));
      return this.pump();
    }
    // A repeated ACK (after a resend) changes nothing.
    this.stale();
  }

  private stale(): void {
    this.stats.staleReplies++;
  }

  private garbage(n: number, sample: Uint8Array): void {
    this.stats.garbageBytes += n;
    this.o.onGarbage(n, hex(sample.subarray(0, 24)));
  }
}
