// Where the agent's log lines go: stdout (fd 1), written asynchronously, and
// never able to block the process or its exit.
//
// Why not pino.destination() (sonic-boom 4.2.1/5.0.0): its flushSync(), which
// pino runs from an exit hook, retries every write error except EAGAIN/EBUSY
// forever with a 100 ms Atomics.wait. When whatever reads our stdout has gone
// (a launcher that exited, a closed pipe) the write fails with EPIPE, the
// retry never ends and `process.exit()` never returns: the agent hangs, the
// force-exit timer cannot fire, its ffmpeg children stay (issue 19 item 9).
//
// This destination:
// - drops every later line once a write fails with anything but EAGAIN (the
//   reader is gone; there is nobody to tell), counting what it dropped;
// - holds at most `maxQueuedBytes` while the reader is slow (a reader that
//   stops reading costs memory up to that bound, then lines are dropped);
// - flushSync(deadline) writes what is queued synchronously but gives up at
//   the deadline, so exit always proceeds.
import fs from 'node:fs';

export interface LogDestinationOptions {
  fd?: number;
  /** Bytes held while the reader is slower than the agent; later lines are dropped. Default 4 MiB. */
  maxQueuedBytes?: number;
}

/** How long flushSync waits between attempts when the pipe is full. */
const FULL_PIPE_WAIT_MS = 10;

export class LogDestination {
  private readonly fd: number;
  private readonly maxQueued: number;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** The buffer an asynchronous write is writing now (no longer in `queue`). */
  private inFlight: Buffer | null = null;
  /** Waiting to retry after a full pipe (EAGAIN). */
  private retrying = false;
  /** Why output stopped (the error code), or null while it flows. */
  gone: string | null = null;
  /** Lines (or chunks of lines already joined for one write) dropped: after the reader went away, or while the queue was full. */
  dropped = 0;

  constructor(o: LogDestinationOptions = {}) {
    this.fd = o.fd ?? 1;
    this.maxQueued = o.maxQueuedBytes ?? 4 * 1024 * 1024;
  }

  /** pino calls this with one serialized line. Never throws, never blocks. */
  write(line: string): boolean {
    if (this.gone !== null) {
      this.dropped++;
      return true;
    }
    const buf = Buffer.from(line);
    if (this.queuedBytes + buf.length > this.maxQueued) {
      this.dropped++;
      return true;
    }
    this.queue.push(buf);
    this.queuedBytes += buf.length;
    if (this.inFlight === null && !this.retrying) this.writeNext();
    return true;
  }

  /** pino's logger.flush(cb): resolves once what is queued now has been written (or dropped). */
  flush(cb?: (err?: Error) => void): void {
    if (!cb) return;
    const check = () => ((this.inFlight !== null || this.queue.length > 0) && this.gone === null ? setImmediate(check) : cb());
    check();
  }

  /**
   * Writes what is queued synchronously, for the last lines before exit; returns when all is written,
   * the reader is gone, or `deadlineMs` has passed — never later. (A write already in flight is left to
   * finish on its own.)
   */
  flushSync(deadlineMs = 500): void {
    const end = Date.now() + deadlineMs;
    while (this.queue.length > 0 && this.gone === null) {
      const buf = this.queue[0] as Buffer;
      try {
        const n = fs.writeSync(this.fd, buf);
        this.queuedBytes -= n;
        if (n >= buf.length) this.queue.shift();
        else this.queue[0] = buf.subarray(n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        if (code !== 'EAGAIN' || Date.now() >= end) {
          this.giveUp(code === 'EAGAIN' ? 'flush deadline' : code);
          return;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, FULL_PIPE_WAIT_MS);
      }
    }
  }

  private writeNext(): void {
    if (this.inFlight !== null || this.queue.length === 0 || this.gone !== null) return;
    // One write for everything queued so far: few syscalls under a burst.
    const buf = this.queue.length > 1 ? Buffer.concat(this.queue) : (this.queue[0] as Buffer);
    this.queue = [];
    this.queuedBytes -= buf.length;
    this.inFlight = buf;
    fs.write(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.inFlight = null;
      if (err && err.code !== 'EAGAIN') {
        this.queue.unshift(buf); // counted as dropped with the rest
        this.giveUp(err.code ?? 'error');
        return;
      }
      const rest = err ? buf : buf.subarray(n);
      if (rest.length > 0) {
        this.queue.unshift(rest);
        this.queuedBytes += rest.length;
      }
      // A full pipe (EAGAIN): try again shortly, without keeping the process alive for it.
      if (!err) return this.writeNext();
      this.retrying = true;
      setTimeout(() => {
        this.retrying = false;
        this.writeNext();
      }, FULL_PIPE_WAIT_MS).unref();
    });
  }

  private giveUp(why: string): void {
    this.gone = why;
    this.dropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
  }
}

let stdoutDestination: LogDestination | null = null;

/** The process's one stdout log destination (created on first use). */
export function stdoutLogDestination(): LogDestination {
  stdoutDestination ??= new LogDestination({ fd: 1 });
  return stdoutDestination;
}

/** Before exit: write the queued log lines, giving up after `deadlineMs`. A no-op when stdout logging is unused. */
export function flushStdoutLogs(deadlineMs = 500): void {
  stdoutDestination?.flushSync(deadlineMs);
}
