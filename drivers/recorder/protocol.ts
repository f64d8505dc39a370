// Pure recorder logic: file naming, ffmpeg argument lists, the overlay filter
// graph, parsers for ffmpeg's segment output, and the disk clean-up plan.
// Strings in, values out; no I/O.
import { redactUrlsInText } from '../../src/video/redact.js';

/** The overlay layers burned into the recording, bottom to top: logo, title, lower third. */
export const LAYERS = ['title', 'lower_third', 'logo'] as const;
export type LayerName = (typeof LAYERS)[number];

/** Files of the graphics directory ffmpeg reads (relative: ffmpeg runs with cwd = that directory). */
export const GRAPHIC_FILES = { title: 'title.txt', lower_third: 'lower_third.txt', logo: 'logo.png' } as const;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `20260115T093000Z` (UTC, second precision): the `<start>` in file names. */
export function utcStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
}

/** `2026-01-15`: the date folder (UTC date the recording session started). */
export function dateFolder(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A meeting id made safe as one path component (ids come from calendars and webhooks). */
export function sessionIdFor(meetingId: string | undefined, startMs: number): string {
  if (!meetingId) return `adhoc-${utcStamp(startMs)}`;
  const safe = meetingId
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 80);
  return safe === '' ? `meeting-${utcStamp(startMs)}` : safe;
}

/** The strftime pattern ffmpeg's segment muxer expands (run with TZ=UTC). */
export function segmentPattern(stream: string): string {
  return `${stream}_%Y%m%dT%H%M%SZ.mp4`;
}

/**
 * The name a segment gets once ffmpeg has opened it: `<stream>_<yyyymmddThhmmss.mmmZ>.mp4`.
 * ffmpeg's strftime names carry seconds only; the agent adds the milliseconds.
 */
export function segmentNameMs(stream: string, startMs: number): string {
  const stamp = utcStamp(startMs);
  return `${stream}_${stamp.slice(0, -1)}.${pad(new Date(startMs).getUTCMilliseconds(), 3)}Z.mp4`;
}

/**
 * Start time (ms) from a segment file name `<stream>_<yyyymmddThhmmss[.mmm]Z>.mp4`
 * (ffmpeg's second-precision name, or the agent's with milliseconds); null if it is not one.
 */
export function parseSegmentName(file: string): { stream: string; startMs: number; precise: boolean } | null {
  const base = file.split('/').pop() ?? '';
  const m = /^(.+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z\.mp4$/.exec(base);
  if (!m) return null;
  const [, stream, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, frac === undefined ? 0 : +frac);
  const back = new Date(ms);
  if (back.getUTCMonth() !== +mo - 1 || back.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return null;
  return { stream, startMs: ms, precise: frac !== undefined };
}

/** One line of the segment muxer's CSV list (`-segment_list_type csv`): a finished segment. */
export function parseSegmentListLine(line: string): { file: string; start: number; end: number } | null {
  const t = line.trim();
  let file: string;
  let rest: string;
  if (t.startsWith('"')) {
    // CSV quoting: "" inside quotes is one quote.
    let i = 1;
    file = '';
    for (; i < t.length; i++) {
      if (t[i] === '"' && t[i + 1] === '"') {
        file += '"';
        i++;
      } else if (t[i] === '"') break;
      else file += t[i];
    }
    if (t[i + 1] !== ',') return null;
    rest = t.slice(i + 2);
  } else {
    const parts = t.split(',');
    if (parts.length !== 3) return null;
    file = parts[0];
    rest = `${parts[1]},${parts[2]}`;
  }
  const [a, b, extra] = rest.split(',');
  if (extra !== undefined || a === undefined || b === undefined) return null;
  const start = Number(a);
  const end = Number(b);
  if (!file || a.trim() === '' || b.trim() === '' || !Number.isFinite(start) || !Number.isFinite(end) || end < start) return null;
  return { file, start, end };
}

/** `[segment @ 0x…] Opening '<file>' for writing` → the file, for .mp4 segments only. */
export function parseOpeningLine(line: string): string | null {
  const m = /\[segment @ [^\]]*\] Opening '(.+)' for writing/.exec(line);
  return m?.[1].endsWith('.mp4') ? m[1] : null;
}

/** Hides user:password and credential query params in URLs that ffmpeg echoes on stderr. */
export function redactCredentials(text: string): string {
  return redactUrlsInText(text);
}

export interface GraphicsStyle {
  /** Font file for drawtext (path without filter-special characters). */
  font: string;
}

/** True when a path can sit unescaped inside an ffmpeg filter graph. */
export function isFilterSafePath(p: string): boolean {
  return /^[A-Za-z0-9_./-]+$/.test(p);
}

/**
 * The overlay chain from `input` to `output`. Every layer is always in the
 * graph; an empty text file or a transparent logo shows nothing, so text can
 * change while recording (drawtext reload=1 re-reads the file every frame).
 */
export function overlayChain(input: string, logoInput: string, output: string, style: GraphicsStyle): string {
  const text = (file: string, extra: string) =>
    `drawtext=fontfile=${style.font}:textfile=${file}:reload=1:expansion=none:fontcolor=white:${extra}`;
  return [
    `${logoInput}format=rgba[lg]`,
    `${input}[lg]overlay=x=W-w-W*0.03:y=H*0.04:format=auto,` +
      `${text(GRAPHIC_FILES.title, 'fontsize=h/16:box=1:boxcolor=black@0.55:boxborderw=14:x=(w-text_w)/2:y=h*0.05')},` +
      `${text(GRAPHIC_FILES.lower_third, 'fontsize=h/20:box=1:boxcolor=0x1f4e9a@0.9:boxborderw=16:x=w*0.05:y=h*0.80')}` +
      output,
  ].join(';');
}

export interface InputSpec {
  url: string;
  /** ffmpeg -f for the input (e.g. lavfi); omitted = probe. */
  format?: string;
  /** Read at native speed (-re): for generated or file inputs, not for live RTSP. */
  realtime: boolean;
}

export function inputArgs(input: InputSpec): string[] {
  const a: string[] = [];
  if (input.realtime) a.push('-re');
  if (input.format) a.push('-f', input.format);
  if (/^rtsps?:\/\//i.test(input.url)) a.push('-rtsp_transport', 'tcp', '-timeout', '10000000');
  a.push('-i', input.url);
  return a;
}

export interface RecordArgsOptions {
  input: InputSpec;
  stream: string;
  /** Absolute session directory. */
  dir: string;
  segmentSeconds: number;
  preset: string;
  crf: number;
  audio: boolean;
  style: GraphicsStyle;
}

/**
 * One ffmpeg for a recording: input + logo → overlays → H.264 in MP4 segments
 * cut every `segmentSeconds` on forced keyframes. Each segment is a
 * fragmented MP4 flushed per 1 s fragment, so a crash loses at most the last
 * second and the file stays playable. Finished segments are listed on fd 3.
 */
export function recordArgs(o: RecordArgsOptions): string[] {
  // No second output (e.g. a preview frame) here: it makes ffmpeg hold back
  // the MP4 fragments, and a crash would then lose the whole segment.
  const graph = overlayChain('[0:v]', '[1:v]', '[vout]', o.style);
  return [
    '-y',
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'info',
    ...inputArgs(o.input),
    '-i',
    GRAPHIC_FILES.logo,
    '-filter_complex',
    graph,
    '-map',
    '[vout]',
    ...(o.audio ? ['-map', '0:a?', '-c:a', 'aac', '-b:a', '128k'] : []),
    '-c:v',
    'libx264',
    '-preset',
    o.preset,
    '-crf',
    String(o.crf),
    '-pix_fmt',
    'yuv420p',
    '-force_key_frames',
    'expr:gte(t,n_forced*1)',
    '-f',
    'segment',
    '-segment_time',
    String(o.segmentSeconds),
    '-reset_timestamps',
    '1',
    '-strftime',
    '1',
    '-segment_format',
    'mp4',
    '-segment_format_options',
    'movflags=+frag_keyframe+empty_moov+default_base_moof:flush_packets=1',
    '-segment_list',
    'pipe:3',
    '-segment_list_type',
    'csv',
    `${o.dir}/${segmentPattern(o.stream)}`,
  ];
}

/** One JPEG of the program with the current overlays, grabbed from the input (a go2rtc restream takes a second viewer). */
export function previewArgs(source: InputSpec, style: GraphicsStyle, width: number): string[] {
  const src = { ...source, realtime: false };
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    ...inputArgs(src),
    '-i',
    GRAPHIC_FILES.logo,
    '-filter_complex',
    `${overlayChain('[0:v]', '[1:v]', '[ov]', style)};[ov]scale=${width}:-2[vout]`,
    '-map',
    '[vout]',
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-q:v',
    '3',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

export interface StoredSegment {
  id: number;
  path: string;
  bytes: number;
  startMs: number;
  active: boolean;
}

/**
 * What to delete: everything older than the retention, then — only when a
 * retention is configured — the oldest segments until the free space is back
 * above the minimum. The segment being written is never deleted.
 */
export function planDeletions(
  segments: readonly StoredSegment[],
  o: { freeBytes: number; minFreeBytes: number; nowMs: number; retentionDays: number | undefined },
): { remove: StoredSegment[]; freeAfter: number; enough: boolean } {
  const remove: StoredSegment[] = [];
  let free = o.freeBytes;
  if (o.retentionDays === undefined || o.retentionDays <= 0) return { remove, freeAfter: free, enough: free >= o.minFreeBytes };
  const candidates = segments.filter((s) => !s.active).sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  const cutoff = o.nowMs - o.retentionDays * 86_400_000;
  for (const s of candidates) {
    if (s.startMs < cutoff || free < o.minFreeBytes) {
      remove.push(s);
      free += s.bytes;
    }
  }
  return { remove, freeAfter: free, enough: free >= o.minFreeBytes };
}
