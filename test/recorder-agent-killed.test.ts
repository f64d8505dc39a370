// A real agent (the CLI in a child process) records with real ffmpeg and is
// killed with SIGKILL mid-recording: its ffmpeg must end with it (the kernel's
// parent-death signal, through setpriv), not keep recording into the disk
// until something else notices. The next agent on the same data dir closes the
// segment the killed one left as `recovered`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parentDeathPrefix } from '../src/util/parent-death.js';
import { TESTSRC_RECORDER } from './recorder-helpers.js';
import { RpcTestClient, TOKENS, TOKENS_TOML } from './support/agent.js';
import { type ChildAgent, startChildAgent } from './support/child-agent.js';
import { alive, waitUntil } from './video-helpers.js';

const leftovers: number[] = [];
const agents: ChildAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.kill('SIGKILL');
  // Only a failing run leaves an ffmpeg behind; never let it record on.
  for (const pid of leftovers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

async function recorderOnline(agent: ChildAgent): Promise<RpcTestClient> {
  const client = await RpcTestClient.open(`${agent.url.replace('http', 'ws')}/ws?token=${TOKENS.operator}`);
  await waitUntil(
    async () => (await client.call<{ status: { status: string } }>('devices.get', { device: 'rec' })).status.status === 'online',
    30_000,
    'rec online',
  );
  return client;
}

describe('recorder ffmpeg when the agent is SIGKILLed', () => {
  it('setpriv on this machine can tie a child to its parent', () => {
    // The test below relies on it; say so plainly when the system lacks it.
    expect(parentDeathPrefix(), 'util-linux setpriv with --pdeathsig (>= 2.33) is needed').not.toBeNull();
  });

  it('ffmpeg ends with the agent; the next agent closes the cut segment as recovered', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-killed-'));
    const cfg = path.join(dir, 'api.toml');
    fs.writeFileSync(
      cfg,
      `[agent]\nroom_id = "rec-killed"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n${TOKENS_TOML}\n${TESTSRC_RECORDER}\n`,
    );
    const first = await startChildAgent(cfg);
    agents.push(first);
    const client = await recorderOnline(first);
    await client.call('device.action', { device: 'rec', action: 'start', params: { title: 'killed mid-recording' } });
    const pidFile = path.join(dir, 'data', 'devices', 'rec', 'ffmpeg.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    leftovers.push(pid);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('ffmpeg');
    expect(alive(pid)).toBe(true);
    // Wait until the open segment holds fragments (so it is playable and must be kept as recovered).
    const root = path.join(dir, 'data', 'recordings');
    await waitUntil(
      async () => {
        const d = await client.call<{ state: { segment?: { value: string | null } } }>('devices.get', { device: 'rec' });
        const seg = d.state.segment?.value ?? null;
        return seg !== null && fs.existsSync(path.join(root, seg)) && fs.statSync(path.join(root, seg)).size > 16_384;
      },
      30_000,
      'a segment with fragments',
    );
    client.close();

    await first.kill('SIGKILL');
    // Bounds a hang only: the kernel signals at the parent's death.
    await waitUntil(() => !alive(pid), 10_000, `ffmpeg ${pid} to end with its agent`).catch(() => undefined);
    expect(alive(pid), `ffmpeg ${pid} still recording after its agent was killed`).toBe(false);

    const second = await startChildAgent(cfg);
    agents.push(second);
    const again = await recorderOnline(second);
    again.close();
    const db = new Database(path.join(root, 'index.sqlite'), { readonly: true });
    const states = db.prepare('SELECT state FROM segments').all() as { state: string }[];
    db.close();
    expect(states.map((s) => s.state)).not.toContain('recording');
    expect(states.map((s) => s.state)).toContain('recovered');
    expect(fs.existsSync(pidFile)).toBe(false);
  }, 180_000);
});
