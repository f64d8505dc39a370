// SIGKILL during an ingest burst: every event that got a 200 must be in the
// log after a restart (the answer is sent only after the commit).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TOKENS, TOKENS_TOML } from './support/agent.js';
import { type ChildAgent, startChildAgent } from './support/child-agent.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-crash-'));
const config = path.join(dir, 'api.toml');
fs.writeFileSync(
  config,
  `[agent]\nroom_id = "crash-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nlog_level = "info"\n\n${TOKENS_TOML}\n[tracking]\n`,
);
let child: ChildAgent | null = null;

afterAll(async () => {
  await child?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

const agentOpts = { keepAlive: true, maxSockets: 16 };

function postJson(url: string, body: unknown, agent: http.Agent): Promise<number> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/hooks/conference`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': data.length, authorization: `Bearer ${TOKENS.ingest}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

const joinEvent = (worker: number, n: number) => ({
  event: 'conf.joined',
  id: `crash-conf-${worker}`,
  join_time: 1763812800 + n,
  call_id: `w${worker}-c${n}`,
  part_uri: `+7000${worker}`,
  user_data: JSON.stringify({ person: `p-${worker}`, meeting: 'ignored-here' }),
});

describe('SIGKILL during an ingest burst', () => {
  it('keeps every event that was acknowledged with 200', async () => {
    child = await startChildAgent(config);
    const url = child.url;
    const agent = new http.Agent(agentOpts);
    const acked = new Set<string>();
    let killed = false;
    let kills: Promise<unknown> | null = null;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let n = 0; !killed; n += 5) {
        // Alternate single events and small batches.
        const batch = n % 10 === 0 ? [joinEvent(w, n)] : Array.from({ length: 5 }, (_, k) => joinEvent(w, n + k));
        const status = await postJson(url, batch.length === 1 ? batch[0] : batch, agent);
        if (status === 200) for (const e of batch) acked.add(e.call_id);
        if (status !== 200 && !killed) throw new Error(`unexpected status ${status}`);
        if (acked.size >= 500 && !kills) {
          killed = true;
          kills = child?.kill('SIGKILL') ?? null;
        }
      }
    });
    await Promise.all(workers);
    expect(await kills).toBeNull(); // exit code null = killed by a signal
    agent.destroy();
    expect(acked.size).toBeGreaterThanOrEqual(500);

    // Restart on the same data directory and read the log back through the API.
    child = await startChildAgent(config);
    const stored = new Set<string>();
    for (let w = 0; w < 8; w++) {
      for (let offset = 0; ; offset += 10_000) {
        const r = await fetch(`${child.url}/api/meetings/crash-conf-${w}/events?limit=10000&offset=${offset}`, {
          headers: { authorization: `Bearer ${TOKENS.viewer}` },
        });
        if (r.status === 404) break;
        const { events } = (await r.json()) as { events: { data: { call_id: string } }[] };
        for (const e of events) stored.add(e.data.call_id);
        if (events.length < 10_000) break;
      }
    }
    const missing = [...acked].filter((k) => !stored.has(k));
    expect(missing).toEqual([]);
    // A bound, not a measurement: two child starts (each bounded by READY_BOUND_MS, 60 s) and the burst.
  }, 180_000);
});
