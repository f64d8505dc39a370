// `npm run bench`: runs every scripts/bench/*.ts that exports `run()`, prints
// each figure beside its same-run baseline, and writes a Markdown table to
// stdout (and to BENCH_OUT when set) for docs/performance.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { agentEnv } from './support.js';
import type { BenchResult } from './types.js';

// Every process a bench starts (the agent, simulators, baselines) inherits
// the agent's shipped environment, so both sides of a comparison run alike.
Object.assign(process.env, agentEnv());
// The agents the benches start inherit this environment. The room PC's service has no
// NODE_EXTRA_CA_CERTS (scripts/deb/room-agent.service); a shell that sets it (this build
// machine's does) makes Node load an extra certificate store at start (~1.1 MB of RSS).
delete process.env.NODE_EXTRA_CA_CERTS;

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

async function main(): Promise<void> {
  const ext = path.extname(fileURLToPath(import.meta.url));
  const files = fs
    .readdirSync(here)
    .filter(
      (f) =>
        f.endsWith(ext) && !f.endsWith(`.d${ext}`) && !['run', 'types', 'support', 'compare'].includes(path.basename(f, ext)),
    )
    .sort();
  // A name that is a bench's own selects that bench alone (bench:compare runs one at a time:
  // `tracking` must not run `tracking-push` too); any other word selects every bench containing it.
  const names = files.map((f) => path.basename(f, ext));
  const selected = files.filter(
    (f, i) => only.length === 0 || only.some((o) => (names.includes(o) ? names[i] === o : f.includes(o))),
  );
  const rows: string[] = [];
  const started = new Date().toISOString();
  for (const f of selected) {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { run?: () => Promise<BenchResult[]> };
    if (typeof mod.run !== 'function') continue;
    process.stdout.write(`\n## ${f}\n`);
    const results = await mod.run();
    for (const r of results) {
      const base = r.baseline ? `   baseline ${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '';
      process.stdout.write(`${r.name}: ${fmt(r.value)} ${r.unit}${base}${r.goal ? `   goal: ${r.goal}` : ''}\n`);
      rows.push(
        `| ${path.basename(f, ext)} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '—'} | ${r.goal ?? '—'} |`,
      );
    }
  }
  const table = [
    `Run ${started} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    '',
    '| bench | figure | value | baseline (same run) | goal |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, `${table}\n`);
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(3);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
