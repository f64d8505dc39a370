// The demo agent's resident memory over its first idle minute, read the way
// scripts/bench/agent-startup.ts reads it: dist/agent/cli.js (run `npm run
// build` first) on the demo api.toml in a temporary data dir, with package.json's
// node flags and malloc settings, without the shell's NODE_EXTRA_CA_CERTS (the
// service has none). Prints RSS, anonymous and file-backed memory (smaps_rollup)
// at each mark after "room-agent ready", and V8's collection and memory-reducer
// lines when asked for them with node flags.
//
//   node_modules/.bin/node scripts/idle-rss-timeline.mjs [node flags, e.g. --trace-gc --trace-memory-reducer]
//   MARKS=2,20,60 (seconds after ready; the last one stops the agent)   NO_ICS=1 (the demo without its ICS calendar)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'idle-rss-'));
let config = fs.readFileSync('api.toml', 'utf8').replace(/listen = "[^"]+"/, 'listen = "127.0.0.1:0"');
if (process.env.NO_ICS) {
  config = config
    .replace(/\[devices\.outlook\][\s\S]*?(?=\n\[)/, '')
    .replace('sources = ["tcs", "outlook"]', 'sources = ["tcs"]');
}
fs.writeFileSync(path.join(dir, 'api.toml'), config);
const env = {
  ...process.env,
  MALLOC_ARENA_MAX: pkg.config.malloc_arena_max,
  MALLOC_MMAP_THRESHOLD_: pkg.config.malloc_mmap_threshold,
};
delete env.NODE_EXTRA_CA_CERTS;
const flags = [...pkg.config.node_flags.split(' ').filter(Boolean), ...process.argv.slice(2)];
const marks = (process.env.MARKS ?? '2,5,10,15,20,30,45,60').split(',').map(Number);
const t0 = Date.now();
let ready = 0;
const agent = spawn(
  process.execPath,
  [...flags, path.resolve('dist/agent/cli.js'), 'start', '--config', path.join(dir, 'api.toml')],
  {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
const memory = () => {
  const s = fs.readFileSync(`/proc/${agent.pid}/smaps_rollup`, 'utf8');
  const mb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
  return `rss ${mb('Rss').toFixed(1)} anon ${mb('Anonymous').toFixed(1)} file ${(mb('Rss') - mb('Anonymous')).toFixed(1)}`;
};
let pending = '';
const onOutput = (chunk) => {
  pending += chunk;
  for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    if (!ready && line.includes('room-agent ready')) {
      ready = Date.now();
      console.log(`ready at ${ready - t0} ms`);
      for (const m of marks) {
        setTimeout(() => {
          console.log(`+${m}s ${memory()}`);
          if (m === marks.at(-1)) agent.kill('SIGTERM');
        }, m * 1000);
      }
    }
    if (/Mark-Compact|Scavenge|Memory reducer/.test(line) && !line.startsWith('{')) {
      console.log(
        `  [${((Date.now() - (ready || t0)) / 1000).toFixed(1)}s${ready ? '' : ' before ready'}] ${line.slice(0, 160)}`,
      );
    }
  }
};
agent.stdout.on('data', onOutput);
agent.stderr.on('data', onOutput);
agent.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
