// Room alerts: a device offline past a debounce, a meeting not started in
// time, a recorder failure, low disk, the outbox dropping events. Each raise
// and clear is a room event (so it reaches `events`), a bus message on
// `alerts` (MQTT `alerts`, WS) and optionally a Slack post.
import fs from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { AgentContext, Feature } from '../app-context.js';
import type { DeviceChange } from '../state/devices.js';
import type { RoomEvent, TopicMessage } from '../state/bus.js';
import type { TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { AlertsSection } from './schema.js';
import { SlackNotifier, type PostFn } from './slack.js';
import type { AlertKind, AlertMessage } from './topics.js';

export interface AlertSink {
  raise(kind: AlertKind, key: string, message: string, data?: Record<string, unknown>, severity?: AlertMessage['severity']): void;
  clear(kind: AlertKind, key: string, message: string, data?: Record<string, unknown>): void;
  isActive(kind: AlertKind, key: string): boolean;
  active(): AlertMessage[];
}

/** Free bytes available to the agent on the filesystem holding `path`. */
export type FreeSpaceFn = (path: string) => number;
export const statfsFree: FreeSpaceFn = (p) => {
  const s = fs.statfsSync(p);
  return s.bavail * s.bsize;
};

const DOWN = new Set(['offline', 'error', 'auth_failure', 'bad_config']);

interface ScheduledMeeting {
  id: string;
  title?: string;
  startMs: number;
  started: boolean;
}

export class AlertsFeature implements Feature, AlertSink {
  readonly name = 'alerts';
  private readonly current = new Map<string, AlertMessage>();
  private readonly offlineTimers = new Map<string, TimerHandle>();
  private readonly schedule = new Map<string, ScheduledMeeting>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly slack: SlackNotifier | null;
  private readonly log: Logger;
  private checkTimer: TimerHandle | null = null;
  private running = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly cfg: AlertsSection,
    private readonly freeSpace: FreeSpaceFn = statfsFree,
    post?: PostFn,
  ) {
    this.log = ctx.logger.child({ mod: 'alerts' });
    this.slack = cfg.slack_webhook_url
      ? new SlackNotifier(cfg.slack_webhook_url, cfg.slack_min_interval_s * 1000, ctx.clock, this.log, post)
      : null;
    ctx.rpc.topic({
      name: 'alerts',
      description:
        'Alert changes ({kind, key, state: raised|cleared, severity, message, at, since, data}); the snapshot lists the active alerts.',
      snapshot: () => this.active(),
    });
    ctx.rpc.method({
      name: 'alerts.list',
      description: 'Active alerts of the room (device offline, meeting late, recorder failure, low disk, outbox dropping).',
      role: 'viewer',
      params: Type.Object({}, { additionalProperties: false }),
      handler: () => this.active(),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(this.ctx.bus.subscribe((m) => this.onBus(m)));
    this.unsubscribe.push(this.ctx.events.on((e) => this.onEvent(e)));
    // Devices already down when we start count from now.
    for (const d of this.ctx.devices.list()) this.onDeviceStatus(d.id, d.status.status, d.status.message);
    // Alerts taken over from before a config reload, about devices the reload removed, are over.
    for (const a of this.active()) {
      if ((a.kind === 'device_offline' || a.kind === 'recorder_failure') && !this.ctx.devices.get(a.key)) {
        this.clear(a.kind, a.key, `device ${a.key} was removed from the config`, { device: a.key });
      }
    }
    this.check();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.offlineTimers.values()) this.ctx.clock.clearTimeout(t);
    this.offlineTimers.clear();
    this.ctx.clock.clearTimeout(this.checkTimer);
    this.slack?.stop();
  }

  /** A config reload replaced the previous instance: its active alerts carry on here (not raised again). */
  takeOver(previous: Feature): void {
    if (!(previous instanceof AlertsFeature)) return;
    for (const [id, a] of previous.current) this.current.set(id, a);
  }

  get slackStats(): { posts: number; failures: number } {
    return { posts: this.slack?.posts ?? 0, failures: this.slack?.failures ?? 0 };
  }

  raise(
    kind: AlertKind,
    key: string,
    message: string,
    data: Record<string, unknown> = {},
    severity: AlertMessage['severity'] = 'warning',
  ): void {
    const id = `${kind}:${key}`;
    const prev = this.current.get(id);
    if (prev) {
      // Still the same problem: keep it current without another notification.
      this.current.set(id, { ...prev, message, data });
      return;
    }
    const at = this.iso();
    const a: AlertMessage = { kind, key, state: 'raised', severity, message, at, since: at, data };
    this.current.set(id, a);
    this.announce(a);
  }

  clear(kind: AlertKind, key: string, message: string, data: Record<string, unknown> = {}): void {
    const id = `${kind}:${key}`;
    const prev = this.current.get(id);
    if (!prev) return;
    this.current.delete(id);
    this.announce({ ...prev, state: 'cleared', message, at: this.iso(), data: { ...prev.data, ...data } });
  }

  isActive(kind: AlertKind, key: string): boolean {
    return this.current.has(`${kind}:${key}`);
  }

  active(): AlertMessage[] {
    return [...this.current.values()];
  }

  private announce(a: AlertMessage): void {
    this.log.warn({ kind: a.kind, key: a.key, state: a.state }, a.message);
    this.ctx.events.emit({ type: a.state === 'raised' ? 'alert.raised' : 'alert.cleared', at: a.at, data: { ...a } });
    this.ctx.bus.publish('alerts', a);
    this.slack?.notify(a, this.ctx.config.agent.room_id);
  }

  private onBus(m: TopicMessage): void {
    if (m.topic === 'devices') {
      const c = m.data as DeviceChange;
      if ('status' in c) this.onDeviceStatus(c.device, c.status.status, c.status.message);
    } else if (m.topic === 'meetings') {
      this.onMeetingInfo(m.data);
    }
  }

  /** `enabled = false` in the running config: the host shows it offline on purpose. */
  private disabled(id: string): boolean {
    return this.ctx.config.devices[id]?.enabled === false;
  }

  private onDeviceStatus(id: string, status: string, message: string): void {
    if (!this.ctx.devices.get(id)) {
      // Removed from the config (a reload): whatever was wrong with it is over.
      this.ctx.clock.clearTimeout(this.offlineTimers.get(id));
      this.offlineTimers.delete(id);
      this.clear('device_offline', id, `device ${id} was removed from the config`, { device: id });
      this.clear('recorder_failure', id, `recorder ${id} was removed from the config`, { device: id });
      return;
    }
    const kind = this.ctx.devices.get(id)?.kind;
    if (this.disabled(id)) {
      // Offline by the administrator's choice is not a fault: no timer, and an
      // alert raised before the device was disabled is over.
      this.ctx.clock.clearTimeout(this.offlineTimers.get(id));
      this.offlineTimers.delete(id);
      this.clear('device_offline', id, `device ${id} is disabled in the config`, { device: id });
      return;
    }
    if (DOWN.has(status)) {
      if (kind === 'recorder' && status === 'error') {
        this.raise('recorder_failure', id, `recorder ${id} failed: ${message}`, { device: id, status }, 'critical');
      }
      if (this.offlineTimers.has(id) || this.isActive('device_offline', id)) return;
      const t = this.ctx.clock.setTimeout(() => {
        this.offlineTimers.delete(id);
        const now = this.ctx.devices.get(id)?.status;
        // Still not back: a reconnect attempt under way (`connecting`) is not recovery.
        if (now && now.status !== 'online' && !this.disabled(id)) {
          this.raise('device_offline', id, `device ${id} is ${now.status} since ${now.since}: ${now.message}`, {
            device: id,
            status: now.status,
            since: now.since,
          });
        }
      }, this.cfg.device_offline_after_s * 1000);
      this.offlineTimers.set(id, t);
      return;
    }
    if (status === 'online') {
      this.ctx.clock.clearTimeout(this.offlineTimers.get(id));
      this.offlineTimers.delete(id);
      this.clear('device_offline', id, `device ${id} is back online`, { device: id });
      if (kind === 'recorder') this.clear('recorder_failure', id, `recorder ${id} is back online`, { device: id });
    }
  }

  private onEvent(e: RoomEvent): void {
    const d = e.data;
    const device = typeof d.device === 'string' ? d.device : undefined;
    if (e.type === 'meeting.dial') {
      this.onDial(d);
      return;
    }
    if (e.type === 'meeting.status' && (d.status === 'ended' || d.status === 'failed')) this.clearDials(str(d.meeting_id));
    if (e.type.startsWith('meeting.') || e.type.startsWith('calendar.')) this.onMeetingInfo(d);
    if (!device || this.ctx.devices.get(device)?.kind !== 'recorder') {
      if (/^(recorder|recording)\.(failed|error|alert)$/.test(e.type)) {
        const key = device ?? 'recorder';
        this.raise(
          'recorder_failure',
          key,
          `recording failed: ${String(d.error ?? d.message ?? 'unknown error')}`,
          d,
          'critical',
        );
      }
      return;
    }
    // Recorder device: a failed action or a failure event raises; a success clears.
    if (e.type === 'device.action') {
      // A meeting-following start is retried by the recorder link, which emits
      // `recorder.alert` once not_recording_alert_s have passed without a recording.
      const followStart = d.action === 'start' && (d.cause as { kind?: unknown } | undefined)?.kind === 'calendar';
      if (d.ok === false && followStart) return;
      if (d.ok === false) {
        this.raise(
          'recorder_failure',
          device,
          `recorder ${device}: ${String(d.action)} failed: ${String(d.error)}`,
          { device, action: d.action },
          'critical',
        );
      } else if (d.ok === true && d.action === 'start') {
        // Only a start that worked says the recorder records; a status query or a title change does not.
        this.clear('recorder_failure', device, `recorder ${device}: ${String(d.action)} succeeded`, { device });
      }
    } else if (e.type === 'recorder.started' || e.type === 'recorder.resumed') {
      this.clear('recorder_failure', device, `recorder ${device} is recording`, { device });
    } else if (/(failed|error|alert)$/.test(e.type)) {
      this.raise(
        'recorder_failure',
        device,
        `recorder ${device}: ${e.type} ${String(d.reason ?? d.error ?? d.message ?? '')}`.trim(),
        { device, event: e.type },
        'critical',
      );
    }
  }

  /**
   * A dial-out status from meeting tracking: a failed call to someone on the
   * meeting's roster raises `dial_failed`; a later call to them that connects
   * (`in-progress`) clears it, and so does the meeting's end.
   */
  private onDial(d: Record<string, unknown>): void {
    const meeting = str(d.meeting_id);
    const who = str(d.person) ?? str(d.number);
    if (!meeting || !who) return;
    const key = `${meeting}/${who}`;
    if (d.failed === true && d.expected === true) {
      const why = str(d.reason) ? `${String(d.status)}: ${String(d.reason)}` : String(d.status);
      this.raise('dial_failed', key, `dial-out to ${who} for meeting ${meeting} failed (${why})`, {
        meeting,
        person: d.person ?? null,
        number: d.number ?? null,
        call_sid: d.call_sid ?? null,
        status: d.status,
        reason: d.reason ?? null,
      });
    } else if (d.status === 'in-progress') {
      this.clear('dial_failed', key, `dial-out to ${who} for meeting ${meeting} connected`, { call_sid: d.call_sid ?? null });
    }
  }

  private clearDials(meeting: string | undefined): void {
    if (!meeting) return;
    for (const a of this.active()) {
      if (a.kind === 'dial_failed' && a.data.meeting === meeting) {
        this.clear('dial_failed', a.key, `meeting ${meeting} is over`);
      }
    }
  }

  /**
   * Learns scheduled meetings and whether they started, from calendar events
   * (`meeting.upcoming` / `meeting.start`, which carry the scheduled start)
   * and from tracking insight on bus `meetings` (status `live` = started).
   */
  private onMeetingInfo(raw: unknown): void {
    if (!raw || typeof raw !== 'object') return;
    const outer = raw as Record<string, unknown>;
    const nested = [outer.insight, outer.summary, outer.meeting].find((v) => v && typeof v === 'object') as
      | Record<string, unknown>
      | undefined;
    const o = { ...(nested ?? {}), ...outer };
    const id = str(o.meeting_id) ?? str(o.id) ?? str(o.uid);
    if (!id) return;
    const m = this.schedule.get(id) ?? { id, startMs: Number.NaN, started: false };
    const start = [o.scheduled_start, o.start, o.starts_at, o.start_at]
      .map((v) => (typeof v === 'string' ? Date.parse(v) : Number.NaN))
      .find((n) => Number.isFinite(n));
    if (start !== undefined) m.startMs = start;
    m.title = str(o.title) ?? str(o.name) ?? m.title;
    const status = str(o.status);
    if (status === 'live' || status === 'ended' || status === 'failed' || str(o.actual_start_time) || str(o.actual_start))
      m.started = true;
    this.schedule.set(id, m);
    if (m.started) this.clear('meeting_late', id, `meeting ${m.title ?? id} started`, { meeting: id });
  }

  /** Free space on the watched filesystem now, and the bound, for /metrics; null when it cannot be read. */
  diskReading(): { path: string; free_bytes: number; min_free_bytes: number } | null {
    const disk = this.cfg.disk_path ?? this.ctx.dataDir;
    try {
      return { path: disk, free_bytes: this.freeSpace(disk), min_free_bytes: this.cfg.disk_min_free_mb * 1024 * 1024 };
    } catch {
      return null; // check() logs why, rate limited by its interval
    }
  }

  /** Periodic checks: late meetings and free disk space. */
  private check(): void {
    if (!this.running) return;
    const now = this.ctx.clock.now();
    const lateMs = this.cfg.meeting_late_after_min * 60_000;
    for (const m of this.schedule.values()) {
      if (m.started || !Number.isFinite(m.startMs)) continue;
      if (now - m.startMs >= lateMs) {
        const mins = Math.floor((now - m.startMs) / 60_000);
        this.raise('meeting_late', m.id, `meeting ${m.title ?? m.id} has not started ${mins} min after its scheduled start`, {
          meeting: m.id,
          scheduled_start: new Date(m.startMs).toISOString(),
        });
      }
      // Forget meetings a day past their start: they are not coming.
      if (now - m.startMs > 86_400_000) {
        this.schedule.delete(m.id);
        this.clear('meeting_late', m.id, `meeting ${m.title ?? m.id} given up (a day past its start)`, { meeting: m.id });
      }
    }
    const disk = this.cfg.disk_path ?? this.ctx.dataDir;
    try {
      const free = this.freeSpace(disk);
      const min = this.cfg.disk_min_free_mb * 1024 * 1024;
      const freeMb = Math.floor(free / 1024 / 1024);
      if (free < min) {
        this.raise(
          'disk_low',
          disk,
          `only ${freeMb} MB free on ${disk} (minimum ${this.cfg.disk_min_free_mb} MB)`,
          { path: disk, free_mb: freeMb },
          'critical',
        );
      } else if (free >= min * 1.1) {
        // 10 % hysteresis so a disk hovering at the bound does not flap.
        this.clear('disk_low', disk, `${freeMb} MB free on ${disk}`, { path: disk, free_mb: freeMb });
      }
    } catch (e) {
      this.log.warn({ path: disk, err: errorMessage(e) }, 'cannot read free disk space');
    }
    this.checkTimer = this.ctx.clock.setTimeout(() => this.check(), this.cfg.check_interval_s * 1000);
  }

  private iso(): string {
    return new Date(this.ctx.clock.now()).toISOString();
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
