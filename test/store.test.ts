import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditMigrations } from '../src/store/audit.js';
import { type Migration, Store } from '../src/store/db.js';

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-')), 'room-agent.db');

const v1: Migration = {
  version: 1,
  name: 'notes',
  up: (db) => db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)'),
};
const v2: Migration = {
  version: 2,
  name: 'note authors',
  up: (db) => db.exec("ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'"),
};

describe('Store migrations', () => {
  it('applies in order, once, and keeps data across an upgrade', () => {
    const file = tmp();
    const a = new Store(file);
    expect(a.migrate('notes', [v1])).toBe(1);
    a.db.prepare('INSERT INTO notes (body) VALUES (?)').run('kept');
    a.close();
    const b = new Store(file);
    expect(b.migrate('notes', [v1])).toBe(0);
    expect(b.migrate('notes', [v1, v2])).toBe(1);
    expect(b.db.prepare('SELECT body, author FROM notes').get()).toEqual({ body: 'kept', author: 'unknown' });
    expect(b.version('notes')).toBe(2);
    expect(b.db.pragma('journal_mode', { simple: true })).toBe('wal');
    b.close();
  });
  it('a failing migration rolls back and leaves the version', () => {
    const s = new Store(tmp());
    s.migrate('notes', [v1]);
    const bad: Migration = {
      version: 2,
      name: 'broken',
      up: (db) => {
        db.exec('CREATE TABLE half (x)');
        throw new Error('boom');
      },
    };
    expect(() => s.migrate('notes', [v1, bad])).toThrow(/boom/);
    expect(s.version('notes')).toBe(1);
    expect(s.db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    s.close();
  });
  it('refuses a database written by a newer agent', () => {
    const file = tmp();
    const s = new Store(file);
    s.migrate('notes', [v1, v2]);
    s.close();
    const old = new Store(file);
    expect(() => old.migrate('notes', [v1])).toThrow(/schema version 2, this agent knows only 1/);
    old.close();
  });
  it('rejects gaps in migration numbering', () => {
    const s = new Store(tmp());
    expect(() => s.migrate('x', [v2])).toThrow(/numbered 1..n/);
    s.close();
  });
  it('modules are versioned independently', () => {
    const s = new Store(tmp());
    s.migrate('a', [v1]);
    new AuditLog(s);
    expect(s.version('a')).toBe(1);
    expect(s.version('audit')).toBe(auditMigrations.length);
    s.close();
  });
});

describe('AuditLog', () => {
  it('records and lists newest first with cause', async () => {
    const s = new Store(tmp());
    const log = new AuditLog(s);
    for (let i = 0; i < 3; i++) {
      await log.append({
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        cause: { kind: 'api', name: 'op' },
        device: 'cam-1',
        action: 'preset.recall',
        params: { preset: i },
        ok: i !== 1,
        result: null,
        error: i === 1 ? 'timeout' : null,
        duration_ms: 1.5,
      });
    }
    const rows = log.list({ device: 'cam-1', limit: 2 });
    expect(rows.map((r) => (r.params as { preset: number }).preset)).toEqual([2, 1]);
    expect(rows[1]).toMatchObject({ ok: false, error: 'timeout', cause: { kind: 'api', name: 'op' } });
    s.close();
  });
});
