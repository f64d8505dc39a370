// The `graphic` request with the real ffmpeg on a lavfi test source: each
// layer changes the preview's pixels where it is drawn (image comparison),
// clearing restores them; and the recorder's status when ffmpeg is absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  colorPng,
  decodeJpeg,
  type RecorderAgent,
  REGIONS,
  regionDiff,
  startRecorderAgent,
  TESTSRC_RECORDER,
} from './recorder-helpers.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

let t: TestAgent;
let act: RecorderAgent['act'];

beforeAll(async () => {
  ({ agent: t, act } = await startRecorderAgent('rec', TESTSRC_RECORDER));
});
afterAll(async () => {
  await t?.stop();
});

describe('recorder graphic', () => {
  it('graphic: each layer changes the preview where it is drawn, and clearing restores it', async () => {
    type G = { layers: Record<string, unknown>; preview: { content_type: string; data_base64: string } };
    const img = (g: G) => {
      expect(g.preview.content_type).toBe('image/jpeg');
      return decodeJpeg(Buffer.from(g.preview.data_base64, 'base64'), 320, 240);
    };
    const base = img(await act<G>('graphic'));
    const { TOP, BOTTOM_LEFT, TOP_RIGHT, MIDDLE } = REGIONS;

    const titled = await act<G>('graphic', { layer: 'title', text: 'Board meeting' });
    expect(titled.layers.title).toEqual({ text: 'Board meeting' });
    const withTitle = img(titled);
    expect(regionDiff(base, withTitle, TOP)).toBeGreaterThan(15);
    expect(regionDiff(base, withTitle, BOTTOM_LEFT)).toBeLessThan(3);
    expect(regionDiff(base, withTitle, MIDDLE)).toBeLessThan(3);

    const withLower = img(await act<G>('graphic', { layer: 'lower_third', text: 'Anna Petrova' }));
    expect(regionDiff(withTitle, withLower, BOTTOM_LEFT)).toBeGreaterThan(15);
    expect(regionDiff(withTitle, withLower, TOP)).toBeLessThan(3);

    const red = colorPng('red', 64);
    const logoed = await act<G>('graphic', { layer: 'logo', image_base64: red.toString('base64') });
    expect(logoed.layers.logo).toMatchObject({ width: 48, height: 48 });
    const withLogo = img(logoed);
    expect(regionDiff(withLower, withLogo, TOP_RIGHT)).toBeGreaterThan(15);
    expect(regionDiff(withLower, withLogo, MIDDLE)).toBeLessThan(3);

    for (const layer of ['title', 'lower_third', 'logo']) await act('graphic', { layer, clear: true, preview: false });
    const cleared = await act<G>('graphic');
    expect(cleared.layers).toEqual({ title: null, lower_third: null, logo: null });
    const back = img(cleared);
    for (const r of [TOP, BOTTOM_LEFT, TOP_RIGHT, MIDDLE]) expect(regionDiff(base, back, r)).toBeLessThan(3);
  });

  it('graphic rejects a layer without content and a logo that is not an image', async () => {
    await expect(act('graphic', { layer: 'title' })).rejects.toThrow(/give text/);
    await expect(
      act('graphic', { layer: 'logo', image_base64: Buffer.from('definitely not an image').toString('base64') }),
    ).rejects.toThrow(/not an image/);
  });
});

describe('recorder without ffmpeg', () => {
  it('reports a clear error status; status still answers, start is refused', async () => {
    const a = await startTestAgent(`
[devices.rec]
driver = "recorder"
input = "testsrc2"
input_format = "lavfi"
ffmpeg = "/nonexistent/bin/ffmpeg"
`);
    try {
      const cl = await a.connect(TOKENS.operator);
      const dev = await waitUntil(async () => {
        const d = await cl.call<{ status: { status: string; message: string } }>('devices.get', { device: 'rec' });
        return d.status.status === 'error' ? d : null;
      });
      expect(dev.status.message).toMatch(/ffmpeg "\/nonexistent\/bin\/ffmpeg" not found.*install the Debian package "ffmpeg"/);
      const st = await cl.call<{ recording: boolean }>('device.action', { device: 'rec', action: 'status', params: {} });
      expect(st.recording).toBe(false);
      await expect(cl.call('device.action', { device: 'rec', action: 'start', params: {} })).rejects.toThrow(/is error/);
    } finally {
      await a.stop();
    }
  });
});
