// Start-to-ready time and idle RSS of the built agent on the demo api.toml,
// beside a bare Node HTTP server started the same way (the floor).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, percentile } from './types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = 5;

interface Sample {
  readyMs: number;
  rssMb: number;
}

function measure(args: string[], readyText: string, cwd: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let readyMs = 0;
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!readyMs && out.includes(readyText)) {
        readyMs = Number(process.hrtime.bigint() - t0) / 1e6;
        // let it settle idle for a moment, then read its resident set size
        setTimeout(() => {
          const status = fs.readFileSync(`/proc/${p.pid}/status`, 'utf8');
          const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
          p.kill('SIGTERM');
          resolve({ readyMs, rssMb: kb / 1024 });
        }, 2000);
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
    p.once('exit', (code) => {
      if (!readyMs) reject(new Error(`exited ${code} before ready:\n${out}`));
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const cli = path.join(ROOT, 'dist/src/cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/src/cli.js missing: run `npm run build` first (npm run bench does)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
  const demo = fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8').replace(/listen = "[^"]+"/, 'listen = "127.0.0.1:0"');
  fs.writeFileSync(path.join(dir, 'api.toml'), demo);
  const agent: Sample[] = [];
  const bare: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    agent.push(await measure([cli, 'start', '--config', path.join(dir, 'api.toml')], 'room-agent ready', dir));
    bare.push(
      await measure(
        ['-e', "require('http').createServer().listen(0,'127.0.0.1',()=>console.log('bare ready'))"],
        'bare ready',
        dir,
      ),
    );
  }
  const med = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  return [
    {
      name: `start to ready, demo config (median of ${RUNS})`,
      value: med(agent.map((s) => s.readyMs)),
      unit: 'ms',
      baseline: { name: 'bare node http server', value: med(bare.map((s) => s.readyMs)) },
      goal: '≤ 1500 ms',
    },
    {
      name: 'idle RSS, demo config',
      value: med(agent.map((s) => s.rssMb)),
      unit: 'MB',
      baseline: { name: 'bare node http server', value: med(bare.map((s) => s.rssMb)) },
      goal: '≤ 80 MB',
    },
  ];
}
