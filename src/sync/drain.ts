// Moves outbox rows to the broker: QoS 1 in seq order on one connection,
// at most `window` unacknowledged, each row deleted when its PUBACK arrives.
import type { Outbox } from './outbox.js';
import type { MqttLink } from './link.js';

const READ_BATCH = 500;
const ACK_BATCH = 256;
const ACK_DELAY_MS = 5;

export class Drainer {
  private readonly inflight = new Set<number>();
  /** Highest seq handed to the current connection. */
  private lastSent = 0;
  private connection = 0;
  private up = false;
  private stopped = false;
  private acked: number[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  published = 0;
  acknowledged = 0;
  /** Called after acknowledged rows were deleted (e.g. to clear the dropping alert). */
  onAcked: (() => void) | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly link: MqttLink,
    private readonly topic: string,
    private readonly window: number,
  ) {}

  get inFlight(): number {
    return this.inflight.size;
  }

  /** A new connection: everything not yet acknowledged goes again, oldest first. */
  connected(): void {
    this.connection++;
    this.up = true;
    this.inflight.clear();
    this.lastSent = 0;
    this.flush();
  }

  /** Before the store closes: deletes what was acknowledged, schedules nothing more. */
  stop(): void {
    this.disconnected();
    this.stopped = true;
    this.flush();
  }

  disconnected(): void {
    this.connection++;
    this.up = false;
    this.inflight.clear();
  }

  /**
   * Called on every append. Deferred to the next turn: the append may sit
   * in a caller's open transaction, and an event must never leave before
   * the record it describes is committed.
   */
  schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.stopped) this.pump();
    });
  }

  pump(): void {
    while (this.up && this.inflight.size < this.window) {
      const rows = this.outbox.read(this.lastSent, Math.min(READ_BATCH, this.window - this.inflight.size));
      if (!rows.length) {
        // Drained: the cached row count may still count rolled-back appends.
        if (!this.inflight.size && !this.acked.length && this.outbox.meta().rows !== 0) this.outbox.resync();
        return;
      }
      const conn = this.connection;
      for (const row of rows) {
        this.lastSent = row.seq;
        this.inflight.add(row.seq);
        const sent = this.link.publish(this.topic, row.payload, { qos: 1 }, (err) => this.onPuback(conn, row.seq, err));
        if (!sent) {
          this.disconnected();
          return;
        }
        this.published++;
      }
    }
  }

  private onPuback(conn: number, seq: number, err: Error | undefined): void {
    if (this.stopped) return;
    // A callback from an earlier connection (error on close, or late ack):
    // the row is still in the outbox and is resent on the current one.
    if (conn !== this.connection || err) return;
    if (!this.inflight.delete(seq)) return;
    this.acked.push(seq);
    // Deletes are batched (one commit per batch): a row deleted a little late
    // costs at worst a duplicate after a crash, which the id dedups.
    if (this.acked.length >= ACK_BATCH) this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), ACK_DELAY_MS);
  }

  /** Deletes acknowledged rows in one transaction per turn, then refills the window. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const seqs = this.acked;
    this.acked = [];
    if (seqs.length) {
      this.outbox.ack(seqs);
      this.acknowledged += seqs.length;
      this.onAcked?.();
    }
    // Refill in chunks, not one row per PUBACK: one SELECT per quarter window.
    if (this.inflight.size <= this.window - Math.min(READ_BATCH, Math.ceil(this.window / 4))) this.pump();
  }
}
