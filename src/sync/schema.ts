// Config sections owned by sync: `[mqtt]` (the link to the central service)
// and `[alerts]` (what counts as a problem and where it is posted).
import { type Static, Type } from '@sinclair/typebox';

export const MqttSectionSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(mqtt|mqtts|ws|wss)://[^\\s]+$',
      description: 'Broker URL: mqtt://, mqtts:// (TLS), ws:// or wss:// (MQTT over WebSocket).',
    }),
    client_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'MQTT client id (default: the room id).' }),
    ),
    username: Type.Optional(Type.String({ description: 'Broker user name.' })),
    password: Type.Optional(Type.String({ 'x-secret': true, description: 'Broker password; use ${ENV_VAR}. Never logged.' })),
    ca: Type.Optional(Type.String({ description: 'PEM file with the CA that signed the broker certificate.' })),
    cert: Type.Optional(Type.String({ description: 'PEM client certificate (mutual TLS).' })),
    key: Type.Optional(Type.String({ 'x-secret': true, description: 'PEM private key of the client certificate.' })),
    reject_unauthorized: Type.Boolean({ default: true, description: 'false accepts any broker certificate (testing only).' }),
    topic_prefix: Type.String({
      default: 'rooms',
      pattern: '^[^#+\\s]+$',
      description: 'Topics are <topic_prefix>/<room_id>/...; no wildcards.',
    }),
    keepalive_s: Type.Integer({ minimum: 5, maximum: 3600, default: 30 }),
    protocol_version: Type.Union([Type.Literal(4), Type.Literal(5)], {
      default: 5,
      description: '5 = MQTT 5 (response topic + correlation data for command replies); 4 = MQTT 3.1.1.',
    }),
    reconnect_min_ms: Type.Integer({ minimum: 50, maximum: 60_000, default: 1000 }),
    reconnect_max_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
    command_role: Type.Union([Type.Literal('none'), Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], {
      default: 'operator',
      description:
        'Role of commands on cmd/<method> that carry no token (the broker identity the central service uses). "none": such commands are refused.',
    }),
    command_identity: Type.String({ default: 'central', description: 'Name shown in the audit log for those commands.' }),
    reply_topic_prefix: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        pattern: '^[^#+\\s]+$',
        description:
          'MQTT 5 response topics a command or inbox delivery may name must start with this (default: <topic_prefix>/<room_id>/reply/). A request naming any other topic is not run; it gets error 4003 on cmd/<method>/reply and the refusal is logged.',
      }),
    ),
    inflight_window: Type.Integer({
      minimum: 1,
      maximum: 65_000,
      default: 1000,
      description: 'Events published but not yet acknowledged.',
    }),
    outbox_max_rows: Type.Integer({ minimum: 10, maximum: 100_000_000, default: 1_000_000 }),
    outbox_max_age_h: Type.Number({ exclusiveMinimum: 0, maximum: 87_600, default: 168 }),
    forward_bus_topics: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Live bus topics whose messages are also sent as events (type = topic name), for modules that publish live changes but write no room events. Director and scenarios already write theirs.',
    }),
    state_coalesce_ms: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 1000,
      description:
        'The retained state and devices/<id> topics are republished at most once per this interval per topic; the value after a burst is always published (at the end of the interval). 0 = on every change.',
    }),
    recent_meetings: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'meetings/<id> kept retained.' }),
    inbox_source: Type.String({ default: 'mqtt', description: 'Source name given to tracking for inbox/events.' }),
  },
  { additionalProperties: false },
);
export type MqttSection = Static<typeof MqttSectionSchema>;

export const AlertsSectionSchema = Type.Object(
  {
    device_offline_after_s: Type.Number({ minimum: 0, default: 60, description: 'Debounce before a device counts as offline.' }),
    meeting_late_after_min: Type.Number({
      minimum: 0,
      default: 5,
      description: 'Scheduled meeting not live this long after its start.',
    }),
    disk_path: Type.Optional(Type.String({ description: 'Filesystem watched for free space (default: the data dir).' })),
    disk_min_free_mb: Type.Number({ minimum: 0, default: 1024 }),
    check_interval_s: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Disk and late-meeting checks.' }),
    slack_webhook_url: Type.Optional(
      Type.String({
        'x-secret': true,
        pattern: '^https?://',
        description: 'Slack incoming-webhook URL; use ${ENV_VAR}. Never logged.',
      }),
    ),
    slack_min_interval_s: Type.Number({
      minimum: 0,
      default: 300,
      description: 'At most one Slack post per alert kind in this time; the rest are summed up in the next one.',
    }),
  },
  { additionalProperties: false },
);
export type AlertsSection = Static<typeof AlertsSectionSchema>;
