// One message to the camera as the session tracks it (drivers/visca/session.ts): what it is, its
// sequence numbers and tries, the socket it runs in and its completion timer, and the caller's
// promise settlers; with the small helpers the session uses on it.
import type { TimerHandle } from '../../src/util/clock.js';
import { DeviceError } from '../../src/util/errors.js';
import { PAYLOAD } from './ip-header.js';
import type { CameraMessage } from './protocol.js';
import type { SendOptions, SessionOptions } from './session.js';

export type Kind = 'command' | 'inquiry' | 'control' | 'broadcast' | 'cancel';

export interface Exchange {
  kind: Kind;
  label: string;
  bytes: Buffer;
  seq: number;
  attempts: number;
  socket: number;
  busyRetried: boolean;
  seqErrors: number;
  notBefore: number;
  /** Its completion timeout while it runs in a socket: one of the session's slot timers, else a clock timer (the reply timeout is the session's: replyTimer). */
  slot: number;
  timer: TimerHandle | null;
  completionTimeoutMs: number;
  /** 'ack': the command answers at its ACK (continuous drives); its Completion only frees the socket. */
  answerAt: 'ack' | 'completion';
  /** Drives of one motor replace each other in the camera: a newer drive's ACK retires the older one. */
  drive: 'pan-tilt' | 'zoom' | null;
  /** Sequence numbers this command was sent with before (a late ACK or Completion for them counts); null: none. */
  earlierSeqs: number[] | null;
  acked: boolean;
  /** For broadcasts: picks the answer out of the camera's messages. */
  match?: (m: CameraMessage) => unknown;
  /** The caller's options, whose `onAck` is called as their method. */
  send: SendOptions;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export const noop = () => undefined;

/** A new exchange: its completion timeout from `opts`, else the session's defaults (`o`). */
export function makeExchange(
  o: SessionOptions,
  kind: Kind,
  label: string,
  bytes: Buffer,
  opts: SendOptions,
  match: ((m: CameraMessage) => unknown) | undefined,
  resolve: (v: unknown) => void,
  reject: (e: Error) => void,
): Exchange {
  return {
    kind,
    label,
    bytes,
    seq: 0,
    attempts: 0,
    socket: 0,
    busyRetried: false,
    seqErrors: 0,
    notBefore: 0,
    slot: -1,
    timer: null,
    // A camera that sends a drive's Completion sends it at once; one that does not never will.
    completionTimeoutMs: opts.completionTimeoutMs ?? (opts.drive ? o.replyTimeoutMs * (o.retries + 1) : o.completionTimeoutMs),
    answerAt: opts.drive ? 'ack' : 'completion',
    drive: opts.drive ?? null,
    earlierSeqs: null,
    acked: false,
    match,
    send: opts,
    resolve,
    reject,
  };
}

/** Removes entry `i` in place (splice would allocate the array of what it removed). */
export function removeAt(list: Exchange[], i: number): void {
  for (let k = i; k < list.length - 1; k++) list[k] = list[k + 1];
  list.pop();
}

/** Whether a Sony reply with this sequence number answers the exchange (its number now or an earlier one). */
export function answersTo(ex: Exchange, sequence: number): boolean {
  return ex.seq === sequence || ex.earlierSeqs?.includes(sequence) === true;
}

export function payloadTypeOf(kind: Kind): number {
  return kind === 'control' ? PAYLOAD.control : kind === 'inquiry' ? PAYLOAD.inquiry : PAYLOAD.command;
}

export function viscaError(label: string, code: number, reason: string): DeviceError {
  return new DeviceError(`${label}: camera answered "${reason}"`, code === 0x03 ? 'DEVICE_BUSY' : 'DEVICE_ERROR', {
    visca_error: code,
  });
}
