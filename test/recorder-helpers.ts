// Helpers for the recorder tests: a real agent with a recorder device online,
// ffprobe a file, make a test image, decode a JPEG to grey pixels, and
// compare image regions.
import { execFileSync } from 'node:child_process';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

export interface RecorderAgent {
  agent: TestAgent;
  /** Operator client. */
  client: RpcTestClient;
  /** Runs an action of the recorder device as the operator. */
  act<T = Record<string, unknown>>(action: string, params?: Record<string, unknown>): Promise<T>;
}

/** Starts a real agent from `toml` and waits until its recorder device `device` is online. */
export async function startRecorderAgent(device: string, toml: string, onlineTimeoutMs = 10_000): Promise<RecorderAgent> {
  const agent = await startTestAgent(toml);
  try {
    const client = await agent.connect(TOKENS.operator);
    await waitUntil(
      async () => (await client.call<{ status: { status: string } }>('devices.get', { device })).status.status === 'online',
      onlineTimeoutMs,
      `${device} online`,
    );
    const act = <T = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}) =>
      client.call<T>('device.action', { device, action, params });
    return { agent, client, act };
  } catch (e) {
    await agent.stop();
    throw e;
  }
}

/** Config of a recorder `rec` on ffmpeg's moving 320x240 test picture, 2 s segments, 48 px logos. */
export const TESTSRC_RECORDER = `
[devices.rec]
driver = "recorder"
input = "testsrc2=size=320x240:rate=25"
input_format = "lavfi"
segment_seconds = 2
preset = "ultrafast"
min_free_mb = 1
check_interval_ms = 500
logo_max_px = 48
preview_width = 320
`;

/** A one-colour PNG made by ffmpeg (a logo for the `graphic` layer). */
export function colorPng(color: string, size: number): Buffer {
  return execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `color=c=${color}:s=${size}x${size}`,
    '-frames:v',
    '1',
    '-c:v',
    'png',
    '-f',
    'image2pipe',
    'pipe:1',
  ]);
}

/** Where the overlay layers are drawn, as fractions of the picture (for regionDiff). */
export const REGIONS = {
  /** The title. */
  TOP: { x0: 0.3, y0: 0.02, x1: 0.7, y1: 0.16 },
  /** The lower third. */
  BOTTOM_LEFT: { x0: 0.02, y0: 0.78, x1: 0.4, y1: 0.95 },
  /** The logo. */
  TOP_RIGHT: { x0: 0.83, y0: 0.05, x1: 0.95, y1: 0.2 },
  /** No layer: must not change. */
  MIDDLE: { x0: 0.3, y0: 0.35, x1: 0.7, y1: 0.65 },
};

export function probe(file: string): { duration: number; frames: number; codec: string } {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-show_entries',
    'format=duration:stream=codec_name,nb_read_frames',
    '-of',
    'json',
    file,
  ]).toString();
  const j = JSON.parse(out) as { format: { duration: string }; streams: { codec_name: string; nb_read_frames: string }[] };
  return { duration: Number(j.format.duration), frames: Number(j.streams[0].nb_read_frames), codec: j.streams[0].codec_name };
}

export interface Grey {
  width: number;
  height: number;
  px: Buffer;
}

export function decodeJpeg(jpeg: Buffer, width: number, height: number): Grey {
  const px = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', 'pipe:0', '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'],
    {
      input: jpeg,
    },
  );
  return { width, height, px };
}

/** Mean absolute difference of two images inside a rectangle (fractions of the size). */
export function regionDiff(a: Grey, b: Grey, r: { x0: number; y0: number; x1: number; y1: number }): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.floor(r.y0 * a.height); y < Math.floor(r.y1 * a.height); y++) {
    for (let x = Math.floor(r.x0 * a.width); x < Math.floor(r.x1 * a.width); x++) {
      sum += Math.abs(a.px[y * a.width + x] - b.px[y * b.width + x]);
      n++;
    }
  }
  return sum / n;
}
