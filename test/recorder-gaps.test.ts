// Issue 19 item 6: gap end times preceded their start by 132–204 ms, because
// segment names (and so the next segment's start) were rounded down to the
// second. A planned restart (new logo) starts ffmpeg again at once, inside the
// same second; segments now carry milliseconds and every gap ends at or after
// its start. Real ffmpeg on a lavfi source.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorPng, type RecorderAgent, startRecorderAgent, TESTSRC_RECORDER } from './recorder-helpers.js';
import type { TestAgent } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

let t: TestAgent;
let act: RecorderAgent['act'];

beforeAll(async () => {
  ({ agent: t, act } = await startRecorderAgent('rec', TESTSRC_RECORDER));
});
afterAll(async () => {
  await t?.stop();
});

type Status = { gaps: number; last_gap: { end: string | null } | null; segment: string | null };
type Stopped = {
  directory: string;
  segments: { path: string; start: string; state: string }[];
  gaps: { start: string; end: string }[];
};

describe('recorder gaps and segment names', () => {
  it('names segments to the millisecond; a gap never ends before it starts', async () => {
    await act('start', { meeting_id: 'gaps' });
    for (const [i, color] of ['red', 'blue', 'green'].entries()) {
      await act('graphic', { layer: 'logo', image_base64: colorPng(color, 32).toString('base64'), preview: false });
      await waitUntil(
        async () => {
          const s = await act<Status>('status');
          return s.gaps === i + 1 && s.last_gap?.end && s.segment ? s : null;
        },
        10_000,
        `restart ${i + 1}`,
      );
    }
    const res = await act<Stopped>('stop');
    expect(res.gaps).toHaveLength(3);
    for (const g of res.gaps) expect(Date.parse(g.end), JSON.stringify(g)).toBeGreaterThanOrEqual(Date.parse(g.start));
    const root = path.join(t.dir, 'data', 'recordings');
    for (const s of res.segments) {
      const name = path.basename(s.path);
      expect(name).toMatch(/^program_\d{8}T\d{6}\.\d{3}Z\.mp4$/);
      const ms = name.slice(8, 27);
      const iso = `${ms.slice(0, 4)}-${ms.slice(4, 6)}-${ms.slice(6, 8)}T${ms.slice(9, 11)}:${ms.slice(11, 13)}:${ms.slice(13, 19)}Z`;
      expect(iso).toBe(s.start);
      expect(fs.statSync(path.join(root, s.path)).size).toBeGreaterThan(0);
    }
    // ffmpeg's own second-precision names are not left behind.
    expect(fs.readdirSync(res.directory).filter((f) => /T\d{6}Z\.mp4$/.test(f))).toEqual([]);
  });
});
