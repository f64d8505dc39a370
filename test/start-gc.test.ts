// One full collection once the agent is ready (src/util/start-gc.ts), run by
// the launcher after the ready line is written: the built agent is started
// for real with --trace-gc and its output read in order.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentEnv, agentNodeFlags, buildAgent } from '../scripts/build-agent.js';
import { collectStartGarbage } from '../src/util/start-gc.js';
import { startChildAgent } from './support/child-agent.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'build', 'start-gc-test', 'cli.js');

describe('collectStartGarbage', () => {
  it('runs a collection and leaves no gc() behind, in this context or a new one', () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const ms = collectStartGarbage();
    expect(typeof ms).toBe('number');
    expect(ms).toBeGreaterThanOrEqual(0);
    if (!hadGc) expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
    // --expose-gc was set only while its own context was made.
    expect(vm.runInNewContext('typeof gc')).toBe('undefined');
  });
});

describe('the launcher, once `start` is ready', () => {
  beforeAll(async () => {
    await buildAgent(OUT);
  }, 120_000);
  afterAll(() => fs.rmSync(path.dirname(OUT), { recursive: true, force: true }));

  it('writes the ready line first, then runs one full collection', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'start-gc-'));
    const demo = fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8').replace(/listen = "[^"]+"/, 'listen = "127.0.0.1:0"');
    const file = path.join(dir, 'api.toml');
    fs.writeFileSync(file, demo);
    const agent = await startChildAgent(file, agentEnv(), 30_000, [...agentNodeFlags(), '--trace-gc', OUT]);
    try {
      // V8 names a collection asked for by gc() "testing"; nothing else in the agent asks for one.
      const requested = /Mark-Compact.*\btesting\b/;
      const deadline = Date.now() + 20_000;
      while (!requested.test(agent.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const out = agent.output();
      const ready = out.indexOf('room-agent ready');
      const gc = out.search(requested);
      expect(ready, out.slice(0, 2000)).toBeGreaterThanOrEqual(0);
      expect(gc, 'no requested mark-compact in the output').toBeGreaterThan(ready);
      expect(out.match(new RegExp(requested, 'g'))?.length).toBe(1);
    } finally {
      await agent.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
