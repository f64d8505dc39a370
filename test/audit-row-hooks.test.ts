// AuditLog.appendRow: a row's caller hears through its hooks instead of a promise (a device
// action's run, src/host/action-run.ts). Rows appended in one turn still share one
// transaction with append()'s rows; the hooks run inside it, then after it committed — or
// hear that it did not, with nothing of the batch written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditEntry, AuditLog, type AuditRowHooks } from '../src/store/audit.js';
import { Store } from '../src/store/db.js';

let cleanup: (() => void) | null = null;
afterEach(() => {
  cleanup?.();
  cleanup = null;
});

function open(): { store: Store; audit: AuditLog } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-hooks-'));
  const store = new Store(path.join(dir, 'agent.db'));
  cleanup = () => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { store, audit: new AuditLog(store) };
}

function row(action: string): Omit<AuditEntry, 'id'> {
  return {
    at: '2026-12-06T17:00:00.000Z',
    cause: { kind: 'api', name: 'test' },
    device: 'dev',
    action,
    params: { n: 1 },
    ok: true,
    result: { done: true },
    error: null,
    duration_ms: 1.5,
  };
}

function hooks(store: Store, log: string[], name: string): AuditRowHooks {
  return {
    inTransaction: () => log.push(`${name} in tx (open: ${store.db.inTransaction})`),
    committed: () => log.push(`${name} committed`),
    notCommitted: (e) => log.push(`${name} not committed: ${e.message}`),
  };
}

describe('audit rows with hooks', () => {
  it('run inside the shared transaction, then hear the commit; append() rows of the batch resolve too', async () => {
    const { store, audit } = open();
    const log: string[] = [];
    audit.appendRow(row('a'), hooks(store, log, 'a'));
    const b = audit.append(row('b'), () => log.push('b in tx'));
    audit.appendRow(row('c'), hooks(store, log, 'c'));
    await b;
    expect(log).toEqual(['a in tx (open: true)', 'b in tx', 'c in tx (open: true)', 'a committed', 'c committed']);
    expect(audit.list().map((r) => r.action)).toEqual(['c', 'b', 'a']);
    expect(audit.list()[2]).toMatchObject({ params: { n: 1 }, result: { done: true }, ok: true, duration_ms: 1.5 });
  });

  it('hear that the batch did not commit, and nothing of it is written', async () => {
    const { store, audit } = open();
    const log: string[] = [];
    audit.appendRow(row('good'), hooks(store, log, 'good'));
    // A row the table refuses (cause_kind is NOT NULL): the whole batch rolls back.
    const bad = { ...row('bad'), cause: { kind: null } } as unknown as Omit<AuditEntry, 'id'>;
    const refused = audit.append(bad);
    await expect(refused).rejects.toThrow(/NOT NULL/);
    expect(log).toEqual(['good in tx (open: true)', expect.stringMatching(/^good not committed: .*NOT NULL/)]);
    expect(audit.list()).toEqual([]);
    // The log still takes rows afterwards.
    audit.appendRow(row('later'), hooks(store, log, 'later'));
    await new Promise((r) => setImmediate(r));
    expect(log.at(-1)).toBe('later committed');
    expect(audit.list().map((r) => r.action)).toEqual(['later']);
  });
});
