// `[devices.<id>]` keys of a VISCA camera (common keys are added by the host).
import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_PORTS = { 'sony-udp': 52381, 'raw-tcp': 5678, 'raw-udp': 1259 } as const;

export const ViscaConfigSchema = Type.Object(
  {
    framing: Type.Union([Type.Literal('sony-udp'), Type.Literal('raw-tcp'), Type.Literal('raw-udp'), Type.Literal('serial')], {
      default: 'sony-udp',
      description: 'sony-udp: Sony VISCA over IP (8-byte header); raw-tcp/raw-udp: PTZOptics-style raw VISCA; serial: RS-232',
    }),
    host: Type.Optional(Type.String({ minLength: 1, description: 'Camera address (IP framings)' })),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description: 'Default per framing: 52381 sony-udp, 5678 raw-tcp, 1259 raw-udp',
      }),
    ),
    local_port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 0,
      description: 'sony-udp: local UDP port to send from (0 = any; 52381 if the camera replies only there)',
    }),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Serial device, e.g. /dev/ttyUSB0 (serial framing)' })),
    baud_rate: Type.Union(
      [Type.Literal(2400), Type.Literal(4800), Type.Literal(9600), Type.Literal(19200), Type.Literal(38400)],
      {
        default: 9600,
      },
    ),
    address: Type.Integer({
      minimum: 1,
      maximum: 7,
      default: 1,
      description: 'VISCA camera address (position in a serial chain)',
    }),
    profile: Type.Union([Type.Literal('sony'), Type.Literal('ptzoptics'), Type.Literal('lumens'), Type.Literal('generic')], {
      default: 'sony',
      description: 'Preset numbering and speed ranges',
    }),
    presets: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' }), Type.Integer({ minimum: 0, maximum: 255 }), {
        description: 'Named presets: name → camera preset number, e.g. down = 10',
      }),
    ),
    reply_timeout_ms: Type.Integer({ minimum: 10, maximum: 10_000, default: 1000, description: 'Wait for ACK / inquiry reply' }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: 2,
      description: 'Resends after a reply timeout (raw-tcp: no resend, waits that many more reply timeouts)',
    }),
    completion_timeout_ms: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000, description: 'Wait for Completion' }),
    busy_retry_ms: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 200,
      description: 'Delay before the retry after buffer full',
    }),
    poll_interval_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 5000,
      description: 'Probe interval: power and position inquiries that prove the camera answers (and publish changes)',
    }),
    pan_speed: Type.Optional(Type.Integer({ minimum: 1, maximum: 0x18, description: 'Default pan speed for move/goto' })),
    tilt_speed: Type.Optional(Type.Integer({ minimum: 1, maximum: 0x17, description: 'Default tilt speed for move' })),
    sim_motion_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 1000,
      description: 'simulated = true only: how long the simulated camera takes to reach a preset',
    }),
  },
  { additionalProperties: false },
);

export type ViscaConfig = Static<typeof ViscaConfigSchema>;
