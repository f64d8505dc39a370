// The suite runs on the runtime the .deb ships (issue 18): the node-linux-<arch>
// package pinned in package.json, whose node npm puts first on the PATH of
// every npm script and npx. Run on another Node (e.g. `node node_modules/vitest/…`
// with the system's), these fail and say so, rather than testing what does not ship.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_NODE_MAJOR, unsupportedRuntime } from '../src/util/runtime.js';

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
  });

  it('the launcher refuses another Node line with a message (the addons would crash it)', () => {
    expect(unsupportedRuntime()).toBeNull();
    expect(unsupportedRuntime('20.20.2', '/usr/bin/node')).toMatch(
      /runs on Node\.js 24 .*not 20\.20\.2 \(\/usr\/bin\/node\).*npm start/,
    );
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
    const built = [
      ['better-sqlite3', 'build/Release/better_sqlite3.node'],
      ['unix-dgram', 'build/Release/unix_dgram.node'],
      ['@serialport/bindings-cpp', 'build/Release/bindings.node'],
    ];
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:');
    expect(db.prepare('select sqlite_version() as v').get()).toHaveProperty('v');
    db.close();
    require('unix-dgram');
    (require('@serialport/bindings-cpp') as typeof import('@serialport/bindings-cpp')).autoDetect();
    const loaded = new Set((process.report.getReport() as { sharedObjects: string[] }).sharedObjects);
    for (const [name, binary] of built) {
      const file = path.join(path.dirname(require.resolve(`${name}/package.json`)), binary);
      expect(loaded.has(fs.realpathSync(file)) || loaded.has(file), `${name}: ${binary} is not the loaded addon`).toBe(true);
    }
  });
});
