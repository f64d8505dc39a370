// One MQTT connection at a time, owned here: a fresh mqtt.js client per
// attempt (mqtt.js's own reconnect is off) so in-flight bookkeeping restarts
// cleanly after every drop, with capped backoff, and never an exit.
import fs from 'node:fs';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import type * as Mqtt from 'mqtt';
import type { Logger } from 'pino';
import { Backoff } from '../transport/backoff.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { MqttSection } from './schema.js';

export interface LinkHandlers {
  /** A new connection is up (after CONNACK): publish retained state, subscribe, drain. */
  up(client: MqttClient): void;
  /** The connection is gone; everything in flight on it is unacknowledged. */
  down(reason: string): void;
  message(topic: string, payload: Buffer, packet: Mqtt.IPublishPacket): void;
}

export interface LinkOptions {
  cfg: MqttSection;
  clientId: string;
  will: { topic: string; payload: string };
  clock: Clock;
  logger: Logger;
  handlers: LinkHandlers;
}

export class MqttLink {
  private client: MqttClient | null = null;
  private connected = false;
  private generation = 0;
  private timer: TimerHandle | null = null;
  private stopped = true;
  private readonly backoff: Backoff;
  lastError: string | null = null;
  connects = 0;

  constructor(private readonly o: LinkOptions) {
    this.backoff = new Backoff({ initialMs: o.cfg.reconnect_min_ms, maxMs: o.cfg.reconnect_max_ms });
  }

  get isUp(): boolean {
    return this.connected && this.client !== null;
  }
  get current(): MqttClient | null {
    return this.isUp ? this.client : null;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // mqtt.js is loaded only when a room has [mqtt]: it costs ~10 MB of RSS.
    void import('mqtt').then(
      (m) => {
        this.connectMqtt = m.connect;
        this.attempt();
      },
      (e) => this.o.logger.error({ err: errorMessage(e) }, 'mqtt.js failed to load'),
    );
  }
  private connectMqtt: ((url: string, opts: IClientOptions) => MqttClient) | null = null;

  /**
   * Publishes `last` (retained, QoS 1) and waits for its PUBACK up to `waitMs`,
   * then disconnects cleanly so the broker does not send the Last Will.
   */
  async stop(last?: { topic: string; payload: string }, waitMs = 2000): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    this.generation++;
    if (!c) return;
    const wasUp = this.connected;
    this.connected = false;
    if (wasUp && last) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, waitMs);
        c.publish(last.topic, last.payload, { qos: 1, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    // A clean DISCONNECT (so no Last Will), but never wait on a dead broker.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        c.end(true);
        resolve();
      }, waitMs);
      c.end(!wasUp, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
    c.removeAllListeners();
    c.on('error', () => undefined);
  }

  publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions, cb?: (err?: Error) => void): boolean {
    const c = this.current;
    if (!c) return false;
    c.publish(topic, payload, opts, (err) => cb?.(err ?? undefined));
    return true;
  }

  private attempt(): void {
    this.timer = null;
    if (this.stopped) return;
    const gen = ++this.generation;
    const { cfg } = this.o;
    let opts: IClientOptions;
    try {
      opts = {
        clientId: this.o.clientId,
        username: cfg.username,
        password: cfg.password,
        keepalive: cfg.keepalive_s,
        protocolVersion: cfg.protocol_version,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        queueQoSZero: false,
        rejectUnauthorized: cfg.reject_unauthorized,
        will: { topic: this.o.will.topic, payload: Buffer.from(this.o.will.payload), qos: 1, retain: true },
        ...(cfg.ca ? { ca: fs.readFileSync(cfg.ca) } : {}),
        ...(cfg.cert ? { cert: fs.readFileSync(cfg.cert) } : {}),
        ...(cfg.key ? { key: fs.readFileSync(cfg.key) } : {}),
      };
    } catch (e) {
      // A missing TLS file is fixed by an operator, not by retrying fast.
      this.fail(gen, `cannot read TLS file: ${errorMessage(e)}`);
      return;
    }
    if (!this.connectMqtt) return;
    const c = this.connectMqtt(cfg.url, opts);
    this.client = c;
    c.on('connect', () => {
      if (gen !== this.generation) return;
      this.connected = true;
      this.connects++;
      this.lastError = null;
      this.backoff.reset();
      this.o.logger.info({ url: redactUrl(cfg.url) }, 'mqtt connected');
      this.o.handlers.up(c);
    });
    c.on('message', (topic, payload, packet) => {
      if (gen === this.generation) this.o.handlers.message(topic, payload, packet);
    });
    c.on('error', (e) => {
      if (gen === this.generation) this.lastError = errorMessage(e);
    });
    c.on('close', () => this.fail(gen, this.lastError ?? 'connection closed'));
  }

  private fail(gen: number, reason: string): void {
    if (gen !== this.generation || this.stopped) return;
    const c = this.client;
    this.client = null;
    const wasUp = this.connected;
    this.connected = false;
    this.generation++;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.end(true);
    }
    const delay = this.backoff.next();
    if (wasUp) this.o.logger.warn({ reason, retry_ms: delay }, 'mqtt connection lost');
    else this.o.logger.debug({ reason, retry_ms: delay }, 'mqtt connect failed');
    if (wasUp) this.o.handlers.down(reason);
    this.timer = this.o.clock.setTimeout(() => this.attempt(), delay);
  }
}

/**
 * The broker URL for logs: scheme, host and path only. Userinfo, query string and fragment are
 * dropped whole (a `?token=` or `user:pw@` never reaches the log).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
