// The audit table is bounded: [agent] audit_max_age_days and audit_max_rows, pruned oldest id first
// in batches from a timer (fake clock), the newest row always kept so ids keep increasing. Real
// SQLite files; the last case runs the whole agent on a file an older agent filled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditMigrations } from '../src/store/audit.js';
import { type AuditLimits, AuditRetention } from '../src/store/audit-retention.js';
import { Store } from '../src/store/db.js';
import { FakeClock } from '../src/util/clock.js';
import { startTestAgent } from './support/agent.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'audit-ret-')), 'room-agent.db');

/** `n` rows, one every `stepMs` ending at `end`, over two devices. */
function fill(store: Store, n: number, end: number, stepMs: number): void {
  const ins = store.db.prepare(
    `INSERT INTO audit (at, cause_kind, device, action, params, ok, duration_ms) VALUES (?, 'api', ?, 'zoom', '{}', 1, 0.5)`,
  );
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(new Date(end - (n - 1 - i) * stepMs).toISOString(), i % 2 ? 'cam-1' : 'cam-2');
  })();
}

const ids = (s: Store) => (s.db.prepare('SELECT id FROM audit ORDER BY id').all() as { id: number }[]).map((r) => r.id);

function rig(limits: AuditLimits, batchRows = 300) {
  const store = new Store(tmp());
  const log = new AuditLog(store);
  const clock = new FakeClock(NOW);
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const current = { ...limits };
  const retention = new AuditRetention({ store, clock, logger, limits: () => current, batchRows });
  return { store, log, clock, lines, current, retention };
}

describe('audit retention', () => {
  it('keeps the newest audit_max_rows ids, deleting in batches from the timer', () => {
    const r = rig({ maxAgeDays: 3650, maxRows: 1000 });
    fill(r.store, 5000, NOW, 1000);
    r.retention.start();
    expect(ids(r.store)).toHaveLength(5000); // nothing runs before the timer
    r.clock.advance(5_000); // the first batch only
    expect(ids(r.store)).toHaveLength(5000 - 300);
    r.clock.advance(60_000);
    expect(ids(r.store)).toEqual(Array.from({ length: 1000 }, (_, i) => 4001 + i));
    const line = r.lines.find((l) => l.msg === 'pruned the audit log');
    expect(line).toMatchObject({ pruned: 4000, batches: 14, oldest_kept_id: 4001, max_rows: 1000, max_age_days: 3650 });
    expect(typeof line?.longest_batch_ms).toBe('number');
    // One line per pass that deleted something: the next passes find nothing and stay quiet.
    r.clock.advance(10 * 60_000);
    expect(r.lines.filter((l) => l.msg === 'pruned the audit log')).toHaveLength(1);
    r.retention.stop();
    r.store.close();
  });

  it('deletes rows older than audit_max_age_days and keeps the younger ones', () => {
    const r = rig({ maxAgeDays: 30, maxRows: 1_000_000 });
    fill(r.store, 100, NOW, DAY); // one row a day, the last one now
    const batch = r.retention.pruneBatch();
    // Rows 1..69 are more than 30 days old; row 70 is exactly 30 days old and stays.
    expect(batch).toEqual({ deleted: 69, more: false });
    expect(ids(r.store)[0]).toBe(70);
    expect(r.retention.pruneBatch()).toEqual({ deleted: 0, more: false });
    // Time moves on: a day later one more row is due.
    r.clock.advance(DAY);
    expect(r.retention.pruneBatch()).toEqual({ deleted: 1, more: false });
    r.store.close();
  });

  it('never deletes the newest row, so a new row takes the next id', async () => {
    const r = rig({ maxAgeDays: 1, maxRows: 1000 });
    fill(r.store, 50, NOW - 365 * DAY, 1000); // all a year old
    r.retention.start();
    r.clock.advance(60_000);
    expect(ids(r.store)).toEqual([50]);
    await r.log.append({
      at: new Date(NOW).toISOString(),
      cause: { kind: 'api' },
      device: 'cam-1',
      action: 'zoom',
      params: {},
      ok: true,
      result: null,
      error: null,
      duration_ms: 1,
    });
    expect(ids(r.store)).toEqual([50, 51]);
    r.retention.stop();
    r.store.close();
  });

  it('a batch deletes at most its size and the limits are read at every batch', () => {
    const r = rig({ maxAgeDays: 3650, maxRows: 1_000_000 }, 100);
    fill(r.store, 1000, NOW, 1000);
    expect(r.retention.pruneBatch()).toEqual({ deleted: 0, more: false });
    r.current.maxRows = 10; // a reload lowered the bound
    expect(r.retention.pruneBatch()).toEqual({ deleted: 100, more: true });
    r.current.maxAgeDays = 1;
    r.clock.advance(DAY + 2_000_000); // every row is now past the age bound; still 100 a batch
    expect(r.retention.pruneBatch()).toEqual({ deleted: 100, more: true });
    const sizes: number[] = [];
    for (let b = r.retention.pruneBatch(); b.deleted > 0; b = r.retention.pruneBatch()) sizes.push(b.deleted);
    expect(sizes).toEqual([100, 100, 100, 100, 100, 100, 100, 99]);
    // The age bound covers all rows but the newest, which stays.
    expect(ids(r.store)).toEqual([1000]);
    r.store.close();
  });

  it('a row stamped in the future (clock set wrong) holds the age bound back; the rows bound still applies', () => {
    const r = rig({ maxAgeDays: 30, maxRows: 1000 });
    fill(r.store, 10, NOW - 100 * DAY, 1000);
    r.store.db.prepare('UPDATE audit SET at = ? WHERE id = 3').run(new Date(NOW + 365 * DAY).toISOString());
    expect(r.retention.pruneBatch()).toEqual({ deleted: 2, more: false });
    expect(ids(r.store)[0]).toBe(3);
    r.store.close();
  });

  it('the agent prunes a file an older agent filled, by its [agent] keys, after start, and counts it on /metrics', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-ret-agent-'));
    const file = path.join(dir, 'data', 'room-agent.db');
    const old = new Store(file);
    old.migrate('audit', auditMigrations.slice(0, 1)); // the version-1 schema, AUTOINCREMENT
    fill(old, 3000, NOW - DAY, 1000);
    old.close();
    const clock = new FakeClock(NOW);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const t = await startTestAgent('', { dir, clock, logger, agentKeys: 'audit_max_rows = 1000\naudit_max_age_days = 400' });
    try {
      const count = () => (t.agent.store.db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
      // The counter on /metrics, as Prometheus scrapes it.
      const scraped = async () => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        expect(text).toContain('# TYPE room_agent_audit_pruned_rows_total counter');
        return Number(/^room_agent_audit_pruned_rows_total (\d+)$/m.exec(text)?.[1]);
      };
      expect(count()).toBe(3000);
      expect(await scraped()).toBe(0);
      clock.advance(60_000);
      expect(count()).toBe(1000);
      expect(lines.find((l) => l.msg === 'pruned the audit log')).toMatchObject({ pruned: 2000, oldest_kept_id: 2001 });
      expect(await scraped()).toBe(2000);
      // Later passes find nothing to delete: the count stays, and a scrape does not count twice.
      clock.advance(5 * 60_000);
      expect(await scraped()).toBe(2000);
      // 500 more rows: the next pass deletes the 500 oldest, and the counter adds them.
      fill(t.agent.store, 500, NOW, 1000);
      clock.advance(60_000);
      expect(count()).toBe(1000);
      expect(await scraped()).toBe(2500);
      const c = await t.connect();
      const page = await c.call<{ id: number }[]>('audit.list', { limit: 2 });
      expect(page.map((r) => r.id)).toEqual([3500, 3499]);
    } finally {
      await t.stop();
    }
  }, 60_000);
});
