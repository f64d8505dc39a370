// Every MQTT topic the room uses and the shape of its payload, declared once
// (docs/mqtt.md describes the same map for the central service).
import type { InsightSummary } from '../client/meeting-deltas.js';
import type { DeviceRecord } from '../state/devices.js';

/** `<prefix>/<room>/events`, QoS 1, not retained. */
export interface EventMessage {
  /** Unique (UUID v4): the central service stores events idempotently by it. */
  id: string;
  /** Per-room, only grows; a gap means events were dropped (see alert outbox_dropping). */
  seq: number;
  room: string;
  /** ISO 8601 time of the event. */
  at: string;
  type: string;
  data: Record<string, unknown>;
}

/** `<prefix>/<room>/status`, retained; also the Last Will (`offline`). */
export interface StatusMessage {
  state: 'online' | 'offline';
  room: string;
  /** Package version (the .deb's upstream version). */
  version?: string;
  /** Node runtime version the agent runs on (process.version). */
  node?: string;
  /** The running config version: hash of its text (`sha256:` + 16 hex digits), as config.history lists it. */
  config_version?: string;
  started_at?: string;
  /** When this status was published. */
  at?: string;
}

/** `<prefix>/<room>/devices/<id>`, retained: the device record as the room keeps it. */
export type DeviceMessage = DeviceRecord;

/**
 * `<prefix>/<room>/meetings/<id>`, retained: the meeting's bounded summary with
 * the `epoch`/`seq` of the last delta it reflects. The deltas themselves
 * (`MeetingDelta`) go to `<prefix>/<room>/meetings/<id>/deltas`, QoS 1, not retained.
 */
export type MeetingMessage = InsightSummary & { epoch: string; seq: number };

/** `<prefix>/<room>/alerts` (QoS 1, not retained) and events `alert.raised` / `alert.cleared`. */
export interface AlertMessage {
  kind: AlertKind;
  /** What the alert is about within its kind (device id, meeting id, path…). */
  key: string;
  state: 'raised' | 'cleared';
  severity: 'warning' | 'critical';
  message: string;
  at: string;
  /** When it was raised (equals `at` for a raise). */
  since: string;
  data: Record<string, unknown>;
}
export type AlertKind =
  | 'device_offline'
  | 'meeting_late'
  | 'recorder_failure'
  | 'disk_low'
  | 'outbox_dropping'
  /** An applied config failed its health check and the agent went back to the version before (key `config`). */
  | 'config_rolled_back'
  /** The config file on disk was refused at SIGHUP or by the file watch (invalid, or needs a restart). */
  | 'config_refused'
  /** A dial-out to a participant on the meeting's roster failed (busy, failed, no-answer, canceled); key `<meeting>/<person or number>`. */
  | 'dial_failed';

/** `<prefix>/<room>/state`, retained: the room at a glance. */
export interface StateMessage {
  room: string;
  at: string;
  devices: Record<string, { status: string; since: string; message: string }>;
  /** The live meeting's summary (as retained on `meetings/<id>`), or null. */
  meeting: MeetingMessage | null;
  director: unknown;
  alerts: AlertMessage[];
  outbox: { rows: number; dropped: number };
}

/** Payload of `cmd/<method>` (MQTT 5 may use response topic + correlation data instead of `transaction`). */
export interface CommandMessage {
  params?: unknown;
  transaction?: string | number;
  /** Optional API token: the command then runs with that token's role instead of `[mqtt] command_role`. */
  token?: string;
}

/** Reply on the response topic or on `cmd/<method>/reply`. */
export type ReplyMessage =
  | { transaction?: string | number; result: unknown }
  | { transaction?: string | number; error: { code: number; message: string; data?: unknown } };

export class Topics {
  readonly base: string;
  constructor(prefix: string, room: string) {
    this.base = `${prefix}/${room}`;
  }
  get status(): string {
    return `${this.base}/status`;
  }
  get state(): string {
    return `${this.base}/state`;
  }
  get events(): string {
    return `${this.base}/events`;
  }
  get alerts(): string {
    return `${this.base}/alerts`;
  }
  get inbox(): string {
    return `${this.base}/inbox/events`;
  }
  /** Subscription filter for commands. */
  get commands(): string {
    return `${this.base}/cmd/+`;
  }
  device(id: string): string {
    return `${this.base}/devices/${id}`;
  }
  meeting(id: string): string {
    return `${this.base}/meetings/${id}`;
  }
  meetingDeltas(id: string): string {
    return `${this.base}/meetings/${id}/deltas`;
  }
  reply(method: string): string {
    return `${this.base}/cmd/${method}/reply`;
  }
  /** Default namespace of MQTT 5 response topics (`[mqtt] reply_topic_prefix`). */
  get replyNamespace(): string {
    return `${this.base}/reply/`;
  }
  /** The method of a `cmd/<method>` topic, or null for anything else (replies included). */
  commandMethod(topic: string): string | null {
    const head = `${this.base}/cmd/`;
    if (!topic.startsWith(head)) return null;
    const rest = topic.slice(head.length);
    return rest && !rest.includes('/') ? rest : null;
  }
}

/** Topic level safe for ids coming from devices or meetings (no wildcards or separators). */
export function topicLevel(id: string): string {
  return id.replace(/[/#+\s]/g, '_') || '_';
}
