// `[devices.<id>]` keys of the recorder driver.
import { Type } from '@sinclair/typebox';
import { LAYERS } from './protocol.js';

export const RecorderConfigSchema = Type.Object(
  {
    input: Type.String({
      default: '',
      description: 'What to record: a go2rtc restream (rtsp://127.0.0.1:18554/cam-1_main) or any ffmpeg input.',
    }),
    input_format: Type.Optional(Type.String({ description: 'ffmpeg -f for the input, e.g. "lavfi" for a test source.' })),
    realtime: Type.Optional(Type.Boolean({ description: 'Read at native speed (-re); default true for lavfi and files.' })),
    stream: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      default: 'program',
      description: 'Name in file names: <stream>_<start>.mp4.',
    }),
    ffmpeg: Type.String({ default: 'ffmpeg', description: 'ffmpeg binary (path or name on PATH).' }),
    ffprobe: Type.String({ default: 'ffprobe', description: 'ffprobe binary (to close segments after a crash).' }),
    output_dir: Type.Optional(Type.String({ description: 'Recordings root; default <data_dir>/recordings.' })),
    segment_seconds: Type.Integer({ minimum: 2, maximum: 3600, default: 300, description: 'Length of one MP4 segment.' }),
    preset: Type.String({ pattern: '^[a-z]+$', default: 'veryfast', description: 'libx264 preset.' }),
    crf: Type.Integer({ minimum: 0, maximum: 51, default: 23, description: 'libx264 quality (lower = better, bigger).' }),
    audio: Type.Boolean({ default: true, description: 'Record the input audio (AAC) when it has any.' }),
    min_free_mb: Type.Integer({ minimum: 0, default: 2048, description: 'Stop and alert below this free space.' }),
    retention_days: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Delete recordings older than this; low on space, delete the oldest first.' }),
    ),
    check_interval_ms: Type.Integer({ minimum: 100, default: 10_000, description: 'Free-space check period.' }),
    start_timeout_ms: Type.Integer({
      minimum: 1000,
      default: 15_000,
      description: 'How long `start` waits for the first segment.',
    }),
    restart_min_ms: Type.Integer({ minimum: 1000, default: 1100, description: 'First restart delay after ffmpeg died.' }),
    restart_max_ms: Type.Integer({ minimum: 1000, default: 30_000, description: 'Longest restart delay.' }),
    font: Type.String({ default: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', description: 'Font of the text layers.' }),
    logo_max_px: Type.Integer({ minimum: 16, maximum: 1024, default: 160, description: 'The logo is scaled to fit this box.' }),
    image_dir: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'The only folder `graphic` image_path may name files in; default <data_dir>/graphics.',
      }),
    ),
    image_max_bytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 2 * 1024 * 1024,
      description: 'Largest logo image accepted by `graphic` (file or decoded image_base64).',
    }),
    preview_width: Type.Integer({
      minimum: 64,
      maximum: 3840,
      default: 640,
      description: 'Width of the `graphic` preview JPEG.',
    }),
    follow_meeting: Type.Boolean({ default: false, description: 'Start at meeting.start, stop at meeting.end.' }),
    follow_retry_min_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 2000,
      description: 'follow_meeting: first retry delay after a failed start (doubling while the meeting runs).',
    }),
    follow_retry_max_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 30_000,
      description: 'follow_meeting: longest retry delay.',
    }),
    not_recording_alert_s: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: 30,
      description:
        'Alert (recorder_failure) when not recording this long: after meeting.start (follow_meeting), or while ffmpeg restarts inside a session.',
    }),
    meeting_title: Type.Boolean({ default: true, description: 'Show the meeting name in the title layer.' }),
    speaker_lower_third: Type.Boolean({ default: true, description: "Show the director's current speaker in the lower third." }),
  },
  { additionalProperties: false },
);

/** Params of the `graphic` action. */
export const GraphicParams = Type.Object(
  {
    layer: Type.Optional(
      Type.Union(
        LAYERS.map((l) => Type.Literal(l)),
        { description: 'Layer to set or clear; omit to only get layers and preview.' },
      ),
    ),
    text: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'title / lower_third text.' })),
    image_base64: Type.Optional(
      Type.String({ minLength: 8, maxLength: 4_000_000, description: 'logo image (PNG, JPEG…), base64.' }),
    ),
    image_path: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'logo image file inside the image folder (image_dir; relative to it or absolute).',
      }),
    ),
    clear: Type.Optional(Type.Boolean({ description: 'true: remove the layer.' })),
    preview: Type.Optional(Type.Boolean({ default: true, description: 'false: skip the JPEG preview.' })),
  },
  { additionalProperties: false },
);
