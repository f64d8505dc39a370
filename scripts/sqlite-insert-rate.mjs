// better-sqlite3 insert rate and CPU per insert, to compare two builds of the addon (e.g. libstdc++
// linked statically or not: docs/install.md, "Building on Astra Linux SE 1.7: the compiler").
// A file database with the agent's pragmas (src/store/db.ts) and audit-like rows, inserted one
// commit each (as actions are audited) and then in one transaction. CPU time is the figure to
// compare on a loaded machine; the rate is wall time.
//
//   nice -n -15 node scripts/sqlite-insert-rate.mjs [rows=100000] [runs=5]   (the pinned node: npx / npm exec)
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');
const rows = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);

function run(mode) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-rate-'));
  const db = new Database(path.join(dir, 'rate.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -2048');
  db.exec(
    'CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, device TEXT, action TEXT NOT NULL, params TEXT, ok INTEGER NOT NULL, duration_ms REAL)',
  );
  const ins = db.prepare('INSERT INTO audit (at, device, action, params, ok, duration_ms) VALUES (?, ?, ?, ?, 1, ?)');
  const one = (i) => ins.run(new Date(1_780_000_000_000 + i).toISOString(), `cam-${i & 3}`, 'zoom', '{"speed":3}', 0.4);
  const many = db.transaction((n) => {
    for (let i = 0; i < n; i++) one(i);
  });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (mode === 'commit each') for (let i = 0; i < rows; i++) one(i);
  else many(rows);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rate: rows / wall, cpuUs: (cpu.user + cpu.system) / rows };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const addon = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
console.log(
  `better-sqlite3 ${require('better-sqlite3/package.json').version}, ${addon} (${fs.statSync(addon).size} bytes), node ${process.version}`,
);
for (const mode of ['commit each', 'one transaction']) {
  run(mode); // warm-up
  const r = Array.from({ length: runs }, () => run(mode));
  console.log(
    `${mode}: ${rows} rows x ${runs} runs: median ${Math.round(median(r.map((x) => x.rate)))} rows/s, ` +
      `CPU ${median(r.map((x) => x.cpuUs)).toFixed(2)} us/row (runs: ${r.map((x) => x.cpuUs.toFixed(2)).join(' ')})`,
  );
}
