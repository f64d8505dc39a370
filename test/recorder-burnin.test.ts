// The overlays are burned into the recorded files, not only the preview: a
// title set while recording shows in later segments without a new segment; a
// new logo restarts ffmpeg into a new segment and the short gap is indexed.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorPng, decodeJpeg, type RecorderAgent, REGIONS, regionDiff, startRecorderAgent } from './recorder-helpers.js';
import type { TestAgent } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

// Bounds against a hang, not measurements: each wait spans two 2 s segments and
// an ffmpeg (re)start, which take longer on a loaded 2-core machine (there the
// whole test took 27.6 s of vitest's default 30 s). The test's own limit is 3 of these + 30 s.
const SEGMENTS_BOUND_MS = 30_000;

let t: TestAgent;
let act: RecorderAgent['act'];
type Status = { segments: number; gaps: number; segment: string | null; last_gap: { reason: string; end: string | null } | null };

beforeAll(async () => {
  ({ agent: t, act } = await startRecorderAgent(
    'still',
    `
[devices.still]
driver = "recorder"
input = "color=c=gray:s=320x240:rate=10"
input_format = "lavfi"
segment_seconds = 2
preset = "ultrafast"
min_free_mb = 1
logo_max_px = 48
`,
  ));
});
afterAll(async () => {
  await t?.stop();
});

function frameOf(file: string) {
  const jpeg = execFileSync('ffmpeg', [
    '-v',
    'error',
    '-ss',
    '0.5',
    '-i',
    file,
    '-frames:v',
    '1',
    '-c:v',
    'mjpeg',
    '-f',
    'image2pipe',
    'pipe:1',
  ]);
  return decodeJpeg(jpeg, 320, 240);
}

describe('overlays in the recording', () => {
  it('title burned in live; a new logo means a new segment and an indexed gap', async () => {
    await act('start', { meeting_id: 'burn' });
    await waitUntil(async () => (await act<Status>('status')).segments >= 2, SEGMENTS_BOUND_MS, 'first segment done');
    await act('graphic', { layer: 'title', text: 'Burned in', preview: false });
    const before = (await act<Status>('status')).segments;
    await waitUntil(async () => (await act<Status>('status')).segments >= before + 2, SEGMENTS_BOUND_MS, 'titled segment done');
    expect((await act<Status>('status')).gaps).toBe(0);

    const red = colorPng('red', 64);
    await act('graphic', { layer: 'logo', image_base64: red.toString('base64'), preview: false });
    const st = await waitUntil(
      async () => {
        const s = await act<Status>('status');
        return s.gaps === 1 && s.last_gap?.end ? s : null;
      },
      SEGMENTS_BOUND_MS,
      'restart after logo',
    );
    expect(st.last_gap!.reason).toBe('graphics: logo changed');
    await new Promise((r) => setTimeout(r, 1200));
    const res = await act<{ segments: { path: string; start: string }[]; gaps: { reason: string }[] }>('stop');
    expect(res.gaps.map((g) => g.reason)).toEqual(['graphics: logo changed']);

    const root = path.join(t.dir, 'data', 'recordings');
    const frames = res.segments.map((s) => frameOf(path.join(root, s.path)));
    const first = frames[0];
    const titled = frames[frames.length - 2];
    const logoed = frames[frames.length - 1];
    const { TOP, TOP_RIGHT, MIDDLE } = REGIONS;
    expect(regionDiff(first, titled, TOP)).toBeGreaterThan(15);
    expect(regionDiff(first, titled, MIDDLE)).toBeLessThan(3);
    expect(regionDiff(titled, logoed, TOP_RIGHT)).toBeGreaterThan(15);
    expect(regionDiff(titled, logoed, TOP)).toBeLessThan(3);
  }, 120_000);
});
