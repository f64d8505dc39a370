// Finds ffmpeg/ffprobe the way a shell would, and says where it looked.
import fs from 'node:fs';
import path from 'node:path';

/** Absolute path of an executable (path or bare name on PATH), or the list of places checked. */
export function findExecutable(bin: string): { path: string } | { checked: string[] } {
  const candidates = bin.includes('/')
    ? [path.resolve(bin)]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, bin));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return { path: c };
    } catch {
      // next
    }
  }
  return { checked: candidates };
}
