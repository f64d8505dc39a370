// What the .deb's node_modules must hold: the agent is one bundle
// (dist/agent/agent.js) whose only runtime imports from node_modules are the
// externals of scripts/build-agent.ts, so the package carries those packages and
// their dependency trees (dependencies, and the optional and peer dependencies
// that are installed), resolved the way Node resolves them — nothing else.
// Left out as well: packages that only serve compilers, never loaded at run
// time (type declarations, the C/C++ headers the addons were built with).
//
//   tsx scripts/deb/runtime-deps.ts                 prints one node_modules-relative folder per line
//   tsx scripts/deb/runtime-deps.ts --copy-to DIR    copies them (each without its own nested
//                                                    node_modules, which are listed separately) into DIR
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXTERNAL } from '../build-agent.js';

const BUILD_ONLY = (name: string) => name.startsWith('@types/') || ['undici-types', 'nan', 'node-addon-api'].includes(name);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The folder Node would load `name` from inside `fromDir` (its node_modules lookup, up to ROOT), or null. */
function resolvePackage(root: string, fromDir: string, name: string): string | null {
  for (let dir = fromDir; dir.startsWith(root); dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
    if (dir === root) break;
  }
  return null;
}

/** Every package folder the externals need at run time, relative to ROOT/node_modules, sorted. */
export function runtimePackages(root: string, externals: readonly string[] = EXTERNAL): string[] {
  const seen = new Set<string>();
  const missing: string[] = [];
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    for (const [deps, required] of [
      [m.dependencies, true],
      [m.optionalDependencies, false],
      [m.peerDependencies, false],
    ] as const) {
      for (const name of Object.keys(deps ?? {})) {
        if (BUILD_ONLY(name)) continue;
        const found = resolvePackage(root, dir, name);
        if (found) visit(found);
        else if (required && !m.optionalDependencies?.[name]) missing.push(`${m.name} → ${name}`);
      }
    }
  };
  for (const name of externals) {
    const found = resolvePackage(root, root, name);
    if (!found) throw new Error(`external ${name} is not installed in ${root}/node_modules (run npm ci)`);
    visit(found);
  }
  if (missing.length) throw new Error(`dependencies not installed: ${missing.join(', ')}`);
  return [...seen].map((d) => path.relative(path.join(root, 'node_modules'), d)).sort();
}

/** Copies the listed packages from ROOT/node_modules into `target`; returns how many. */
export function copyRuntimePackages(root: string, target: string): number {
  const list = runtimePackages(root);
  for (const rel of list) {
    const from = path.join(root, 'node_modules', rel);
    const nested = path.join(from, 'node_modules');
    fs.cpSync(from, path.join(target, rel), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => src !== nested && !src.startsWith(`${nested}${path.sep}`),
    });
  }
  return list.length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const at = process.argv.indexOf('--copy-to');
  if (at > 0) {
    const n = copyRuntimePackages(root, path.resolve(process.argv[at + 1]));
    console.log(`runtime-deps: ${n} packages copied to ${process.argv[at + 1]}`);
  } else {
    for (const p of runtimePackages(root)) console.log(p);
  }
}
