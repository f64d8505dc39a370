// The audit table's cost, outside the agent (docs/performance.md "Audit commit and retention"):
//
//   npx tsx scripts/audit-store.ts commit    one row per transaction (what a sequential caller gets),
//                                            schema version 1 against version 2: CPU µs per row and WAL
//                                            pages per commit. AUDIT_SCHEMA=1|2 runs one schema only (strace -c).
//   npx tsx scripts/audit-store.ts upgrade   AUDIT_ROWS (default 1,000,000) version-1 rows, then the
//                                            migration to version 2 (Store.migrate, as the agent's start
//                                            runs it) and a prune to a tenth of them (AuditRetention batches,
//                                            AUDIT_PAUSE_MS apart: default the agent's PRUNE_PAUSE_MS).
//
// CPU figures come from process.cpuUsage (a loaded machine slows them less than wall time);
// the files go to AUDIT_DIR (default a new directory under the system's temp dir).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { auditMigrations } from '../src/store/audit.js';
import { AuditRetention, PRUNE_PAUSE_MS } from '../src/store/audit-retention.js';
import { Store } from '../src/store/db.js';

const dir = process.env.AUDIT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'audit-store-'));
const INSERT = `INSERT INTO audit (at, cause_kind, cause_name, cause_detail, device, action, params, ok, result, error, duration_ms)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const T0 = Date.UTC(2026, 0, 1);
/** A VISCA zoom as the agent writes it. */
const row = (i: number) =>
  [
    new Date(T0 + i * 100).toISOString(),
    'api',
    'coordinator-panel',
    '10.0.0.7:51234',
    `cam-${(i % 4) + 1}`,
    'zoom',
    `{"op":"direct","position":${i % 16384}}`,
    1,
    null,
    null,
    0.412,
  ] as const;

function freshStore(name: string, version: number): Store {
  const file = path.join(dir, name, 'room-agent.db');
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  const s = new Store(file);
  s.migrate('audit', auditMigrations.slice(0, version));
  return s;
}

function commit(version: number): void {
  const N = 20_000;
  const s = freshStore(`commit-v${version}`, version);
  // No checkpoints while counting: every page a commit writes stays in the WAL as one frame.
  s.db.pragma('wal_autocheckpoint = 0');
  const ins = s.db.prepare(INSERT);
  const tx = s.db.transaction((i: number) => ins.run(...row(i)));
  for (let i = 0; i < 2000; i++) tx(i);
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = s.db.pragma('page_size', { simple: true }) as number;
  const c0 = process.cpuUsage();
  for (let i = 2000; i < 2000 + N; i++) tx(i);
  const c = process.cpuUsage(c0);
  const frames = (fs.statSync(`${s.file}-wal`).size - 32) / (pageSize + 24);
  console.log(
    `schema v${version}: ${((c.user + c.system) / N).toFixed(1)} µs CPU per row (${(c.system / N).toFixed(1)} system), ` +
      `${(frames / N).toFixed(2)} WAL pages per commit (${N} commits of one row)`,
  );
  s.close();
}

async function upgrade(): Promise<void> {
  const N = Number(process.env.AUDIT_ROWS ?? 1_000_000);
  let s = freshStore('upgrade', 1);
  const ins = s.db.prepare(INSERT);
  s.db.transaction(() => {
    for (let i = 0; i < N; i++) ins.run(...row(i));
  })();
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  const file = s.file;
  const before = fs.statSync(file).size;
  s.close();
  console.log(`version 1: ${N} rows, file ${(before / 1e6).toFixed(1)} MB (${(before / N).toFixed(0)} bytes a row)`);
  // As the agent opens it: WAL checkpoints on the worker thread once the WAL passes 2 MB.
  s = new Store(file, { backgroundCheckpoint: true });
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  s.migrate('audit', auditMigrations);
  const c = process.cpuUsage(c0);
  console.log(
    `migration to version ${auditMigrations.length}: ${(performance.now() - w0).toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms CPU`,
  );
  s.db.pragma('wal_checkpoint(TRUNCATE)');
  const free = s.db.pragma('freelist_count', { simple: true }) as number;
  const pageSize = s.db.pragma('page_size', { simple: true }) as number;
  console.log(
    `after it: file ${(fs.statSync(file).size / 1e6).toFixed(1)} MB, of which ${((free * pageSize) / 1e6).toFixed(1)} MB free pages (reused by later rows)`,
  );
  const keep = Math.min(100_000, Math.floor(N / 10));
  const retention = new AuditRetention({
    store: s,
    clock: { now: () => T0 + N * 100, setTimeout: () => ({ id: 0 }), clearTimeout: () => undefined },
    logger: pino({ level: 'silent' }),
    limits: () => ({ maxAgeDays: 3650, maxRows: keep }),
  });
  const times: number[] = [];
  let cpuUs = 0;
  let deleted = 0;
  // The agent's pass: one batch, then PRUNE_PAUSE_MS for everything else, until nothing is due.
  for (;;) {
    const t = performance.now();
    const c = process.threadCpuUsage();
    const b = retention.pruneBatch();
    const dc = process.threadCpuUsage(c);
    times.push(performance.now() - t);
    cpuUs += dc.user + dc.system;
    deleted += b.deleted;
    if (!b.more) break;
    await new Promise((r) => setTimeout(r, Number(process.env.AUDIT_PAUSE_MS ?? PRUNE_PAUSE_MS)));
  }
  const q = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
  };
  console.log(
    `prune to ${keep} rows: ${deleted} deleted in ${times.length} batches; each held the event loop ` +
      `median ${q(times, 0.5)} ms, p99 ${q(times, 0.99)} ms, max ${q(times, 1)} ms wall ` +
      `(${times.filter((t) => t > 10).length} over 10 ms); main-thread CPU ` +
      `${(cpuUs / 1000 / times.length).toFixed(2)} ms a batch on average (WAL checkpoints on the worker as in the agent; ` +
      'getrusage counts in scheduler ticks, so only the sum is meaningful)',
  );
  await s.closeAsync();
}

const mode = process.argv[2];
if (mode === 'commit') {
  for (const v of process.env.AUDIT_SCHEMA ? [Number(process.env.AUDIT_SCHEMA)] : [1, 2]) commit(v);
} else if (mode === 'upgrade') {
  await upgrade();
} else {
  console.error('usage: npx tsx scripts/audit-store.ts commit|upgrade');
  process.exit(2);
}
// Only a directory this run made is removed.
if (!process.env.AUDIT_DIR) fs.rmSync(dir, { recursive: true, force: true });
