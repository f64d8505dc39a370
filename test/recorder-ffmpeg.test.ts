// The recorder with the real ffmpeg (Debian package) on a lavfi test source,
// inside a real agent: segments on disk and in the index, ffprobe-valid with
// the expected duration; SIGKILL of ffmpeg → new segment and a recorded gap;
// `graphic` changes the preview's pixels where the layer is.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, type RecorderAgent, startRecorderAgent, TESTSRC_RECORDER } from './recorder-helpers.js';
import type { TestAgent } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

let t: TestAgent;
let act: RecorderAgent['act'];

interface Seg {
  path: string;
  start: string;
  end: string;
  bytes: number;
  duration_s: number;
  state: string;
}

beforeAll(async () => {
  ({ agent: t, act } = await startRecorderAgent('rec', TESTSRC_RECORDER));
});
afterAll(async () => {
  await t?.stop();
});

const root = () => path.join(t.dir, 'data', 'recordings');

describe('recorder with real ffmpeg', () => {
  it('records 2 s segments into <date>/<meeting>/<stream>_<start>.mp4, indexed and ffprobe-valid', async () => {
    const st = await act<{ recording: boolean; session: string; directory: string }>('start', {
      meeting_id: 'mtg/42 budget',
      title: 'Budget',
    });
    expect(st.recording).toBe(true);
    expect(st.session).toBe('mtg_42_budget');
    expect(path.relative(root(), st.directory)).toMatch(/^\d{4}-\d{2}-\d{2}\/mtg_42_budget$/);
    await waitUntil(async () => (await act<{ segments: number }>('status')).segments >= 3, 15_000, '3 segments');
    const res = await act<{ segments: Seg[]; gaps: unknown[] }>('stop');
    expect(res.gaps).toEqual([]);
    expect(res.segments.length).toBeGreaterThanOrEqual(3);
    for (const [i, s] of res.segments.entries()) {
      expect(s.path).toMatch(/^\d{4}-\d{2}-\d{2}\/mtg_42_budget\/program_\d{8}T\d{6}\.\d{3}Z\.mp4$/);
      const file = path.join(root(), s.path);
      expect(fs.statSync(file).size).toBe(s.bytes);
      const p = probe(file);
      expect(p.codec).toBe('h264');
      expect(s.state).toBe('complete');
      const last = i === res.segments.length - 1;
      if (!last) {
        expect(p.duration).toBeCloseTo(2, 1);
        expect(s.duration_s).toBeCloseTo(2, 1);
        expect(p.frames).toBe(50);
      } else {
        expect(p.duration).toBeGreaterThan(0);
        expect(p.duration).toBeLessThanOrEqual(2.05);
      }
      expect(Date.parse(s.end) - Date.parse(s.start)).toBeCloseTo(s.duration_s * 1000, -2);
    }
    const starts = res.segments.map((s) => Date.parse(s.start));
    expect(new Set(starts).size).toBe(starts.length);
  });

  it('SIGKILL of ffmpeg → the broken segment stays playable, a new segment starts, the gap is indexed', async () => {
    await act('start', {});
    await waitUntil(async () => (await act<{ segments: number }>('status')).segments >= 2, 15_000, 'recording');
    // Kill mid-segment: wait until the current segment has a second of data.
    await new Promise((r) => setTimeout(r, 1500));
    const pids = execFileSync('pgrep', ['-f', '-P', String(process.pid), 'ffmpeg'])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    expect(pids.length).toBe(1);
    process.kill(pids[0], 'SIGKILL');
    const st = await waitUntil(
      async () => {
        const s = await act<{
          gaps: number;
          restarts: number;
          segment: string | null;
          last_gap: { end: string | null; reason: string } | null;
        }>('status');
        return s.gaps === 1 && s.last_gap?.end ? s : null;
      },
      15_000,
      'restart after SIGKILL',
    );
    expect(st.last_gap!.reason).toMatch(/signal SIGKILL/);
    expect(st.restarts).toBe(1);
    await waitUntil(async () => (await act<{ segment: string | null }>('status')).segment !== null, 10_000, 'new segment');
    const res = await act<{ session: string; segments: Seg[]; gaps: { start: string; end: string; reason: string }[] }>('stop');
    expect(res.gaps).toHaveLength(1);
    const gap = res.gaps[0];
    expect(Date.parse(gap.end)).toBeGreaterThanOrEqual(Date.parse(gap.start));
    const recovered = res.segments.filter((s) => s.state === 'recovered');
    expect(recovered).toHaveLength(1);
    const p = probe(path.join(root(), recovered[0].path));
    expect(p.duration).toBeGreaterThan(0.5);
    expect(recovered[0].duration_s).toBeCloseTo(p.duration, 1);
    const after = res.segments.filter((s) => Date.parse(s.start) > Date.parse(recovered[0].start));
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const s of res.segments) expect(probe(path.join(root(), s.path)).frames).toBeGreaterThan(0);
    const listed = await act<{ gaps: unknown[]; segments: Seg[] }>('recordings', { session: res.session });
    expect(listed.gaps).toHaveLength(1);
    expect(listed.segments.length).toBe(res.segments.length);
  });
});
