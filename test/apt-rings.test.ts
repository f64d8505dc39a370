// Issue 21 item 5: the apt pinning and hold that docs/fleet.md gives, checked
// with the real apt against a real reprepro repository (file://, in a temp
// dir with its own apt state; the machine's apt configuration is not touched).
// The preferences snippet is read from docs/fleet.md, so the doc is what is tested.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts/deb/apt-suite.sh');
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = ['reprepro', 'dpkg-deb', 'apt-get', 'apt-cache'].filter((b) => !has(b));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`${missing.join(', ')} not found and CI is not set: the apt ring tests are skipped`);

/** The fenced block in docs/fleet.md whose first line is `# <marker>`, without that line. */
function docSnippet(marker: string): string {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/fleet.md'), 'utf8');
  const block = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.startsWith(`# ${marker}\n`));
  if (!block) throw new Error(`docs/fleet.md has no snippet starting with "# ${marker}"`);
  return block.slice(marker.length + 3);
}

describe.skipIf(skip)('rings with apt pinning and holds (docs/fleet.md)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-rings-'));
  const repo = path.join(dir, 'repo');
  const apt = path.join(dir, 'apt');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const aptOpts = () => [
    '-o',
    `Dir::Etc=${apt}/etc`,
    '-o',
    `Dir::Etc::SourceParts=${apt}/etc/sources.list.d`,
    '-o',
    `Dir::State::Lists=${apt}/lists`,
    '-o',
    `Dir::State::status=${apt}/status`,
    '-o',
    `Dir::Cache=${apt}/cache`,
    '-o',
    'APT::Architecture=amd64',
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=root',
  ];
  const aptRun = (bin: string, ...args: string[]) => {
    const r = spawnSync(bin, [...aptOpts(), ...args], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const candidate = () => /Candidate: (\S+)/.exec(aptRun('apt-cache', 'policy', 'room-agent'))?.[1];
  const installed = (version: string, state = 'install ok installed') =>
    fs.writeFileSync(
      path.join(apt, 'status'),
      `Package: room-agent\nStatus: ${state}\nPriority: optional\nSection: misc\nMaintainer: Test <test@example.com>\nArchitecture: amd64\nVersion: ${version}\nDescription: test\n\n`,
    );
  const suite = (...args: string[]) => {
    const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
  };

  beforeAll(() => {
    fs.mkdirSync(path.join(repo, 'conf'), { recursive: true });
    // The two stanzas docs/install.md ("Repository") describes, unsigned here.
    fs.writeFileSync(
      path.join(repo, 'conf/distributions'),
      ['canary', 'stable']
        .map((c) => `Origin: room-agent\nLabel: room-agent\nCodename: ${c}\nArchitectures: amd64 arm64\nComponents: main\n`)
        .join('\n'),
    );
    for (const v of ['0.2.0', '0.3.0']) {
      const root = path.join(dir, `pkg-${v}`);
      fs.mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'DEBIAN/control'),
        `Package: room-agent\nVersion: ${v}\nSection: misc\nPriority: optional\nArchitecture: amd64\nMaintainer: Test <test@example.com>\nDescription: test\n`,
      );
      const r = spawnSync('dpkg-deb', ['--build', '-Zgzip', root, path.join(dir, `room-agent_${v}_amd64.deb`)], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
    }
    // 0.2.0 went through canary into stable; 0.3.0 is in canary only.
    suite('publish', repo, 'canary', path.join(dir, 'room-agent_0.2.0_amd64.deb'));
    suite('promote', repo, '0.2.0');
    suite('publish', repo, 'canary', path.join(dir, 'room-agent_0.3.0_amd64.deb'));
    for (const d of ['lists/partial', 'cache/archives/partial', 'etc/preferences.d', 'etc/sources.list.d'])
      fs.mkdirSync(path.join(apt, d), { recursive: true });
    // A PC that lists both suites: only the pinning decides.
    fs.writeFileSync(
      path.join(apt, 'etc/sources.list'),
      `deb [trusted=yes] file://${repo} stable main\ndeb [trusted=yes] file://${repo} canary main\n`,
    );
    installed('0.1.0');
    aptRun('apt-get', 'update');
  });

  it('without pinning the newest (canary) build would be installed', () => {
    expect(candidate()).toBe('0.3.0');
  });

  it("the docs' pinning keeps a stable room on stable although canary is newer", () => {
    fs.writeFileSync(path.join(apt, 'etc/preferences.d/room-agent'), docSnippet('/etc/apt/preferences.d/room-agent'));
    expect(candidate()).toBe('0.2.0');
    expect(aptRun('apt-get', '-s', 'upgrade')).toMatch(/Inst room-agent \[0\.1\.0\] \(0\.2\.0 /);
  });

  it('apt-mark hold keeps the installed version: upgrade keeps it back', () => {
    installed('0.1.0', 'hold ok installed');
    const out = aptRun('apt-get', '-s', 'upgrade');
    expect(out).toMatch(/kept back:\s+room-agent/);
    expect(out).not.toMatch(/Inst room-agent/);
    installed('0.1.0');
  });

  it('a version pin (Pin-Priority 1001) holds the room on the version it runs', () => {
    const prefs = path.join(apt, 'etc/preferences.d/room-agent');
    fs.writeFileSync(
      prefs,
      `${docSnippet('/etc/apt/preferences.d/room-agent')}\nPackage: room-agent\nPin: version 0.1.0*\nPin-Priority: 1001\n`,
    );
    expect(candidate()).toBe('0.1.0');
    expect(aptRun('apt-get', '-s', 'upgrade')).not.toMatch(/Inst room-agent/);
  });
});
