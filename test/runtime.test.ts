// The suite runs on the runtime the .deb ships (issue 18): the node-linux-<arch>
// package pinned in package.json, whose node npm puts first on the PATH of
// every npm script and npx. Run on another Node (e.g. `node node_modules/vitest/…`
// with the system's), these fail and say so, rather than testing what does not ship.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDONS, STATIC_LINK } from '../scripts/addons.mjs';
import { SUPPORTED_NODE_MAJOR, SUPPORTED_NODE_MINOR, unsupportedRuntime } from '../src/util/runtime.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
const runtimePackage = `node-linux-${process.arch}`;
const pinned = pkg.optionalDependencies[runtimePackage];
const require = createRequire(import.meta.url);

describe('the runtime the tests run on', () => {
  it('is the pinned node-linux package, the one scripts/package-deb.sh bundles', () => {
    expect(pinned, `package.json pins no ${runtimePackage}`).toMatch(/^\d+\.\d+\.\d+$/);
    expect(process.version).toBe(`v${pinned}`);
    expect(fs.realpathSync(process.execPath)).toBe(
      fs.realpathSync(path.join(ROOT, 'node_modules', runtimePackage, 'bin', 'node')),
    );
  });

  it('is what a child started as plain `node` gets (npm puts node_modules/.bin first)', () => {
    expect(execFileSync('node', ['-p', 'process.version'], { encoding: 'utf8' }).trim()).toBe(`v${pinned}`);
  });

  it('is inside the engines range package.json declares', () => {
    // engines is "^MAJOR.MINOR.0": the pinned runtime's line.
    const m = /^\^(\d+)\.(\d+)\.0$/.exec(pkg.engines.node);
    expect(m, `engines.node ${pkg.engines.node}`).not.toBeNull();
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major).toBe(Number(m?.[1]));
    expect(minor).toBeGreaterThanOrEqual(Number(m?.[2]));
    expect(SUPPORTED_NODE_MAJOR).toBe(major);
    // The launcher's lower bound is engines' lower bound.
    expect(SUPPORTED_NODE_MINOR).toBe(Number(m?.[2]));
  });

  it('the launcher refuses another Node line with a message (the addons would crash it)', () => {
    expect(unsupportedRuntime()).toBeNull();
    expect(unsupportedRuntime('20.20.2', '/usr/bin/node')).toMatch(
      /runs on Node\.js 24 LTS \(24\.11 or later.*not 20\.20\.2 \(\/usr\/bin\/node\).*npm start/,
    );
    // 24.x before the line became LTS (24.11.0) is outside engines, and so refused.
    expect(unsupportedRuntime('24.10.0', '/opt/node/bin/node')).toMatch(/not 24\.10\.0/);
    expect(unsupportedRuntime('24.11.0', '/opt/node/bin/node')).toBeNull();
    expect(unsupportedRuntime('25.0.0', '/opt/node/bin/node')).toMatch(/not 25\.0\.0/);
    const bundle = path.join(ROOT, 'dist', 'agent', 'cli.js');
    if (fs.existsSync('/usr/bin/node') && fs.existsSync(bundle)) {
      const other = execFileSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      if (Number(other.split('.')[0]) !== SUPPORTED_NODE_MAJOR) {
        let stderr = '';
        try {
          execFileSync('/usr/bin/node', [bundle, 'version'], { encoding: 'utf8', stdio: 'pipe' });
        } catch (e) {
          stderr = String((e as { stderr?: string }).stderr);
        }
        expect(stderr).toContain(`not ${other}`);
      }
    }
  });

  it('loads the native addons built from source for it, not the binaries bundled in their packages', () => {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:');
    expect(db.prepare('select sqlite_version() as v').get()).toHaveProperty('v');
    db.close();
    require('unix-dgram');
    (require('@serialport/bindings-cpp') as typeof import('@serialport/bindings-cpp')).autoDetect();
    const loaded = new Set((process.report.getReport() as { sharedObjects: string[] }).sharedObjects);
    for (const { name, binary } of ADDONS) {
      const file = path.join(path.dirname(require.resolve(`${name}/package.json`)), binary);
      expect(loaded.has(fs.realpathSync(file)) || loaded.has(file), `${name}: ${binary} is not the loaded addon`).toBe(true);
    }
  });
});

/** `node scripts/elf-needs.mjs … --json FILE…`: exit code and, per file, what it needs and what is wrong. */
function elfNeeds(args: string[]) {
  const script = path.join(ROOT, 'scripts', 'elf-needs.mjs');
  type Reading = { glibc: string | null; glibcxx: string | null; cxxabi: string | null; problems: string[] };
  try {
    const out = execFileSync(process.execPath, [script, '--json', ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, files: JSON.parse(out) as Record<string, Reading> };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, files: (err.stdout ? JSON.parse(err.stdout) : {}) as Record<string, Reading>, stderr: err.stderr };
  }
}

describe('what the shipped binaries need from the system (scripts/elf-needs.mjs)', () => {
  it("the pinned node binary needs glibc 2.28 at most (Astra Linux SE 1.7) and GCC 8's libstdc++", () => {
    const node = path.join(ROOT, 'node_modules', runtimePackage, 'bin', 'node');
    const r = elfNeeds(['--max-glibc', '2.28', '--max-glibcxx', '3.4.25', node]);
    expect(r.code, JSON.stringify(r)).toBe(0);
    expect(r.files[node].glibc).toBe('2.28');
  });

  it('the addons built for it link libstdc++ and libgcc statically: no GLIBCXX_/CXXABI_ need, neither library loaded', () => {
    const files = ADDONS.map(({ name, binary }) => path.join(path.dirname(require.resolve(`${name}/package.json`)), binary));
    const r = elfNeeds(['--no-libstdcxx', ...files]);
    for (const f of files) {
      expect(r.files[f]?.problems, `${f} (rebuild: npm run postinstall)`).toEqual([]);
      expect(r.files[f].glibcxx).toBeNull();
      expect(r.files[f].cxxabi).toBeNull();
    }
    expect(r.code).toBe(0);
  });

  it('refuses a shared object linked the way g++ links by default, and passes the same code linked statically', () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(ROOT), '.tmp-elf-'));
    try {
      // C++ that uses the library: a std::string, a thrown and caught exception.
      const src = path.join(dir, 'lib.cc');
      fs.writeFileSync(
        src,
        '#include <stdexcept>\n#include <string>\nextern "C" int probe(int n) {\n' +
          "  try { if (n > 0) throw std::runtime_error(std::string(n, 'x')); } catch (const std::exception &e) { return (int)std::string(e.what()).size(); }\n" +
          '  return 0;\n}\n',
      );
      const dynamic = path.join(dir, 'dynamic.so');
      const linkedIn = path.join(dir, 'static.so');
      const cxx = process.env.CXX || 'g++';
      execFileSync(cxx, ['-shared', '-fPIC', '-O1', '-o', dynamic, src]);
      execFileSync(cxx, ['-shared', '-fPIC', '-O1', ...STATIC_LINK.split(' '), '-o', linkedIn, src]);
      const bad = elfNeeds(['--no-libstdcxx', dynamic]);
      expect(bad.code).toBe(1);
      expect(bad.files[dynamic].problems.join('; ')).toMatch(
        /needs .*(GLIBCXX|CXXABI)_[\d.]+.*libstdc\+\+ was linked dynamically.*loads libstdc\+\+\.so\.6/,
      );
      const good = elfNeeds(['--no-libstdcxx', linkedIn]);
      expect(good.code, JSON.stringify(good)).toBe(0);
      expect(good.files[linkedIn].glibcxx).toBeNull();
      // A glibc bound older than anything a C++ shared object needs.
      const old = elfNeeds(['--max-glibc', '2.0', linkedIn]);
      expect(old.code).toBe(1);
      expect(old.files[linkedIn].problems[0]).toMatch(/needs GLIBC_[\d.]+, newer than glibc 2\.0/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the compiler the addons are built with (scripts/build-addons.mjs)', () => {
  const script = path.join(ROOT, 'scripts', 'build-addons.mjs');
  const run = (env: Record<string, string>) => {
    try {
      return {
        code: 0,
        out: execFileSync(process.execPath, [script, '--check-compiler'], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
          stdio: 'pipe',
        }),
      };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: `${err.stdout}${err.stderr}` };
    }
  };

  it("compiles the pinned runtime's node.h as C++20 with this machine's g++", () => {
    const r = run({});
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/compiles node-linux-\w+@[\d.]+'s headers as C\+\+20/);
  });

  it("refuses a compiler without C++20 (Astra Linux SE 1.7's GCC 8) before building, and says what is needed", () => {
    const dir = fs.mkdtempSync(path.join(fs.realpathSync(ROOT), '.tmp-gcc8-'));
    try {
      // What GCC 8 answers: a version line, and no -std=gnu++20 (it knows only gnu++2a).
      const fake = path.join(dir, 'g++-8');
      fs.writeFileSync(
        fake,
        `#!/bin/sh\ncase "$*" in *--version*) echo "g++ (Debian 8.3.0-6) 8.3.0"; exit 0;; esac\necho "g++: error: unrecognized command-line option '-std=gnu++20'; did you mean '-std=gnu++2a'?" >&2\nexit 1\n`,
        { mode: 0o755 },
      );
      const r = run({ CXX: fake });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/g\+\+ \(Debian 8\.3\.0-6\) 8\.3\.0\) cannot compile node-linux-\w+@[\d.]+'s headers/);
      expect(r.out).toMatch(/needs a C\+\+20 compiler/);
      expect(r.out).toMatch(/Astra Linux SE 1\.7/);
      expect(r.out).toMatch(/unrecognized command-line option '-std=gnu\+\+20'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
