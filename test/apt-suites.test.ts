// Issue 21 item 5: staged updates. scripts/deb/apt-suite.sh (what the
// Jenkinsfile runs) publishes a tag's .debs to canary only and promotes to
// stable only an exact version canary carries, every architecture, same bytes.
// A real reprepro repository in a temp dir with small .debs built by dpkg-deb.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../scripts/deb/apt-suite.sh');
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = ['reprepro', 'dpkg-deb'].filter((b) => !has(b));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`${missing.join(', ')} not found and CI is not set: the apt suite tests are skipped`);

describe.skipIf(skip)('apt suites canary and stable', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-suite-'));
  const repo = path.join(dir, 'repo');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (...args: string[]) => {
    const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const show = (suite: string) => run('show', repo, suite).out.trim().split('\n').filter(Boolean);
  function deb(version: string, arch: string): string {
    const root = path.join(dir, `pkg-${version}-${arch}`);
    fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    fs.writeFileSync(
      path.join(root, 'DEBIAN/control'),
      `Package: room-agent\nVersion: ${version}\nSection: misc\nPriority: optional\nArchitecture: ${arch}\nMaintainer: Test <test@example.com>\nDescription: test package\n`,
    );
    const out = path.join(dir, `room-agent_${version}_${arch}.deb`);
    const r = spawnSync('dpkg-deb', ['--build', '-Zgzip', root, out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return out;
  }

  it('a tag lands in canary only; promote copies that exact version to stable', () => {
    fs.mkdirSync(path.join(repo, 'conf'), { recursive: true });
    fs.writeFileSync(
      path.join(repo, 'conf/distributions'),
      'Origin: room-agent\nLabel: room-agent\nCodename: canary\nArchitectures: amd64 arm64\nComponents: main\n\nOrigin: room-agent\nLabel: room-agent\nCodename: stable\nArchitectures: amd64 arm64\nComponents: main\n',
    );
    expect(run('publish', repo, 'canary', deb('0.1.0', 'amd64'), deb('0.1.0', 'arm64')).code).toBe(0);
    expect(show('canary')).toEqual(['amd64 0.1.0', 'arm64 0.1.0']);
    expect(show('stable')).toEqual([]);

    const p = run('promote', repo, '0.1.0');
    expect(p.code, p.err).toBe(0);
    expect(show('stable')).toEqual(['amd64 0.1.0', 'arm64 0.1.0']);
  });

  it('a newer tag in canary leaves stable where it was until it is promoted', () => {
    expect(run('publish', repo, 'canary', deb('0.2.0', 'amd64'), deb('0.2.0', 'arm64')).code).toBe(0);
    expect(show('canary')).toEqual(['amd64 0.2.0', 'arm64 0.2.0']);
    expect(show('stable')).toEqual(['amd64 0.1.0', 'arm64 0.1.0']);
    expect(run('promote', repo, '0.2.0').code).toBe(0);
    expect(show('stable')).toEqual(['amd64 0.2.0', 'arm64 0.2.0']);
  });

  it('refuses a version canary does not carry, a bad version string and an unknown suite, and changes nothing', () => {
    const absent = run('promote', repo, '0.3.0');
    expect(absent.code).not.toBe(0);
    expect(absent.err).toContain('room-agent 0.3.0 is not in canary (canary has: amd64 0.2.0,arm64 0.2.0)');
    const bad = run('promote', repo, '0.2.0; rm -rf /');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('not a Debian version');
    const suite = run('publish', repo, 'unstable', path.join(dir, 'room-agent_0.2.0_amd64.deb'));
    expect(suite.code).not.toBe(0);
    expect(suite.err).toContain("suite must be canary or stable, not 'unstable'");
    expect(show('stable')).toEqual(['amd64 0.2.0', 'arm64 0.2.0']);
  });
});
