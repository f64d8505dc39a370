// Issue 21 item 4: the shipped alert rules pass `promtool test rules` (one
// firing and one quiet case per alert in ops/prometheus/room-agent.test.yml)
// and the example scrape config is valid. promtool is the Debian package
// `prometheus`; .ci/run installs it, so under CI=true this never skips.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = path.resolve(import.meta.dirname, '../ops/prometheus');

function findPromtool(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/local/bin']) {
    const p = path.join(dir, 'promtool');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

const promtool = findPromtool();
const skip = !promtool && process.env.CI !== 'true';
if (skip)
  console.warn('promtool not found (Debian package `prometheus`) and CI is not set: the Prometheus rule tests are skipped');

describe.skipIf(skip)('ops/prometheus with promtool', () => {
  const runIn = (cwd: string, ...args: string[]) => {
    if (!promtool) throw new Error('promtool not found on PATH: install the Debian package `prometheus` (CI=true needs it)');
    const r = spawnSync(promtool, args, { cwd, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const run = (...args: string[]) => runIn(DIR, ...args);

  it('every alert has a firing and a quiet case, and all pass', () => {
    const rules = fs.readFileSync(path.join(DIR, 'room-agent.rules.yml'), 'utf8');
    const tests = fs.readFileSync(path.join(DIR, 'room-agent.test.yml'), 'utf8');
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((x) => x[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(9);
    for (const a of alerts) {
      const cases = tests.split(`alertname: ${a}\n`).slice(1);
      expect(cases.filter((c) => /^\s+exp_alerts: \[\]/.test(c)).length, `${a}: a quiet case`).toBeGreaterThanOrEqual(1);
      expect(
        cases.filter((c) => /^\s+exp_alerts:\n\s+- exp_labels/.test(c)).length,
        `${a}: a firing case`,
      ).toBeGreaterThanOrEqual(1);
    }
    const r = run('test', 'rules', 'room-agent.test.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('the rules and the example scrape config check clean', () => {
    const rules = run('check', 'rules', 'room-agent.rules.yml');
    expect(rules.code, rules.out).toBe(0);
    const config = run('check', 'config', 'prometheus.yml');
    expect(config.code, config.out).toBe(0);
  });

  it('a wrong expectation fails promtool (the test can fail)', () => {
    const tmp = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'promtool-'));
    fs.copyFileSync(path.join(DIR, 'room-agent.rules.yml'), path.join(tmp, 'room-agent.rules.yml'));
    const broken = fs
      .readFileSync(path.join(DIR, 'room-agent.test.yml'), 'utf8')
      .replace("summary: 'room-agent on room-12:8080 does not answer /metrics'", "summary: 'something else'");
    fs.writeFileSync(path.join(tmp, 'room-agent.test.yml'), broken);
    const r = runIn(tmp, 'test', 'rules', 'room-agent.test.yml');
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('something else');
  });
});
