import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { Backoff, type BackoffOptions } from './backoff.js';

/**
 * A byte link to a device that reconnects by itself.
 * Events: `up` (description), `down` (reason), `data` (Buffer, sender?).
 * Drivers react to `up` (handshake, then report online) and `down` (offline).
 */
export interface LinkEvents {
  up: [info: string];
  down: [reason: string];
  data: [chunk: Buffer, from?: { address: string; port: number }];
}

export interface LinkOptions {
  backoff?: BackoffOptions;
  logger?: Logger;
  clock?: Clock;
}

export abstract class Link extends EventEmitter<LinkEvents> {
  protected readonly backoff: Backoff;
  protected readonly clock: Clock;
  protected readonly logger?: Logger;
  private retryTimer: TimerHandle | null = null;
  private running = false;
  private isUp = false;
  /** How many times the link came up after the first time. */
  reconnects = 0;
  private everUp = false;

  constructor(opts: LinkOptions = {}) {
    super();
    this.backoff = new Backoff(opts.backoff);
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger;
  }

  get connected(): boolean {
    return this.isUp;
  }

  /** Starts connecting; never throws for an unreachable device. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt();
  }

  /** Closes the link and stops reconnecting. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.close();
    this.markDown('stopped');
  }

  /** Drops the connection (e.g. a desynchronised protocol) and reconnects with backoff. */
  reconnect(reason: string): void {
    if (!this.running) return;
    void this.close().then(() => {
      this.markDown(reason);
      this.scheduleRetry();
    });
  }

  abstract write(data: Buffer | string): void;
  abstract describe(): string;
  protected abstract open(): Promise<void>;
  protected abstract close(): Promise<void>;

  /** Subclasses call this when the underlying socket closes or fails. */
  protected lost(reason: string): void {
    const wasUp = this.isUp;
    this.markDown(reason);
    if (this.running && (wasUp || this.retryTimer === null)) {
      void this.close().then(() => this.scheduleRetry());
    }
  }

  private attempt(): void {
    this.retryTimer = null;
    if (!this.running) return;
    this.open().then(
      () => {
        if (!this.running) {
          void this.close();
          return;
        }
        this.backoff.reset();
        if (this.everUp) this.reconnects++;
        this.everUp = true;
        this.isUp = true;
        this.lastDownReason = '';
        this.emit('up', this.describe());
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.logger?.debug({ link: this.describe(), reason }, 'connect failed');
        this.markDown(reason);
        void this.close().then(() => this.scheduleRetry());
      },
    );
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    const delay = this.backoff.next();
    this.retryTimer = this.clock.setTimeout(() => this.attempt(), delay);
  }

  /** Emits `down` on every up→down transition and on every failed attempt
   * (so drivers can show the latest reason), never twice for one close. */
  private markDown(reason: string): void {
    if (this.isUp) {
      this.isUp = false;
      this.emit('down', reason);
      return;
    }
    if (reason !== this.lastDownReason || !this.running) this.emit('down', reason);
    this.lastDownReason = reason;
  }
  private lastDownReason = '';
}
