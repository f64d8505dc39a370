// `npm run bench:compare`: every benchmark on the old runtime and on this one,
// in one run on one machine, printed side by side (issue 18).
//
// The old side is a checkout of the last commit before the runtime move with
// its own node_modules installed by the old Node (its addons are built for
// that Node's ABI, which the new tree's are not):
//   git worktree add --detach ../old <commit> && (cd ../old && npm ci)   # with Node 20
//   BENCH_OLD_TREE=../old BENCH_OLD_NODE=/usr/bin/node npm run bench:compare [-- names…]
// Each bench runs on the old tree, then at once on this one, so both see the
// same machine load; each side is run the way it ships (its own bench code,
// bundle, flags and MALLOC_ARENA_MAX). The table goes to stdout and BENCH_OUT.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './support.js';

const here = path.join(ROOT, 'scripts', 'bench');
const oldTree = process.env.BENCH_OLD_TREE ? path.resolve(process.env.BENCH_OLD_TREE) : '';
const oldNode = process.env.BENCH_OLD_NODE ?? '/usr/bin/node';
const newNode = process.execPath;
const only = process.argv.slice(2);

interface Row {
  bench: string;
  figure: string;
  value: string;
  baseline: string;
  goal: string;
}

/** The rows of the table scripts/bench/run.ts writes to BENCH_OUT. */
function parseTable(text: string): Row[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| bench |') && !l.startsWith('|---'))
    .map((l) => {
      const [bench, figure, value, baseline, goal] = l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim());
      return { bench, figure, value, baseline, goal };
    });
}

function runSide(label: string, tree: string, node: string, name: string, out: string): Promise<void> {
  const pkg = JSON.parse(fs.readFileSync(path.join(tree, 'package.json'), 'utf8')) as { config?: Record<string, string> };
  const flags = (pkg.config?.node_flags ?? '').split(/\s+/).filter(Boolean);
  const mmapThreshold = process.env.MALLOC_MMAP_THRESHOLD_ ?? pkg.config?.malloc_mmap_threshold;
  // Both sides without NODE_EXTRA_CA_CERTS, as the service runs (the new side's run.ts drops it too).
  const { NODE_EXTRA_CA_CERTS: _shellCerts, ...inherited } = process.env;
  const env = {
    ...inherited,
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}`,
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? pkg.config?.malloc_arena_max ?? '',
    // Only where that tree's package.json has it: an empty value is not "unset" to glibc.
    ...(mmapThreshold ? { MALLOC_MMAP_THRESHOLD_: mmapThreshold } : {}),
    BENCH_OUT: out,
  };
  return new Promise((resolve, reject) => {
    const p = spawn(node, [...flags, '--import', 'tsx', 'scripts/bench/run.ts', name], {
      cwd: tree,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    p.stdout.on('data', (c: Buffer) => {
      for (const line of c.toString().split('\n')) if (line) process.stdout.write(`[${label}] ${line}\n`);
    });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${label} ${name}: exit ${code}`))));
  });
}

function build(tree: string, node: string): void {
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: tree,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` },
  });
}

function load(): string {
  const top = execFileSync('ps', ['-eo', 'pcpu,comm', '--sort=-pcpu', '--no-headers'], { encoding: 'utf8' })
    .split('\n')
    .slice(0, 6)
    .map((l) => l.trim().replace(/\s+/, '% '))
    .join(', ');
  return `load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; busiest processes: ${top}`;
}

async function main(): Promise<void> {
  if (!oldTree || !fs.existsSync(path.join(oldTree, 'scripts', 'bench', 'run.ts'))) {
    throw new Error('BENCH_OLD_TREE must name a checkout of the old runtime with its node_modules (see the top of this file)');
  }
  const oldVersion = execFileSync(oldNode, ['--version'], { encoding: 'utf8' }).trim();
  const names = fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts', 'support.ts', 'compare.ts', 'director-child.ts'].includes(f))
    .map((f) => path.basename(f, '.ts'))
    .filter((n) => only.length === 0 || only.some((o) => n.includes(o)))
    .sort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));
  const started = new Date().toISOString();
  const loadBefore = load();
  build(oldTree, oldNode);
  build(ROOT, newNode);
  const rows: string[] = [];
  for (const name of names) {
    const oldOut = path.join(tmp, `old-${name}.md`);
    const newOut = path.join(tmp, `new-${name}.md`);
    // A failing bench is reported in the table; the others still run.
    const failed: string[] = [];
    await runSide('old', oldTree, oldNode, name, oldOut).catch((e: Error) => failed.push(e.message));
    await runSide('new', ROOT, newNode, name, newOut).catch((e: Error) => failed.push(e.message));
    for (const f of failed) rows.push(`| ${name} | FAILED: ${f} | | | | |`);
    const oldRows = fs.existsSync(oldOut) ? parseTable(fs.readFileSync(oldOut, 'utf8')) : [];
    const newRows = fs.existsSync(newOut) ? parseTable(fs.readFileSync(newOut, 'utf8')) : [];
    // Figure names carry their run's numbers (samples, the runs behind a median): match without
    // them, in order (both sides print their figures in the same order).
    // The launch environment in a label (MALLOC_… settings a side ships with) differs between the
    // sides by design; it is not part of what the figure is.
    const key = (figure: string) => figure.replace(/MALLOC_[A-Z_]+=\S+ /g, '').replace(/\d[\d.,]*/g, '#');
    const oldByFigure = new Map<string, Row[]>();
    for (const r of oldRows) oldByFigure.set(key(r.figure), [...(oldByFigure.get(key(r.figure)) ?? []), r]);
    for (const r of newRows) {
      const o = oldByFigure.get(key(r.figure))?.shift();
      rows.push(`| ${r.bench} | ${r.figure} | ${o?.value ?? '— (new figure)'} | ${r.value} | ${r.baseline} | ${r.goal} |`);
    }
    for (const o of [...oldByFigure.values()].flat()) {
      rows.push(`| ${o.bench} | ${o.figure} | ${o.value} | — (not measured now) | ${o.baseline} | ${o.goal} |`);
    }
  }
  const table = [
    `Run ${started} to ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; old: Node ${oldVersion} (${path.relative(ROOT, oldTree) || oldTree}, ${execFileSync('git', ['-C', oldTree, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}), new: Node ${process.version} (${execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()})`,
    `Before: ${loadBefore}`,
    `After: ${load()}`,
    '',
    `| bench | figure | old: Node ${oldVersion} | new: Node ${process.version} | baseline (new run) | goal |`,
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, `${table}\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
