// The sync feature: room events → outbox → `events`; retained status, state,
// devices and meetings; commands and relayed conference events inbound.
import type { IPublishPacket } from 'mqtt';
import type { Logger } from 'pino';
import type { AgentContext, Feature } from '../app-context.js';
import type { TopicMessage } from '../state/bus.js';
import { isMeetingDelta } from '../client/meeting-deltas.js';
import { errorMessage } from '../util/errors.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import type { AlertSink } from './alerts.js';
import { RetainedCoalescer } from './coalesce.js';
import { CommandHandler, refusedReply, replyTarget, runInbox, type TrackingIngest } from './commands.js';
import { Drainer } from './drain.js';
import { MqttLink } from './link.js';
import { MeetingCache, Outbox } from './outbox.js';
import type { MqttSection } from './schema.js';
import {
  type AlertMessage,
  type DeviceMessage,
  type MeetingMessage,
  type ReplyMessage,
  type StateMessage,
  type StatusMessage,
  Topics,
  topicLevel,
} from './topics.js';

const EXPIRE_EVERY_MS = 60_000;
const STATE_KEY = 'state';
const DEVICE_KEY = 'device:';
const deviceKey = (id: string) => `${DEVICE_KEY}${id}`;

export class SyncFeature implements Feature {
  readonly name = 'sync';
  readonly topics: Topics;
  readonly outbox: Outbox;
  readonly link: MqttLink;
  readonly drainer: Drainer;
  private readonly meetings: MeetingCache;
  private readonly commands: CommandHandler;
  private readonly log: Logger;
  /** Where MQTT 5 response topics must point ([mqtt] reply_topic_prefix). */
  private readonly replyPrefix: string;
  private readonly refusals: RateLimitedLog;
  private readonly room: string;
  private readonly unsubscribe: (() => void)[] = [];
  /** `state` and `devices/<id>` publishes, at most one per key per `[mqtt] state_coalesce_ms`. */
  private readonly retained: RetainedCoalescer;
  private flushScheduled = false;
  private director: unknown = null;
  private meeting: MeetingMessage | null = null;
  private alerts: AlertSink | null = null;
  private expireTimer: ReturnType<AgentContext['clock']['setTimeout']> | null = null;
  private lastDropAt = 0;

  constructor(
    private readonly ctx: AgentContext,
    private readonly cfg: MqttSection,
  ) {
    this.room = ctx.config.agent.room_id;
    this.log = ctx.logger.child({ mod: 'sync' });
    this.topics = new Topics(cfg.topic_prefix, this.room);
    this.replyPrefix = cfg.reply_topic_prefix ?? this.topics.replyNamespace;
    this.refusals = new RateLimitedLog(this.log, { clock: ctx.clock });
    this.outbox = new Outbox(ctx.store, this.room, { maxRows: cfg.outbox_max_rows, maxAgeMs: cfg.outbox_max_age_h * 3_600_000 });
    this.meetings = new MeetingCache(ctx.store);
    this.commands = new CommandHandler(ctx.rpc, ctx.auth, cfg);
    this.retained = new RetainedCoalescer(ctx.clock, cfg.state_coalesce_ms, (keys) => this.publishRetained(keys));
    this.link = new MqttLink({
      cfg,
      clientId: cfg.client_id ?? this.room,
      will: { topic: this.topics.status, payload: JSON.stringify({ state: 'offline', room: this.room } satisfies StatusMessage) },
      clock: ctx.clock,
      logger: this.log,
      handlers: {
        up: () => this.onUp(),
        down: () => this.drainer.disconnected(),
        message: (topic, payload, packet) => void this.onMessage(topic, payload, packet),
      },
    });
    this.drainer = new Drainer(this.outbox, this.link, this.topics.events, cfg.inflight_window);
    this.outbox.onAppend = () => this.drainer.schedule();
    this.outbox.onDrop = (n, total, reason) => this.onDrop(n, total, reason);
    this.drainer.onAcked = () => this.maybeClearDropping();
    // Registered now, not in start(): device status events from the host's
    // start come before features start and must be in the outbox too.
    // Kept after stop(): devices and other features still write events while
    // the agent shuts down (stopped after sync); they wait in the outbox for
    // the next start. Only a closed store ends it.
    ctx.events.on((e) => {
      if (ctx.store.db.open) this.outbox.append(e.type, e.at, e.data, ctx.clock.now());
    });
    this.unsubscribe.push(ctx.bus.subscribe((m) => this.onBus(m)));
  }

  async start(): Promise<void> {
    this.alerts = this.ctx.feature<AlertSink & Feature>('alerts') ?? null;
    this.expire();
    this.link.start();
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    this.ctx.clock.clearTimeout(this.expireTimer);
    // The last value of a burst still inside its interval goes out before the link closes.
    if (this.link.isUp) this.retained.flushAll();
    this.retained.cancel();
    await this.link.stop({ topic: this.topics.status, payload: JSON.stringify(this.status('offline')) });
    this.drainer.stop();
  }

  /** Figures for health checks and the benchmark. */
  stats(): { connected: boolean; outbox: number; dropped: number; in_flight: number; published: number; acknowledged: number } {
    const m = this.outbox.meta();
    return {
      connected: this.link.isUp,
      outbox: m.rows,
      dropped: m.dropped,
      in_flight: this.drainer.inFlight,
      published: this.drainer.published,
      acknowledged: this.drainer.acknowledged,
    };
  }

  /** Outbox backlog, drops and link state for /metrics. */
  metricsReading(): { rows: number; dropped: number; connected: boolean } {
    return { ...this.outbox.meta(), connected: this.link.isUp };
  }

  private status(state: 'online' | 'offline'): StatusMessage {
    const at = new Date(this.ctx.clock.now()).toISOString();
    return state === 'online'
      ? {
          state,
          room: this.room,
          version: this.ctx.version,
          node: process.version,
          config_version: this.ctx.loaded.version,
          started_at: this.ctx.startedAt,
          at,
        }
      : { state, room: this.room, at };
  }

  private onUp(): void {
    const c = this.link.current;
    if (!c) return;
    c.subscribe([this.topics.commands, this.topics.inbox], { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: errorMessage(err) }, 'mqtt subscribe failed');
    });
    // Brokers lose retained messages (restart without persistence): every
    // connection republishes the whole retained picture.
    this.retain(this.topics.status, this.status('online'));
    for (const d of this.ctx.devices.list()) this.retained.mark(deviceKey(d.id));
    for (const m of this.meetings.all())
      this.link.publish(this.topics.meeting(topicLevel(m.id)), m.payload, { qos: 1, retain: true });
    this.retained.mark(STATE_KEY);
    this.retained.flushAll();
    this.drainer.connected();
  }

  private retain(topic: string, data: unknown): void {
    this.link.publish(topic, JSON.stringify(data), { qos: 1, retain: true });
  }

  private onBus(m: TopicMessage): void {
    const data = m.data as Record<string, unknown> | null;
    switch (m.topic) {
      case 'devices':
        if (data && typeof data.device === 'string') this.retained.mark(deviceKey(data.device));
        if (data && 'status' in data) this.retained.mark(STATE_KEY);
        break;
      case 'meetings':
        this.onMeeting(data);
        break;
      case 'director':
        // The director publishes {status} and {decision}: the summary keeps the latest of each.
        this.director =
          data && typeof data === 'object' && !Array.isArray(data) ? { ...(this.director as object), ...data } : m.data;
        this.retained.mark(STATE_KEY);
        break;
      case 'alerts':
        if (this.link.isUp) this.link.publish(this.topics.alerts, JSON.stringify(m.data), { qos: 1 });
        this.retained.mark(STATE_KEY);
        break;
      case 'config':
        // A reload made another config version the running one: the retained status says which.
        if (this.link.isUp) this.retain(this.topics.status, this.status('online'));
        break;
    }
    if (this.cfg.forward_bus_topics.includes(m.topic)) {
      const payload = data && typeof data === 'object' && !Array.isArray(data) ? data : { value: m.data };
      this.outbox.append(m.topic, new Date(this.ctx.clock.now()).toISOString(), payload, this.ctx.clock.now());
    }
    this.scheduleFlush();
  }

  /**
   * A meeting delta from tracking: its bounded summary is retained on
   * `meetings/<id>` (and is the room state's current meeting), the delta itself
   * goes to `meetings/<id>/deltas` (docs/mqtt.md, "Meeting insight").
   */
  private onMeeting(data: Record<string, unknown> | null): void {
    if (!isMeetingDelta(data)) return;
    const retained: MeetingMessage = { epoch: data.epoch, seq: data.seq, ...data.summary };
    const id = data.id;
    const payload = JSON.stringify(retained);
    const pruned = this.meetings.put(id, payload, this.ctx.clock.now(), this.cfg.recent_meetings);
    this.link.publish(this.topics.meeting(topicLevel(id)), payload, { qos: 1, retain: true });
    this.link.publish(this.topics.meetingDeltas(topicLevel(id)), JSON.stringify(data), { qos: 1 });
    // An empty retained message deletes the retained copy on the broker.
    for (const old of pruned) this.link.publish(this.topics.meeting(topicLevel(old)), '', { qos: 1, retain: true });
    const status = retained.status;
    if (status === 'live') this.meeting = retained;
    else if (this.meeting?.id === id) this.meeting = status === 'ended' || status === 'failed' ? null : retained;
    this.retained.mark(STATE_KEY);
  }

  /**
   * Coalesces bursts of bus changes into one retained publish per key per
   * event-loop turn, and per `state_coalesce_ms` (RetainedCoalescer).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || !this.retained.pending) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.retained.flush();
    });
  }

  /** Publishes the current value of each key; false (keys stay dirty) while the link is down. */
  private publishRetained(keys: string[]): boolean {
    if (!this.link.isUp) return false; // republished in full on the next connect
    for (const key of keys) {
      if (key === STATE_KEY) {
        this.retain(this.topics.state, this.summary());
        continue;
      }
      const id = key.slice(DEVICE_KEY.length);
      const d = this.ctx.devices.get(id);
      if (!d) continue;
      const msg: DeviceMessage = {
        id: d.id,
        name: d.name,
        driver: d.driver,
        kind: d.kind,
        simulated: d.simulated,
        status: d.status,
        state: d.state,
      };
      this.retain(this.topics.device(topicLevel(id)), msg);
    }
    return true;
  }

  summary(): StateMessage {
    const devices: StateMessage['devices'] = {};
    for (const d of this.ctx.devices.list())
      devices[d.id] = { status: d.status.status, since: d.status.since, message: d.status.message };
    return {
      room: this.room,
      at: new Date(this.ctx.clock.now()).toISOString(),
      devices,
      meeting: this.meeting,
      director: this.director,
      alerts: this.alerts?.active() ?? ([] as AlertMessage[]),
      outbox: this.outbox.meta(),
    };
  }

  private async onMessage(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    let reply: ReplyMessage;
    const method = topic === this.topics.inbox ? null : this.topics.commandMethod(topic);
    if (topic !== this.topics.inbox && !method) return;
    const fallback = method ? this.topics.reply(method) : `${this.topics.inbox}/reply`;
    const { target, refused } = replyTarget(packet, fallback, this.replyPrefix);
    if (refused) {
      // The requested topic is attacker-chosen text: logged cut short, rate limited.
      this.refusals.log(
        'warn',
        'reply-topic',
        { topic, response_topic: String(packet.properties?.responseTopic).slice(0, 200), reason: refused },
        "command refused: its MQTT 5 response topic is outside the room's reply namespace",
      );
      reply = refusedReply(payload, refused);
    } else if (!method) {
      reply = await runInbox(this.ctx.feature<TrackingIngest & Feature>('tracking'), payload, this.cfg.inbox_source);
      if ('error' in reply) this.log.warn({ err: reply.error.message }, 'inbox/events delivery refused');
    } else {
      reply = await this.commands.run(method, payload);
    }
    this.link.publish(target.topic, JSON.stringify(reply), {
      qos: 1,
      ...(target.properties ? { properties: target.properties } : {}),
    });
  }

  private onDrop(n: number, total: number, reason: 'rows' | 'age'): void {
    this.lastDropAt = this.ctx.clock.now();
    this.log.warn({ dropped: n, total, reason }, 'outbox bound hit: oldest events dropped');
    const bound = reason === 'rows' ? `${this.cfg.outbox_max_rows} rows` : `${this.cfg.outbox_max_age_h} h`;
    this.alerts?.raise('outbox_dropping', 'outbox', `outbox over its bound (${bound}): oldest events are being dropped`, {
      dropped_total: total,
      reason,
    });
  }

  /** The dropping alert clears once the backlog is well under the bound and nothing was dropped for a minute. */
  private maybeClearDropping(): void {
    if (!this.alerts?.isActive('outbox_dropping', 'outbox')) return;
    if (this.ctx.clock.now() - this.lastDropAt < EXPIRE_EVERY_MS) return;
    const { rows, dropped } = this.outbox.meta();
    if (rows < this.cfg.outbox_max_rows * 0.9) {
      this.alerts.clear('outbox_dropping', 'outbox', `outbox back under its bound (${rows} queued)`, { dropped_total: dropped });
    }
  }

  private expire(): void {
    try {
      this.outbox.expire(this.ctx.clock.now());
      this.maybeClearDropping();
    } catch (e) {
      this.log.error({ err: errorMessage(e) }, 'outbox expiry failed');
    }
    this.expireTimer = this.ctx.clock.setTimeout(() => this.expire(), EXPIRE_EVERY_MS);
  }
}
