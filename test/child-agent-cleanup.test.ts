// The child-agent helper never leaves an agent running after its test
// process: neither when the test forgets to stop it and exits, nor when the
// test process itself is SIGKILLed (a vitest worker ended on a timeout).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TOKENS_TOML } from './support/agent.js';
import { alive, waitUntil } from './video-helpers.js';

const SCRIPT = path.resolve(import.meta.dirname, 'support/child-agent-forgotten.ts');
const started: number[] = [];
afterEach(() => {
  // Only a failing run gets here with something alive.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

async function forget(mode: 'exit' | 'wait'): Promise<{ agentPid: number; kill(): void; exited: Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forgotten-'));
  const cfg = path.join(dir, 'api.toml');
  fs.writeFileSync(cfg, `[agent]\nroom_id = "forgotten"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n${TOKENS_TOML}\n`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const test = spawn(process.execPath, ['--import', 'tsx', SCRIPT, mode, cfg], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(test.pid!);
  const exited = new Promise<void>((r) => test.once('exit', () => r()));
  let out = '';
  test.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const agentPid = await waitUntil(() => Number(/agent-pid (\d+)/.exec(out)?.[1]) || null, 150_000, 'the forgotten agent');
  started.push(agentPid);
  return { agentPid, kill: () => test.kill('SIGKILL'), exited };
}

describe('startChildAgent leaves nothing running', () => {
  it('a test process that exits without stopping its agent takes the agent along', async () => {
    const t = await forget('exit');
    await t.exited;
    await waitUntil(() => !alive(t.agentPid), 10_000, 'agent gone').catch(() => undefined);
    expect(alive(t.agentPid), 'agent still running after its test process exited').toBe(false);
  }, 180_000);

  it('a test process killed with SIGKILL takes the agent along', async () => {
    const t = await forget('wait');
    expect(alive(t.agentPid)).toBe(true);
    t.kill();
    await t.exited;
    await waitUntil(() => !alive(t.agentPid), 10_000, 'agent gone').catch(() => undefined);
    expect(alive(t.agentPid), 'agent still running after its test process was killed').toBe(false);
  }, 180_000);
});
