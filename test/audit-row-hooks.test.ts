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

  it('a hook that throws stops no other row hearing back, and later batches still work', async () => {
    const { store, audit } = open();
    const log: string[] = [];
    const warned: unknown[] = [];
    const logged = new AuditLog(store, { warn: (o: unknown) => warned.push(o) } as never);
    const throwing: AuditRowHooks = {
      inTransaction: () => {},
      committed: () => {
        throw new Error('hook broke');
      },
      notCommitted: () => {
        throw new Error('hook broke');
      },
    };
    // Without a logger: the throw is swallowed; the next row still hears its commit.
    audit.appendRow(row('throws'), throwing);
    audit.appendRow(row('next'), hooks(store, log, 'next'));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['next in tx (open: true)', 'next committed']);
    // Two later batches (each array pair used again) still write and report every row.
    audit.appendRow(row('later1'), hooks(store, log, 'later1'));
    await new Promise((r) => setImmediate(r));
    audit.appendRow(row('later2a'), hooks(store, log, 'later2a'));
    audit.appendRow(row('later2b'), hooks(store, log, 'later2b'));
    await new Promise((r) => setImmediate(r));
    expect(log.slice(2)).toEqual([
      'later1 in tx (open: true)',
      'later1 committed',
      'later2a in tx (open: true)',
      'later2b in tx (open: true)',
      'later2a committed',
      'later2b committed',
    ]);
    expect(audit.list().map((r) => r.action)).toEqual(['later2b', 'later2a', 'later1', 'next', 'throws']);
    // With a logger: the throw is logged, and a failed batch's later rows hear it too.
    logged.appendRow(row('throws again'), throwing);
    const bad = { ...row('bad'), cause: { kind: null } } as unknown as Omit<AuditEntry, 'id'>;
    logged.appendRow(row('after'), hooks(store, log, 'after'));
    await expect(logged.append(bad)).rejects.toThrow(/NOT NULL/);
    expect(log.at(-1)).toMatch(/^after not committed: .*NOT NULL/);
    expect(warned).toHaveLength(1);
    expect(String((warned[0] as { err: Error }).err.message)).toBe('hook broke');
  });
});
