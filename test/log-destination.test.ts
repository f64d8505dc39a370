// Logging can never block exit (issue 19 item 9): with stdout's reader gone,
// pino.destination()'s exit flush (sonic-boom 4.2.1) retried EPIPE forever and
// the process never exited. The agent's own destination drops output instead.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogDestination } from '../src/util/log-destination.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'log-then-exit.ts');

describe('log destination', () => {
  it('a process whose stdout reader is gone still exits after a burst of log lines', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.destroy(); // the reader goes away before the first line
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    // A hang's bound, not a timing: the child starts through tsx, which alone took up to a minute under a
    // full parallel run at load 25 (c4d15a9); a process that hangs never exits, so 90 s still shows it.
    const bound = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 90_000).unref());
    const r = await Promise.race([exited, bound]);
    if (r === 'hung') proc.kill('SIGKILL');
    expect(r, stderr).toBe(0);
  }, 120_000);

  it('writes lines in order, then drops everything once a write fails (EPIPE), without throwing', async () => {
    const [readFd, writeFd] = pipe();
    const dest = new LogDestination({ fd: writeFd });
    for (let i = 0; i < 100; i++) dest.write(`line ${i}\n`);
    await new Promise<void>((resolve) => dest.flush(() => resolve()));
    const buf = Buffer.alloc(65536);
    const n = fs.readSync(readFd, buf);
    expect(buf.toString('utf8', 0, n).split('\n').slice(0, 3)).toEqual(['line 0', 'line 1', 'line 2']);
    fs.closeSync(readFd); // the reader goes away
    dest.write('after the reader left\n');
    await new Promise<void>((resolve) => dest.flush(() => resolve()));
    expect(dest.gone).toBe('EPIPE');
    expect(() => dest.write('more\n')).not.toThrow();
    dest.flushSync(100);
    expect(dest.dropped).toBeGreaterThanOrEqual(2);
    fs.closeSync(writeFd);
  });

  it('flushSync writes what is queued and returns', () => {
    const [readFd, writeFd] = pipe();
    const dest = new LogDestination({ fd: writeFd });
    dest.write('one\n');
    dest.write('two\n');
    dest.flushSync(100);
    const buf = Buffer.alloc(1024);
    const n = fs.readSync(readFd, buf);
    expect(buf.toString('utf8', 0, n)).toContain('two\n');
    fs.closeSync(readFd);
    fs.closeSync(writeFd);
  });

  it('a reader that stops reading costs at most maxQueuedBytes; later lines are dropped', () => {
    const [readFd, writeFd] = pipe();
    const dest = new LogDestination({ fd: writeFd, maxQueuedBytes: 1024 });
    for (let i = 0; i < 1000; i++) dest.write(`${'x'.repeat(99)}\n`);
    expect(dest.dropped).toBeGreaterThan(900);
    fs.closeSync(readFd);
    fs.closeSync(writeFd);
  });
});

/** A pipe as two raw fds (read, write). */
function pipe(): [number, number] {
  // node has no pipe(2) wrapper; a FIFO gives the same pair of descriptors.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logdest-'));
  const fifo = path.join(dir, 'p');
  execFileSync('mkfifo', [fifo]);
  const readFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(fifo, fs.constants.O_WRONLY);
  fs.rmSync(dir, { recursive: true, force: true });
  return [readFd, writeFd];
}
