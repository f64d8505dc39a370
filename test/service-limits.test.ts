// The service's containment (scripts/deb/room-agent.service) is the arithmetic
// written in docs/install.md "Resource limits": the shares (the agent, the
// recording ffmpeg, preview/frame ffmpegs, go2rtc) add up to the sum row, and
// MemoryHigh=, MemoryMax=, TasksMax= are that sum with the stated headroom.
// docs/security.md names the same values. The watchdog stays on: Type=notify,
// NotifyAccess=main and WatchdogSec= (a blocked loop sends no pings:
// test/sd-notify-blocked.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

/** `Key=value` lines of the unit's [Service] section. */
function serviceKeys(unit: string): Map<string, string> {
  const section = unit.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  const keys = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1], m[2]);
  }
  return keys;
}

/** "1536M" / "2G" → MiB. */
function mib(v: string): number {
  const m = /^(\d+)([MG])$/.exec(v);
  if (!m) throw new Error(`memory value "${v}" is not <n>M or <n>G`);
  return Number(m[1]) * (m[2] === 'G' ? 1024 : 1);
}

const roundUp = (v: number, step: number) => Math.ceil(v / step) * step;

/** The rows of the table in docs/install.md "### Resource limits": share, memory MB, tasks. */
function budget(doc: string): { rows: { share: string; mb: number; tasks: number }[]; sum: { mb: number; tasks: number } } {
  const section = doc.split(/^### Resource limits$/m)[1]?.split(/^#{2,3} /m)[0];
  if (!section) throw new Error('docs/install.md has no "### Resource limits" section');
  const rows: { share: string; mb: number; tasks: number }[] = [];
  let sum: { mb: number; tasks: number } | null = null;
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !/^[\d,]+$/.test(cells[2] ?? '')) continue;
    const row = { share: cells[1], mb: Number(cells[2].replace(/,/g, '')), tasks: Number(cells[3].replace(/,/g, '')) };
    if (/^\*\*sum\*\*$/.test(row.share)) sum = row;
    else rows.push(row);
  }
  if (!sum) throw new Error('the Resource limits table has no **sum** row');
  return { rows, sum };
}

describe('room-agent.service resource limits', () => {
  const unit = serviceKeys(read('scripts/deb/room-agent.service'));
  const install = read('docs/install.md');
  const { rows, sum } = budget(install);

  it('the documented shares add up to the sum row and cover the agent, ffmpeg and go2rtc', () => {
    expect(rows.map((r) => r.share).join(' ')).toMatch(/agent.*ffmpeg.*go2rtc/s);
    expect(rows.reduce((a, r) => a + r.mb, 0)).toBe(sum.mb);
    expect(rows.reduce((a, r) => a + r.tasks, 0)).toBe(sum.tasks);
  });

  it('MemoryHigh/MemoryMax/TasksMax are the sum with the stated headroom', () => {
    // docs/install.md: MemoryHigh = sum × 1.25, MemoryMax = sum × 1.5, both rounded up to 128 MiB;
    // TasksMax = tasks × 4 rounded up to 64.
    expect(mib(unit.get('MemoryHigh') ?? '')).toBe(roundUp(sum.mb * 1.25, 128));
    expect(mib(unit.get('MemoryMax') ?? '')).toBe(roundUp(sum.mb * 1.5, 128));
    expect(Number(unit.get('TasksMax'))).toBe(roundUp(sum.tasks * 4, 64));
  });

  it('docs/install.md and docs/security.md state the unit values', () => {
    const security = read('docs/security.md');
    for (const key of ['MemoryHigh', 'MemoryMax', 'TasksMax']) {
      const line = `${key}=${unit.get(key)}`;
      expect(install, `docs/install.md: ${line}`).toContain(`\`${line}\``);
      expect(security, `docs/security.md: ${line}`).toContain(`\`${line}\``);
    }
  });

  it('the watchdog stays on: Type=notify, NotifyAccess=main, WatchdogSec', () => {
    expect(unit.get('Type')).toBe('notify');
    expect(unit.get('NotifyAccess')).toBe('main');
    expect(Number(unit.get('WatchdogSec'))).toBeGreaterThan(0);
    expect(unit.get('Restart')).toBe('always');
  });
});
