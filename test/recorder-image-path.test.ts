// Issue 16 finding 2: `graphic {layer: "logo", image_path}` named any path on
// the machine and read it synchronously (/dev/zero: RSS +1 GB/s, event loop
// frozen). Now only regular files inside the image folder, size-capped, read
// asynchronously; uploads are size-capped too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorPng, type RecorderAgent, startRecorderAgent, TESTSRC_RECORDER } from './recorder-helpers.js';
import type { TestAgent } from './support/agent.js';

let t: TestAgent;
let act: RecorderAgent['act'];
let imageDir: string;

beforeAll(async () => {
  ({ agent: t, act } = await startRecorderAgent('rec', `${TESTSRC_RECORDER}\nimage_max_bytes = 4096\n`));
  imageDir = path.join(t.dir, 'data', 'graphics');
});
afterAll(async () => {
  await t?.stop();
});

const logo = (image_path: string) => act('graphic', { layer: 'logo', image_path, preview: false });

describe('recorder graphic image_path (issue 16 finding 2)', () => {
  it('reads a logo from the image folder, by relative or absolute path', async () => {
    expect(fs.statSync(imageDir).isDirectory()).toBe(true);
    fs.writeFileSync(path.join(imageDir, 'red.png'), colorPng('red', 32));
    const rel = await logo('red.png');
    expect(rel.layers).toMatchObject({ logo: { source: 'red.png', width: 48, height: 48 } });
    const abs = await logo(path.join(imageDir, 'red.png'));
    expect(abs.layers).toMatchObject({ logo: { width: 48 } });
  });

  it('refuses files outside the folder, escapes and symlinks that leave it', async () => {
    const outside = path.join(t.dir, 'outside.png');
    fs.writeFileSync(outside, colorPng('blue', 32));
    fs.symlinkSync(outside, path.join(imageDir, 'link.png'));
    for (const p of [outside, '/etc/passwd', '../outside.png', 'link.png', `${imageDir}/../outside.png`]) {
      await expect(logo(p), p).rejects.toThrow(/image_path must name a file inside .*image_dir/);
    }
  });

  it('refuses devices, FIFOs, folders and files over image_max_bytes, without reading them', async () => {
    execFileSync('mkfifo', [path.join(imageDir, 'pipe.png')]);
    fs.mkdirSync(path.join(imageDir, 'sub.png'));
    fs.writeFileSync(path.join(imageDir, 'big.png'), Buffer.alloc(5000, 1));
    await expect(logo('pipe.png')).rejects.toThrow(/not a regular file/);
    await expect(logo('sub.png')).rejects.toThrow(/not a regular file/);
    await expect(logo('big.png')).rejects.toThrow(/5000 bytes, above the 4096-byte limit/);
    fs.symlinkSync('/dev/zero', path.join(imageDir, 'zero.png'));
    await expect(logo('zero.png')).rejects.toThrow(/inside/);
    await expect(logo('/dev/zero')).rejects.toThrow(/inside/);
  });

  it('caps uploads (image_base64) at image_max_bytes', async () => {
    const big = Buffer.alloc(6000, 7).toString('base64');
    await expect(act('graphic', { layer: 'logo', image_base64: big, preview: false })).rejects.toThrow(/4096-byte limit/);
  });
});
