// The recorder's logo layer when no logo is set: a constant 2×2 transparent PNG written without
// running ffmpeg (drivers/recorder/graphics.ts). A first boot used to run ffmpeg for it inside the
// recorder's start, and `room-agent ready` waited for that process (docs/performance.md, "lean start").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Graphics, pngSize } from '../drivers/recorder/graphics.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'blank-logo-'));
  dirs.push(d);
  return d;
}

describe('recorder graphics: the blank logo', () => {
  it('a fresh graphics folder gets its logo.png without running ffmpeg', async () => {
    const dir = tmpDir();
    // An ffmpeg that cannot run: init must not need it.
    const g = new Graphics(path.join(dir, 'graphics'), path.join(dir, 'no-such-ffmpeg'), 48);
    await g.init();
    const png = fs.readFileSync(path.join(dir, 'graphics', 'logo.png'));
    expect(pngSize(png)).toEqual({ width: 2, height: 2 });
    expect(g.layers().logo).toBeNull();
  });

  it('clearing the logo writes the same blank image, again without ffmpeg', async () => {
    const dir = tmpDir();
    const g = new Graphics(path.join(dir, 'graphics'), path.join(dir, 'no-such-ffmpeg'), 48);
    await g.init();
    fs.writeFileSync(path.join(dir, 'graphics', 'logo.png'), 'not a png');
    await g.clear('logo');
    expect(pngSize(fs.readFileSync(path.join(dir, 'graphics', 'logo.png')))).toEqual({ width: 2, height: 2 });
  });

  it('ffmpeg reads it as 2×2 RGBA pixels, all fully transparent (what the overlay needs)', async () => {
    const dir = tmpDir();
    const g = new Graphics(path.join(dir, 'graphics'), 'ffmpeg', 48);
    await g.init();
    const raw = execFileSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        path.join(dir, 'graphics', 'logo.png'),
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgba',
        '-',
      ],
      { timeout: 20_000 },
    );
    expect(raw.length).toBe(2 * 2 * 4);
    for (let i = 3; i < raw.length; i += 4) expect(raw[i]).toBe(0); // alpha
  });
});
