// Audit schema version 2 (no AUTOINCREMENT, index on device) on a database file written by the
// version-1 agent: every row and id kept, new rows continue above the old max id, and audit.list
// pages by before_id through the new index.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditMigrations } from '../src/store/audit.js';
import { Store } from '../src/store/db.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'audit-mig-')), 'room-agent.db');

const DEVICES = ['cam-1', 'cam-2', 'matrix'];

/** A file as the version-1 agent left it: `n` rows over three devices. */
function oldDatabase(n: number): { file: string; rows: Record<string, unknown>[] } {
  const file = tmp();
  const s = new Store(file);
  s.migrate('audit', auditMigrations.slice(0, 1));
  const ins = s.db.prepare(
    `INSERT INTO audit (at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  s.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      ins.run(
        new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
        i % 5 === 0 ? 'director' : 'api',
        i % 5 === 0 ? null : 'panel',
        i % 7 === 0 ? '10.0.0.7' : null,
        DEVICES[i % 3],
        'preset.recall',
        JSON.stringify({ preset: i }),
        i % 11 === 0 ? 0 : 1,
        i % 11 === 0 ? null : JSON.stringify({ n: i }),
        i % 11 === 0 ? 'timeout' : null,
        i / 10,
      );
    }
  })();
  const rows = s.db.prepare('SELECT * FROM audit ORDER BY id').all() as Record<string, unknown>[];
  s.close();
  return { file, rows };
}

describe('audit schema version 2', () => {
  it('keeps every row and id of a version-1 file; new rows continue above the old max id', async () => {
    const { file, rows } = oldDatabase(2500);
    expect(rows).toHaveLength(2500);
    const s = new Store(file);
    const log = new AuditLog(s);
    expect(s.version('audit')).toBe(2);
    expect(s.db.prepare('SELECT * FROM audit ORDER BY id').all()).toEqual(rows);
    // No AUTOINCREMENT: no sqlite_sequence row to write per commit, and the table's SQL says so.
    const table = s.db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'").get() as { sql: string };
    expect(table.sql).not.toMatch(/AUTOINCREMENT/i);
    expect(s.db.prepare("SELECT count(*) AS n FROM sqlite_sequence WHERE name = 'audit'").get()).toEqual({ n: 0 });
    const indexes = s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit'").all();
    expect(indexes).toEqual([{ name: 'audit_device' }]);

    await log.append({
      at: new Date().toISOString(),
      cause: { kind: 'api', name: 'panel' },
      device: 'cam-1',
      action: 'zoom',
      params: { op: 'tele' },
      ok: true,
      result: null,
      error: null,
      duration_ms: 1,
    });
    expect(log.list({ limit: 1 })[0]).toMatchObject({ id: 2501, device: 'cam-1', action: 'zoom' });
    s.close();

    // Opening it again migrates nothing and the rows are all there.
    const again = new Store(file);
    new AuditLog(again);
    expect(again.version('audit')).toBe(2);
    expect(again.db.prepare('SELECT count(*) AS n, max(id) AS hi FROM audit').get()).toEqual({ n: 2501, hi: 2501 });
    again.close();
  });

  it('pages by before_id, by device and over all devices, newest first, through the index', () => {
    const { file } = oldDatabase(1000);
    const s = new Store(file);
    const log = new AuditLog(s);
    for (const device of [undefined, 'cam-2']) {
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = log.list({ device, limit: 97, before_id: before });
        if (page.length === 0) break;
        seen.push(...page.map((r) => r.id));
        before = page[page.length - 1].id;
      }
      const expected = (
        s.db
          .prepare('SELECT id FROM audit WHERE (? IS NULL OR device = ?) ORDER BY id DESC')
          .all(device ?? null, device ?? null) as { id: number }[]
      ).map((r) => r.id);
      expect(seen).toEqual(expected);
      expect(seen.length).toBe(device ? 333 : 1000);
    }
    const page = log.list({ device: 'matrix', before_id: 10, limit: 2 });
    expect(page.map((r) => r.id)).toEqual([9, 6]);
    expect(page[0]).toMatchObject({
      at: '2026-01-01T00:00:08.000Z',
      params: { preset: 8 },
      cause: { kind: 'api', name: 'panel' },
    });
    // The device query is a range of audit_device (device, rowid): no sort of the device's rows.
    const plan = (
      s.db
        .prepare('EXPLAIN QUERY PLAN SELECT * FROM audit WHERE device = ? AND id < ? ORDER BY id DESC LIMIT ?')
        .all('cam-1', 100, 10) as { detail: string }[]
    )
      .map((r) => r.detail)
      .join('; ');
    expect(plan).toMatch(/USING INDEX audit_device \(device=\? AND rowid<\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    s.close();
  });
});
