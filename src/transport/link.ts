import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';
import { Backoff, type BackoffOptions } from './backoff.js';

/**
 * A byte link to a device. Two ways to drive it:
 * - under the device lifecycle (src/transport/lifecycle.ts): the lifecycle calls
 *   `connectOnce` / `disconnect` and owns retrying, backoff and status;
 * - by itself (`start`): it reconnects with backoff (kept for links not yet
 *   under the lifecycle); the backoff resets only after the link stayed up for
 *   `stableMs`, never on the connect itself.
 * Events: `up` (description), `down` (reason), `data` (Buffer, sender?), `answered`
 * (a link with no byte stream, e.g. HTTP, got an answer: the device is alive).
 */
export interface LinkEvents {
  up: [info: string];
  down: [reason: string];
  data: [chunk: Buffer, from?: { address: string; port: number }];
  answered: [];
}

export interface LinkOptions {
  backoff?: BackoffOptions;
  /** Self-reconnecting mode: how long the link must stay up before the backoff starts again from its first delay (ms). */
  stableMs?: number;
  logger?: Logger;
  clock?: Clock;
}

export abstract class Link extends EventEmitter<LinkEvents> {
  protected readonly backoff: Backoff;
  protected readonly clock: Clock;
  protected readonly logger?: Logger;
  private retryTimer: TimerHandle | null = null;
  private stableTimer: TimerHandle | null = null;
  private readonly stableMs: number;
  private running = false;
  /** Driven by `connectOnce` (the lifecycle): a loss is reported once and nothing retries. */
  private manual = false;
  private isUp = false;
  /** How many times the link came up after the first time. */
  reconnects = 0;
  private everUp = false;

  constructor(opts: LinkOptions = {}) {
    super();
    this.backoff = new Backoff(opts.backoff);
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger;
    this.stableMs = opts.stableMs ?? 30_000;
  }

  get connected(): boolean {
    return this.isUp;
  }

  /**
   * One connection attempt for a caller that owns retrying (the device lifecycle). Resolves once
   * the link is up (and `up` was emitted); rejects with the reason it could not connect. A later
   * loss emits `down` once; nothing reconnects by itself.
   */
  async connectOnce(): Promise<void> {
    if (this.running) throw new Error(`${this.describe()}: connectOnce on a self-reconnecting link`);
    this.manual = true;
    if (this.isUp) return;
    try {
      await this.open();
    } catch (e) {
      await this.close().catch(() => undefined);
      throw e;
    }
    this.isUp = true;
    this.emit('up', this.describe());
  }

  /** Closes a link opened with `connectOnce`; emits `down` (with `reason`) if it was up. Idempotent. */
  async disconnect(reason: string): Promise<void> {
    await this.close();
    this.markDown(reason);
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
    this.clock.clearTimeout(this.stableTimer);
    this.stableTimer = null;
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
        // Connecting is not success: a device that accepts and then fails or closes must keep
        // backing off. Only a link that stayed up for stableMs starts again from the first delay.
        this.clock.clearTimeout(this.stableTimer);
        this.stableTimer = this.clock.setTimeout(() => {
          this.stableTimer = null;
          this.backoff.reset();
        }, this.stableMs);
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
    this.clock.clearTimeout(this.stableTimer);
    this.stableTimer = null;
    if (this.manual) {
      if (this.isUp) {
        this.isUp = false;
        this.emit('down', reason);
      }
      return;
    }
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
