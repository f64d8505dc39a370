// "Nothing acknowledged is lost if the process is killed": a real agent (the
// CLI in a child process) gets a burst of camera actions over the WS API and
// is killed with SIGKILL in the middle; every action it acknowledged must have
// its audit row in the SQLite file afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TOKENS, TOKENS_TOML, RpcTestClient } from './support/agent.js';
import { startChildAgent } from './support/child-agent.js';

describe('SIGKILL during a burst of actions', () => {
  it('every action the API acknowledged has its audit row after the kill', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-'));
    const cfg = path.join(dir, 'api.toml');
    fs.writeFileSync(
      cfg,
      `[agent]\nroom_id = "kill"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n${TOKENS_TOML}\n` +
        '[devices.cam]\ndriver = "visca"\nsimulated = true\nframing = "raw-udp"\nsim_motion_ms = 0\n',
    );
    const child = await startChildAgent(cfg);
    const client = await RpcTestClient.open(`${child.url.replace('http', 'ws')}/ws?token=${TOKENS.operator}`);
    // Bounded by time, not by a count of polls (a loaded machine answers each poll slowly).
    for (const end = Date.now() + 30_000; ; ) {
      const d = await client.call<{ status: { status: string } }>('devices.get', { device: 'cam' });
      if (d.status.status === 'online') break;
      if (Date.now() > end) throw new Error(`cam not online within 30 s: ${JSON.stringify(d.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const acked = new Set<number>();
    let sent = 0;
    let killed = false;
    // Waves of 16 concurrent unique actions (zoom position = call number); the kill lands mid-wave.
    const wave = async () => {
      const batch = Array.from({ length: 16 }, () => sent++);
      await Promise.all(
        batch.map((n) =>
          client.request('device.action', { device: 'cam', action: 'zoom', params: { op: 'direct', position: n } }).then((r) => {
            if (!r.error && !killed) acked.add(n);
          }),
        ),
      );
    };
    const burst = (async () => {
      while (!killed) await Promise.race([wave(), new Promise((r) => setTimeout(r, 2000))]);
    })();
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    const ackedAtKill = new Set(acked);
    await child.kill('SIGKILL');
    client.close();
    await burst.catch(() => undefined);

    const db = new Database(path.join(dir, 'data', 'room-agent.db'), { readonly: true });
    const rows = db.prepare("SELECT params FROM audit WHERE device = 'cam' AND action = 'zoom' AND ok = 1").all() as {
      params: string;
    }[];
    db.close();
    const logged = new Set(rows.map((r) => (JSON.parse(r.params) as { position: number }).position));
    const missing = [...ackedAtKill].filter((n) => !logged.has(n));
    expect(ackedAtKill.size).toBeGreaterThanOrEqual(200);
    expect(missing).toEqual([]);
    // the kill really was mid-burst: more actions were sent than acknowledged
    expect(sent).toBeGreaterThan(ackedAtKill.size);
    // A bound, not a measurement: the child's start (READY_BOUND_MS, 60 s) plus the burst on a loaded 2-core machine.
  }, 120_000);
});
