import { type Static, Type } from '@sinclair/typebox';
import { sectionSchemas } from './sections.js';
import { DEFAULT_DEVICE_QUEUE_MAX } from '../transport/queue.js';

export const ROLES = ['viewer', 'operator', 'admin', 'ingest', 'identity'] as const;
export type Role = (typeof ROLES)[number];

export const TokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Shown in the audit log as who did it.' }),
    token: Type.Optional(
      Type.String({
        'x-secret': true,
        minLength: 16,
        description: 'The secret (at least 16 characters); use ${ENV_VAR} to keep it out of the file.',
      }),
    ),
    token_file: Type.Optional(
      Type.String({
        'x-secret': false, // a file path; the file holds the secret
        description:
          'Read the secret from this file instead; if the file does not exist at start, the agent generates a random token and writes it there, readable only by its own user.',
      }),
    ),
    role: Type.Union(
      ROLES.map((r) => Type.Literal(r)),
      {
        description:
          'viewer: read + subscribe; operator: + actions; admin: everything; ingest: webhooks only; ' +
          'identity: POST /identity/verify only (a central portal entering verification codes).',
      },
    ),
  },
  { additionalProperties: false },
);

export const AgentSchema = Type.Object(
  {
    room_id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Unique id of the room (MQTT topics, events).' }),
    name: Type.Optional(Type.String({ description: 'Human name of the room.' })),
    listen: Type.String({
      default: '127.0.0.1:8080',
      pattern: '^[^\\s]+:\\d{1,5}$',
      description: 'host:port of the HTTP/WS API.',
    }),
    data_dir: Type.String({ default: './data', description: 'SQLite database, recordings, device files.' }),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Log verbosity (JSON lines on stdout; secrets are redacted).' },
    ),
    timezone: Type.Optional(Type.String({ description: "IANA zone of the room (default: the machine's)." })),
    action_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description: 'How long a device action may take before it fails with DEVICE_TIMEOUT (a driver may set its own).',
    }),
    device_log_lines_per_min: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 5,
      description:
        'Lines a minute each device may write about garbage it sent (unparsable bytes or replies), per kind of line; the rest are counted and the next line says how many were left out (docs/security.md).',
    }),
    http_request_timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 30_000,
      description:
        'An HTTP request (headers and body) must arrive within this time, else 408 and the connection is closed; WebSocket connections are not affected once open.',
    }),
    config_health_window_s: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 60,
      description:
        'After config.apply / config.rollback / a reload, how long the agent waits for the API, the devices that were online and the features to be healthy before it rolls the change back by itself (docs/config.md).',
    }),
    config_history_max: Type.Integer({
      minimum: 10,
      maximum: 100_000,
      default: 500,
      description: 'Config versions kept in the history (config.history); older ones are pruned, the running one never.',
    }),
    audit_max_age_days: Type.Integer({
      minimum: 1,
      maximum: 36_500,
      default: 365,
      description:
        'Audit log rows (audit.list) older than this many days are deleted, oldest first, by a pass a minute in small batches (docs/architecture.md "Audit log retention").',
    }),
    audit_max_rows: Type.Integer({
      minimum: 1000,
      maximum: 100_000_000,
      default: 1_000_000,
      description:
        'At most this many of the newest audit log rows are kept (about 150 bytes each on disk: 1,000,000 ≈ 150 MB); older ones are deleted the same way (docs/architecture.md "Audit log retention").',
    }),
    device_queue_max: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: DEFAULT_DEVICE_QUEUE_MAX,
      description:
        'Commands that may wait for a device that answers one at a time (Extron, Kramer, Videohub, vMix, Tesira); one more is refused at once with DEVICE_BUSY (4105). A device may set its own queue_max. Applies when a device (re)starts.',
    }),
    tokens: Type.Array(TokenSchema, { 'x-secret': false, default: [] }), // each `token` is the secret
    watch_config: Type.Boolean({
      default: true,
      description:
        'Watch the config file: when it changes on disk it is validated and applied like SIGHUP (an invalid file is refused; the running config stays).',
    }),
    reload_debounce_ms: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 500,
      description:
        'After the config file changes on disk, wait this long for more changes before reading it (editors write in steps).',
    }),
  },
  { additionalProperties: false },
);

/** Keys every `[devices.<id>]` table may have, whatever its driver. */
export const DeviceCommonSchema = Type.Object({
  driver: Type.String({ description: 'Driver name (see docs/drivers/).' }),
  name: Type.Optional(Type.String({ description: 'Human name shown in UIs.' })),
  simulated: Type.Optional(
    Type.Boolean({ description: 'true: start the built-in simulator and talk to it instead of hardware.' }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'false: keep the device in config but do not start it.' })),
  action_timeout_ms: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 600_000,
      description: "Overrides [agent] action_timeout_ms for this device's actions.",
    }),
  ),
  queue_max: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 10_000,
      description: "Overrides [agent] device_queue_max for this device's command queue.",
    }),
  ),
  reconnect_min_ms: Type.Optional(
    Type.Integer({
      minimum: 10,
      maximum: 600_000,
      description: 'First delay before reconnecting after a failed attempt or a loss (default 1000); doubles per failure.',
    }),
  ),
  reconnect_max_ms: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 3_600_000,
      description: 'Longest delay between attempts (default 60000); also the retry interval of bad_config / auth_failure.',
    }),
  ),
  online_stable_ms: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      description:
        'How long a device must stay online before the reconnect delay starts again from reconnect_min_ms (default 30000).',
    }),
  ),
  handshake_timeout_ms: Type.Optional(
    Type.Integer({
      minimum: 100,
      maximum: 600_000,
      description: "Longest time from connect to ready (the driver's handshake); default per driver, else 15000.",
    }),
  ),
  timeouts_before_reconnect: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 100,
      description: 'Consecutive action timeouts after which the connection is dropped and re-made (default 3).',
    }),
  ),
});
export type DeviceConfig = Static<typeof DeviceCommonSchema> & Record<string, unknown>;

const COMMON_DEVICE_KEYS = new Set(Object.keys(DeviceCommonSchema.properties));
/** A device's config without the keys every device has: what its driver receives. */
export function driverConfig(c: DeviceConfig): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !COMMON_DEVICE_KEYS.has(k)));
}

export const ConfigSchema = Type.Object(
  {
    agent: AgentSchema,
    devices: Type.Record(Type.String(), Type.Object({ driver: Type.String() }), {
      default: {},
    }),
    ...sectionSchemas,
  },
  { additionalProperties: false },
);

export type AgentConfig = Static<typeof AgentSchema>;
export type TokenConfig = Static<typeof TokenSchema>;
export type Config = Omit<Static<typeof ConfigSchema>, 'devices'> & { devices: Record<string, DeviceConfig> };
