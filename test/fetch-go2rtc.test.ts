// scripts/fetch-go2rtc.sh verifies what it downloads against the pinned
// SHA-256 (issue 18). No network here: the "release" is a local folder served
// through --base-url file://…, the script itself runs for real (sh, sha256sum).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'fetch-go2rtc.sh');
// go2rtc v1.9.14 release assets, as pinned by independent public projects (docs/video.md, "Packaging: scripts/fetch-go2rtc.sh").
const PUBLISHED = {
  amd64: '32d616af226bd731678ffde328b94cfb94e30339bfefc469cfb76323144615a6',
  arm64: '359fabade8a7a51e81a55fe6df6b0ef81764a5e1d63179577534eaaa71904b50',
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-go2rtc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const release = path.join(tmp, 'release');
fs.mkdirSync(release);
for (const arch of ['amd64', 'arm64'])
  fs.writeFileSync(path.join(release, `go2rtc_linux_${arch}`), `not really go2rtc for ${arch}\n`);
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function run(script: string, ...args: string[]) {
  const r = spawnSync('sh', [script, '--base-url', `file://${release}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const listed = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }) : []);

describe('scripts/fetch-go2rtc.sh', () => {
  it('pins the SHA-256 that independent projects publish for v1.9.14', () => {
    const text = fs.readFileSync(SCRIPT, 'utf8');
    expect(text).toMatch(/^GO2RTC_VERSION="v1\.9\.14"$/m);
    expect(text).toContain(`SHA256_amd64="${PUBLISHED.amd64}"`);
    expect(text).toContain(`SHA256_arm64="${PUBLISHED.arm64}"`);
  });

  it('fails on a file that does not match the pin, and installs nothing', () => {
    const out = path.join(tmp, 'out-mismatch');
    const r = run(SCRIPT, '--arch', 'amd64', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('SHA-256 mismatch for go2rtc_linux_amd64');
    expect(r.err).toContain(PUBLISHED.amd64);
    expect(listed(out)).toEqual([]);
  });

  describe('a copy pinned with --pin against the local release', () => {
    const copy = path.join(tmp, 'fetch-go2rtc.sh');
    fs.copyFileSync(SCRIPT, copy);

    it('--pin writes the assets sums into the script', () => {
      const r = run(copy, '--pin');
      expect(r.code, r.err).toBe(0);
      const text = fs.readFileSync(copy, 'utf8');
      for (const arch of ['amd64', 'arm64']) {
        expect(text).toContain(`SHA256_${arch}="${sha256(path.join(release, `go2rtc_linux_${arch}`))}"`);
      }
    });

    it('installs matching assets as <out>/<arch>/go2rtc, mode 0755', () => {
      const out = path.join(tmp, 'out-ok');
      const r = run(copy, '--arch', 'all', '--out', out);
      expect(r.code, r.err).toBe(0);
      for (const arch of ['amd64', 'arm64']) {
        const file = path.join(out, arch, 'go2rtc');
        expect(fs.readFileSync(file, 'utf8')).toBe(`not really go2rtc for ${arch}\n`);
        expect(fs.statSync(file).mode & 0o777).toBe(0o755);
      }
    });

    it('one changed byte in one asset fails the whole fetch: neither arch is installed', () => {
      const asset = path.join(release, 'go2rtc_linux_arm64');
      fs.writeFileSync(asset, 'not really go2rtc for arm64!\n');
      const out = path.join(tmp, 'out-tampered');
      const r = run(copy, '--arch', 'all', '--out', out);
      expect(r.code).toBe(1);
      expect(r.err).toContain('SHA-256 mismatch for go2rtc_linux_arm64');
      expect(listed(out)).toEqual([]);
    });

    it('refuses an arch with no pin and says how to pin', () => {
      fs.writeFileSync(copy, fs.readFileSync(copy, 'utf8').replace(/^SHA256_amd64=.*$/m, 'SHA256_amd64=""'));
      const r = run(copy, '--arch', 'amd64', '--out', path.join(tmp, 'out-unpinned'));
      expect(r.code).toBe(1);
      expect(r.err).toContain('no SHA-256 pinned');
      expect(r.err).toContain('--pin');
    });
  });
});
