import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The room-agent package folder (the one with our package.json), found by
 * walking up from `from`. The same code runs from src/ (tsx), dist/src/ (tsc)
 * and the dist/agent/ bundle, so paths relative to a module's own file differ.
 */
export function packageRoot(from: string = import.meta.url): string {
  const start = path.dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  let dir = start;
  for (let i = 0; i < 8; i++) {
    const pkg = path.join(dir, 'package.json');
    try {
      if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'room-agent') return dir;
    } catch {
      // not here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.resolve(start, '..', '..');
}
