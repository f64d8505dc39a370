// Where a logo for the `graphic` request may come from. A client names a file
// (`image_path`) only inside the configured image folder — symlinks resolved,
// escapes refused — and only a regular file up to the size cap, read without
// blocking the event loop; or sends the bytes (`image_base64`) under the same cap.
import fs from 'node:fs';
import path from 'node:path';
import { AgentError } from '../../src/util/errors.js';

export interface ImageLimits {
  /** The only folder `image_path` may name files in (absolute). */
  dir: string;
  /** Largest image accepted, in bytes (file or decoded upload). */
  maxBytes: number;
}

const invalid = (msg: string) => new AgentError('INVALID_PARAMS', msg);

/** Bytes of an uploaded image; refused before decoding when it cannot fit the cap. */
export function imageFromBase64(data: string, limits: ImageLimits): Buffer {
  // 4 base64 characters carry 3 bytes; a longer text cannot decode under the cap.
  if (data.length > Math.ceil(limits.maxBytes / 3) * 4 + 4)
    throw invalid(`graphic logo: image_base64 is larger than the ${limits.maxBytes}-byte limit (image_max_bytes)`);
  const image = Buffer.from(data, 'base64');
  if (image.length > limits.maxBytes)
    throw invalid(`graphic logo: image is ${image.length} bytes, above the ${limits.maxBytes}-byte limit (image_max_bytes)`);
  return image;
}

/**
 * Reads `image_path` (absolute, or relative to the image folder). Refused:
 * anything whose real path (symlinks resolved) is outside the folder,
 * anything but a regular file (devices, FIFOs, sockets, folders), and files
 * above the cap. The answer never says whether a refused outside path exists.
 */
export async function imageFromPath(requested: string, limits: ImageLimits): Promise<Buffer> {
  const outside = () => invalid(`graphic logo: image_path must name a file inside ${limits.dir} (image_dir)`);
  if (requested.includes('\0')) throw outside();
  let root: string;
  try {
    root = await fs.promises.realpath(limits.dir);
  } catch {
    throw invalid(`graphic logo: the image folder ${limits.dir} does not exist (image_dir); put logos there`);
  }
  const lexical = path.resolve(limits.dir, requested);
  if (!isInside(path.resolve(limits.dir), lexical) && !isInside(root, lexical)) throw outside();
  let real: string;
  try {
    real = await fs.promises.realpath(lexical);
  } catch {
    throw invalid(`graphic logo: no file "${path.relative(limits.dir, lexical)}" in ${limits.dir}`);
  }
  if (!isInside(root, real)) throw outside();
  // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the
  // checked path must not be swapped for a symlink between check and open.
  const flags = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(real, flags);
  } catch (e) {
    throw invalid(`graphic logo: cannot open "${path.relative(root, real)}": ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw invalid(`graphic logo: "${path.relative(root, real)}" is not a regular file`);
    if (st.size > limits.maxBytes)
      throw invalid(
        `graphic logo: "${path.relative(root, real)}" is ${st.size} bytes, above the ${limits.maxBytes}-byte limit (image_max_bytes)`,
      );
    // Read at most cap + 1 bytes: a file growing while read is still refused.
    const buf = Buffer.alloc(limits.maxBytes + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > limits.maxBytes)
        throw invalid(
          `graphic logo: "${path.relative(root, real)}" is above the ${limits.maxBytes}-byte limit (image_max_bytes)`,
        );
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
