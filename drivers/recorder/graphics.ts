// The overlay layers as files ffmpeg reads: title.txt and lower_third.txt
// (re-read every frame), logo.png (a normalised RGBA image; transparent when
// cleared). Layer state is kept in layers.json so it survives restarts.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DeviceError } from '../../src/util/errors.js';
import { GRAPHIC_FILES, type LayerName, redactCredentials } from './protocol.js';

export interface LayerState {
  title: { text: string } | null;
  lower_third: { text: string } | null;
  logo: { source: string; width: number; height: number } | null;
}

const EMPTY: LayerState = { title: null, lower_third: null, logo: null };

/**
 * The logo when there is none: a 2×2 fully transparent RGBA PNG, the bytes
 * `ffmpeg -f lavfi -i color=c=black@0.0:s=2x2,format=rgba -frames:v 1 -c:v png` writes
 * (test/recorder-blank-logo.test.ts: ffmpeg reads it back as 2×2 pixels, all transparent). The
 * ffmpeg run this replaces (`-i color=c=black@0.0:s=2x2 -vf format=rgba`) lost the alpha in the
 * color source and drew an opaque black 2×2 dot where the logo goes.
 */
const BLANK_LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAACXBIWXMAAAABAAAAAQBPJcTWAAAAC0lEQVR4nGNgQAcAABIAAXfx+gAAAAAASUVORK5CYII=',
  'base64',
);

function run(bin: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, timeout: 20_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(stderr.toString().trim().split('\n').pop() || err.message));
      else resolve();
    });
  });
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export class Graphics {
  private state: LayerState = { ...EMPTY };

  constructor(
    readonly dir: string,
    private readonly ffmpeg: string,
    private readonly logoMaxPx: number,
  ) {}

  /** Creates the files (keeping saved layers); a missing file would stop drawtext. */
  async init(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    try {
      this.state = {
        ...EMPTY,
        ...(JSON.parse(fs.readFileSync(path.join(this.dir, 'layers.json'), 'utf8')) as Partial<LayerState>),
      };
    } catch {
      this.state = { ...EMPTY };
    }
    writeAtomic(this.file('title'), this.state.title?.text ?? '');
    writeAtomic(this.file('lower_third'), this.state.lower_third?.text ?? '');
    if (!this.state.logo || !fs.existsSync(this.file('logo'))) {
      this.state.logo = null;
      await this.writeBlankLogo();
    }
    this.save();
  }

  layers(): LayerState {
    return JSON.parse(JSON.stringify(this.state)) as LayerState;
  }

  setText(layer: 'title' | 'lower_third', text: string): void {
    // One line; drawtext would draw control characters as boxes.
    const clean = text
      .replace(/[\r\n\t]+/g, ' ')
      .replace(/[\u0000-\u001f\u007f]/g, '')
      .slice(0, 200);
    writeAtomic(this.file(layer), clean);
    this.state[layer] = { text: clean };
    this.save();
  }

  /** Normalises any image ffmpeg can read to an RGBA PNG that fits logoMaxPx. */
  async setLogo(image: Buffer, source: string): Promise<void> {
    const input = path.join(this.dir, `logo-input.${process.pid}`);
    fs.writeFileSync(input, image);
    try {
      const m = this.logoMaxPx;
      const size = await this.renderLogo(['-i', input], `scale=w=${m}:h=${m}:force_original_aspect_ratio=decrease,format=rgba`);
      this.state.logo = { source, ...size };
      this.save();
    } catch (e) {
      throw new Error(`logo is not an image ffmpeg can read: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      fs.rmSync(input, { force: true });
    }
  }

  async clear(layer: LayerName): Promise<void> {
    if (layer === 'logo') {
      await this.writeBlankLogo();
      this.state.logo = null;
    } else {
      writeAtomic(this.file(layer), '');
      this.state[layer] = null;
    }
    this.save();
  }

  /** No ffmpeg run: a first boot's recorder start waited 0.1–0.7 s for one (docs/performance.md, "lean start"). */
  private async writeBlankLogo(): Promise<void> {
    writeAtomic(this.file('logo'), BLANK_LOGO_PNG);
  }

  /** One PNG frame of `input` through `filter`, put in place of logo.png; returns its size. */
  private async renderLogo(input: string[], filter: string): Promise<{ width: number; height: number }> {
    const out = path.join(this.dir, 'logo.next.png');
    try {
      const args = ['-hide_banner', '-loglevel', 'error', '-y', ...input, '-vf', filter];
      await run(this.ffmpeg, [...args, '-frames:v', '1', '-f', 'image2', '-c:v', 'png', out], this.dir);
      const size = pngSize(fs.readFileSync(out));
      fs.renameSync(out, this.file('logo'));
      return size;
    } finally {
      fs.rmSync(out, { force: true });
    }
  }

  private file(layer: LayerName): string {
    return path.join(this.dir, GRAPHIC_FILES[layer]);
  }

  private save(): void {
    writeAtomic(path.join(this.dir, 'layers.json'), JSON.stringify(this.state));
  }
}

/** One JPEG from a preview ffmpeg (args from protocol.previewArgs); its error line with URLs redacted. */
export function renderPreview(ffmpeg: string, cwd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(ffmpeg, args, { cwd, encoding: 'buffer', timeout: 20_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err && stdout.length > 0) return resolve(stdout);
      const last = stderr.toString().trim().split('\n').pop() || (err?.killed ? 'ffmpeg timed out' : 'ffmpeg produced no image');
      reject(new DeviceError(`preview failed: ${redactCredentials(last)}`));
    });
  });
}

/** Width and height from a PNG's IHDR. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  if (buf.length < 24 || buf.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
