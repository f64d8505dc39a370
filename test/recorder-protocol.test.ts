// Pure recorder logic: naming, ffmpeg segment-output parsers, argument lists
// and the disk clean-up plan. Table tests plus properties: the parsers never
// throw on random input, and a segment list re-chunked at random points
// parses the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dateFolder,
  inputArgs,
  parseOpeningLine,
  parseSegmentListLine,
  parseSegmentName,
  segmentNameMs,
  planDeletions,
  recordArgs,
  redactCredentials,
  sessionIdFor,
  utcStamp,
} from '../drivers/recorder/protocol.js';

const T = Date.UTC(2026, 0, 15, 9, 30, 5);

describe('naming', () => {
  it('stamps and date folders are UTC', () => {
    expect(utcStamp(T)).toBe('20260115T093005Z');
    expect(dateFolder(T)).toBe('2026-01-15');
    expect(dateFolder(Date.UTC(2026, 0, 15, 23, 59, 59))).toBe('2026-01-15');
  });

  it.each([
    [undefined, 'adhoc-20260115T093005Z'],
    ['m-42', 'm-42'],
    ['mtg/42 budget', 'mtg_42_budget'],
    ['../../etc', 'etc'],
    ['...', 'meeting-20260115T093005Z'],
    ['a'.repeat(200), 'a'.repeat(80)],
  ])('session id for %s → %s', (id, out) => {
    expect(sessionIdFor(id, T)).toBe(out);
  });

  it.each([
    ['/r/2026-01-15/m/program_20260115T093005Z.mp4', { stream: 'program', startMs: T, precise: false }],
    ['cam-1_main_20260115T093005Z.mp4', { stream: 'cam-1_main', startMs: T, precise: false }],
    ['program_20260115T093005.078Z.mp4', { stream: 'program', startMs: T + 78, precise: true }],
    ['program_20260115T093005.78Z.mp4', null],
    ['program_20261315T093005Z.mp4', null],
    ['program_20260115T253005Z.mp4', null],
    ['program.mp4', null],
    ['program_20260115T093005Z.mkv', null],
  ])('segment name %s', (name, out) => {
    expect(parseSegmentName(name)).toEqual(out);
  });

  it('names segments with milliseconds, and reads them back', () => {
    expect(segmentNameMs('program', T + 78)).toBe('program_20260115T093005.078Z.mp4');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (ms) => parseSegmentName(segmentNameMs('p', ms))?.startMs === ms,
      ),
    );
  });
});

describe('ffmpeg output parsers', () => {
  it.each([
    ['program_20260115T093005Z.mp4,0.000000,2.000000', { file: 'program_20260115T093005Z.mp4', start: 0, end: 2 }],
    ['program_20260115T093007Z.mp4,2.000000,3.480000\n', { file: 'program_20260115T093007Z.mp4', start: 2, end: 3.48 }],
    ['"a,b ""x"".mp4",4.0,6.0', { file: 'a,b "x".mp4', start: 4, end: 6 }],
    ['x.mp4,2,1', null],
    ['x.mp4,a,b', null],
    ['x.mp4,1', null],
    ['', null],
  ])('segment list line %j', (line, out) => {
    expect(parseSegmentListLine(line)).toEqual(out);
  });

  it.each([
    ["[segment @ 0x560fe19f2d40] Opening '/r/d/program_20260115T093005Z.mp4' for writing", '/r/d/program_20260115T093005Z.mp4'],
    ["[segment @ 0x560fe19f2d40] Opening 'pipe:3' for writing", null],
    ["[hls @ 0x1] Opening 'x.mp4' for writing", null],
    ['frame=  100 fps= 25', null],
  ])('opening line %s', (line, out) => {
    expect(parseOpeningLine(line)).toBe(out);
  });

  it('redacts credentials ffmpeg echoes', () => {
    expect(redactCredentials("Input #0, rtsp, from 'rtsp://admin:pw@10.0.0.5/x':")).toBe(
      "Input #0, rtsp, from 'rtsp://***@10.0.0.5/x':",
    );
  });

  it('parsers never throw on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        parseSegmentListLine(s);
        parseOpeningLine(s);
        parseSegmentName(s);
        redactCredentials(s);
        return true;
      }),
    );
  });

  it('a segment list re-chunked at random points parses the same', () => {
    const transcript = [0, 2, 4, 6].map((t, i) => `program_2026011${i}T093005Z.mp4,${t}.000000,${t + 2}.000000\n`).join('');
    const parseAll = (chunks: string[]) => {
      let buf = '';
      const out: unknown[] = [];
      for (const c of chunks) {
        buf += c;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const e = parseSegmentListLine(buf.slice(0, nl));
          if (e) out.push(e);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      }
      return out;
    };
    const whole = parseAll([transcript]);
    expect(whole).toHaveLength(4);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: transcript.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), transcript.length];
        const chunks = points.slice(1).map((p, i) => transcript.slice(points[i], p));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });
});

describe('ffmpeg arguments', () => {
  it('reads RTSP over TCP in real time, lavfi with -re', () => {
    expect(inputArgs({ url: 'rtsp://127.0.0.1:18554/cam-1_main', realtime: false })).toEqual([
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '10000000',
      '-i',
      'rtsp://127.0.0.1:18554/cam-1_main',
    ]);
    expect(inputArgs({ url: 'testsrc2', format: 'lavfi', realtime: true })).toEqual(['-re', '-f', 'lavfi', '-i', 'testsrc2']);
  });

  it('segments fragmented MP4 on 1 s keyframes and lists finished segments on fd 3', () => {
    const a = recordArgs({
      input: { url: 'rtsp://127.0.0.1:18554/x', realtime: false },
      stream: 'program',
      dir: '/data/recordings/2026-01-15/m1',
      segmentSeconds: 300,
      preset: 'veryfast',
      crf: 23,
      audio: true,
      style: { font: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf' },
    });
    const valueAfter = (k: string) => a[a.indexOf(k) + 1];
    expect(valueAfter('-segment_time')).toBe('300');
    expect(valueAfter('-force_key_frames')).toBe('expr:gte(t,n_forced*1)');
    expect(valueAfter('-segment_format_options')).toBe('movflags=+frag_keyframe+empty_moov+default_base_moof:flush_packets=1');
    expect(valueAfter('-segment_list')).toBe('pipe:3');
    expect(valueAfter('-strftime')).toBe('1');
    expect(a.at(-1)).toBe('/data/recordings/2026-01-15/m1/program_%Y%m%dT%H%M%SZ.mp4');
    expect(valueAfter('-filter_complex')).toContain('textfile=title.txt:reload=1');
    expect(a).toContain('0:a?');
  });
});

describe('disk clean-up plan', () => {
  const MB = 1024 * 1024;
  const day = 86_400_000;
  const segs = [
    { id: 1, path: 'a', bytes: 100 * MB, startMs: T - 10 * day, active: false },
    { id: 2, path: 'b', bytes: 100 * MB, startMs: T - 5 * day, active: false },
    { id: 3, path: 'c', bytes: 100 * MB, startMs: T - 1 * day, active: false },
    { id: 4, path: 'd', bytes: 100 * MB, startMs: T - 1000, active: true },
  ];

  it('without a retention nothing is deleted; low space is reported', () => {
    const p = planDeletions(segs, { freeBytes: 50 * MB, minFreeBytes: 200 * MB, nowMs: T, retentionDays: undefined });
    expect(p.remove).toEqual([]);
    expect(p.enough).toBe(false);
  });

  it('deletes what is older than the retention even with space to spare', () => {
    const p = planDeletions(segs, { freeBytes: 10_000 * MB, minFreeBytes: 200 * MB, nowMs: T, retentionDays: 7 });
    expect(p.remove.map((s) => s.path)).toEqual(['a']);
  });

  it('low on space with a retention: oldest first until enough, never the active segment', () => {
    const p = planDeletions(segs, { freeBytes: 50 * MB, minFreeBytes: 200 * MB, nowMs: T, retentionDays: 30 });
    expect(p.remove.map((s) => s.path)).toEqual(['a', 'b']);
    expect(p.enough).toBe(true);
    const all = planDeletions(segs, { freeBytes: 0, minFreeBytes: 1000 * MB, nowMs: T, retentionDays: 30 });
    expect(all.remove.map((s) => s.path)).toEqual(['a', 'b', 'c']);
    expect(all.enough).toBe(false);
  });
});
