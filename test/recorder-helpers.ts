// Helpers for the recorder tests: ffprobe a file, decode a JPEG to grey
// pixels, and compare image regions.
import { execFileSync } from 'node:child_process';

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
