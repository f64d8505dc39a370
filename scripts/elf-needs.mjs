// What an ELF file needs from the system it runs on: the shared libraries it names (DT_NEEDED) and
// the symbol versions of its version-needs section (.gnu.version_r), read with binutils' readelf,
// which reads every architecture (an arm64 binary on an amd64 build machine too). Used by
// scripts/build-addons.mjs (after a build), scripts/package-deb.sh, test/runtime.test.ts and
// scripts/deb/test-deb.sh.
//
//   node scripts/elf-needs.mjs [--max-glibc 2.28] [--max-glibcxx 3.4.25] [--no-libstdcxx] [--json | --newest] FILE...
//
// --newest prints one line instead: the newest glibc and GLIBCXX_ versions any of the files needs
// ("2.36 3.4.30", "none" for a need no file has; scripts/package-deb.sh's Depends, test-deb.sh).
// prints each file's newest GLIBC_ / GLIBCXX_ / CXXABI_ need and exits 1, naming file and need,
// when one is newer than --max-glibc / --max-glibcxx, or (--no-libstdcxx) when the file needs
// libstdc++ or libgcc_s at all: what a native addon linked with a static libstdc++ must not
// (docs/install.md, "Building on Astra Linux SE 1.7: the compiler").
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compares dotted versions ("2.28" < "2.34"). */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function readelf(args, file) {
  const r = spawnSync('readelf', [...args, '-W', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`readelf did not run (${r.error.message}): install binutils`);
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

/**
 * The libraries `file` names and the versions it needs of each:
 * `{ libraries: ['libc.so.6', …], versions: [{ library: 'libc.so.6', name: 'GLIBC_2.14' }, …] }`.
 */
export function elfNeeds(file) {
  const libraries = [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = [];
  let library = null;
  let inNeeds = false;
  for (const line of readelf(['-V'], file).split('\n')) {
    if (/^Version (needs|definition|symbols) section/.test(line)) inNeeds = line.startsWith('Version needs');
    if (!inNeeds) continue;
    const f = /\sFile: (\S+)/.exec(line);
    if (f) library = f[1];
    const n = /\sName: (\S+)/.exec(line);
    if (n && library) versions.push({ library, name: n[1] });
  }
  return { libraries, versions };
}

/** The newest version of `prefix` (GLIBC_, GLIBCXX_, CXXABI_) in `needs`, without the prefix, or null. */
export function newest(needs, prefix) {
  let best = null;
  for (const { name } of needs.versions) {
    if (!name.startsWith(prefix) || !/^\d+(\.\d+)*$/.test(name.slice(prefix.length))) continue;
    const v = name.slice(prefix.length);
    if (best === null || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

/** What is wrong with `file` against the bounds (empty: nothing). */
export function problems(file, { maxGlibc, maxGlibcxx, noLibstdcxx } = {}) {
  const needs = elfNeeds(file);
  const found = [];
  const glibc = newest(needs, 'GLIBC_');
  const glibcxx = newest(needs, 'GLIBCXX_');
  if (maxGlibc && glibc && compareVersions(glibc, maxGlibc) > 0) found.push(`needs GLIBC_${glibc}, newer than glibc ${maxGlibc}`);
  if (maxGlibcxx && glibcxx && compareVersions(glibcxx, maxGlibcxx) > 0) {
    found.push(`needs GLIBCXX_${glibcxx}, newer than GLIBCXX_${maxGlibcxx}`);
  }
  if (noLibstdcxx) {
    const cxx = [...new Set(needs.versions.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v.name)).map((v) => v.name))];
    cxx.sort();
    if (cxx.length) found.push(`needs ${cxx.join(', ')} (libstdc++ was linked dynamically)`);
    const libs = needs.libraries.filter((l) => /^lib(stdc\+\+|gcc_s)\.so/.test(l));
    if (libs.length) found.push(`loads ${libs.join(', ')}`);
  }
  return { needs, glibc, glibcxx, cxxabi: newest(needs, 'CXXABI_'), problems: found };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const usage = () => {
    console.error(
      'usage: node scripts/elf-needs.mjs [--max-glibc X.Y] [--max-glibcxx 3.4.N] [--no-libstdcxx] [--json | --newest] FILE...',
    );
    process.exit(2);
  };
  const option = (name) => {
    const at = args.indexOf(name);
    if (at < 0) return undefined;
    const v = args.splice(at, 2)[1];
    if (!/^\d+(\.\d+)*$/.test(v ?? '')) usage();
    return v;
  };
  const maxGlibc = option('--max-glibc');
  const maxGlibcxx = option('--max-glibcxx');
  const json = args.includes('--json');
  const newestOnly = args.includes('--newest');
  const noLibstdcxx = args.includes('--no-libstdcxx');
  const files = args.filter((a) => !a.startsWith('--'));
  const flags = [json, newestOnly, noLibstdcxx].filter(Boolean).length;
  if (files.length === 0 || files.length + flags !== args.length || (json && newestOnly)) usage();
  let bad = 0;
  const out = {};
  for (const file of files) {
    let r;
    try {
      r = problems(file, { maxGlibc, maxGlibcxx, noLibstdcxx });
    } catch (e) {
      console.error(`elf-needs: ${e.message}`);
      process.exit(2);
    }
    out[file] = r;
    if (r.problems.length) bad++;
    if (!json && !newestOnly) {
      const line = `${file}: glibc ${r.glibc ?? 'none'}, GLIBCXX ${r.glibcxx ?? 'none'}, CXXABI ${r.cxxabi ?? 'none'}`;
      if (r.problems.length) console.error(`elf-needs: FAIL ${line}: ${r.problems.join('; ')}`);
      else console.log(line);
    }
  }
  if (json) console.log(JSON.stringify(out));
  if (newestOnly) {
    const newest = (key) =>
      Object.values(out)
        .map((r) => r[key])
        .filter(Boolean)
        .sort(compareVersions)
        .pop() ?? 'none';
    console.log(`${newest('glibc')} ${newest('glibcxx')}`);
  }
  process.exit(bad ? 1 : 0);
}
