// The `[video]` section: where go2rtc is, its loopback ports, WebRTC
// candidates for the room network, and the RTSP streams of each camera.
import { type Static, Type } from '@sinclair/typebox';

export const CameraStreamsSchema = Type.Object(
  {
    main: Type.Optional(Type.String({ minLength: 1, description: 'Main (full resolution) RTSP URL of the camera.' })),
    sub: Type.Optional(Type.String({ minLength: 1, description: 'Sub (low resolution) RTSP URL of the camera.' })),
  },
  { additionalProperties: false },
);

export const VideoSectionSchema = Type.Object(
  {
    go2rtc: Type.String({
      default: '/usr/lib/room-agent/go2rtc',
      description: 'Path of the go2rtc binary (absolute, or a bare name looked up on PATH).',
    }),
    api_port: Type.Integer({ minimum: 1, maximum: 65535, default: 11984, description: "go2rtc's HTTP API, on 127.0.0.1 only." }),
    rtsp_port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 18554,
      description: 'go2rtc RTSP restream, on 127.0.0.1 only.',
    }),
    webrtc_port: Type.Integer({ minimum: 1, maximum: 65535, default: 18555, description: 'WebRTC media port (TCP+UDP).' }),
    candidates: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'WebRTC candidates the browsers can reach, e.g. "192.168.1.50:18555" or "stun:18555".',
    }),
    ffmpeg: Type.Optional(
      Type.String({ minLength: 1, description: 'ffmpeg binary go2rtc uses for transcoding and JPEG frames.' }),
    ),
    config_dir: Type.Optional(Type.String({ description: 'Where the generated go2rtc.yaml goes (default <data_dir>/video).' })),
    health_interval_ms: Type.Integer({
      minimum: 50,
      maximum: 600_000,
      default: 10_000,
      description: 'GET /api liveness period.',
    }),
    health_timeout_ms: Type.Integer({
      minimum: 50,
      maximum: 60_000,
      default: 4_000,
      description: 'Timeout of one liveness probe.',
    }),
    health_misses: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'Missed probes in a row before a restart.' }),
    ready_timeout_ms: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000, description: 'Start-up deadline.' }),
    stop_grace_ms: Type.Integer({ minimum: 10, maximum: 60_000, default: 5_000, description: 'SIGTERM to SIGKILL delay.' }),
    rss_limit_mb: Type.Integer({ minimum: 16, maximum: 65_536, default: 1024, description: 'Restart go2rtc above this RSS.' }),
    restart_min_ms: Type.Integer({ minimum: 10, maximum: 600_000, default: 1_000, description: 'First restart delay.' }),
    restart_max_ms: Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000, description: 'Longest restart delay.' }),
    max_body_bytes: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: 256 * 1024,
      description: 'Largest body POST /video/webrtc accepts (an SDP offer is a few KiB); 413 above it.',
    }),
    streams: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), CameraStreamsSchema, {
      default: {},
      description: 'RTSP URLs per camera device id: [video.streams.<camera id>] main = "rtsp://…", sub = "rtsp://…".',
    }),
  },
  { additionalProperties: false },
);

export type VideoSection = Static<typeof VideoSectionSchema>;
export type CameraStreams = Static<typeof CameraStreamsSchema>;
