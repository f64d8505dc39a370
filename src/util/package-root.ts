import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageInfo {
  root: string;
  version: string;
}

let found: PackageInfo | null = null;

/**
 * The room-agent package folder (the one with our package.json) and its
 * version, found once by walking up from this file. The same code runs from
 * src/ (tsx), dist/src/ (tsc) and the dist/agent/ bundle, so paths relative to
 * a module's own file differ; everything shipped with the package (console,
 * scenarios, samples) is found from here instead.
 */
function packageInfo(): PackageInfo {
  if (found) return found;
  const start = path.dirname(fileURLToPath(import.meta.url));
  let dir = start;
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'room-agent') return (found = { root: dir, version: pkg.version ?? '0.0.0' });
    } catch {
      // not here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return (found = { root: path.resolve(start, '..', '..'), version: '0.0.0' });
}

export function packageRoot(): string {
  return packageInfo().root;
}

export function packageVersion(): string {
  return packageInfo().version;
}
