// An agent killed with SIGKILL mid-publish: subscribers see its Last Will,
// and after a restart every committed event reaches them (nothing lost).
// Registered per broker by test/sync-kill.test.ts (aedes) and
// test/sync-kill-mosquitto.test.ts, so each file stays short.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerSpec } from './sync-support.js';
import { createAlerts, createSync } from '../src/sync/index.js';
import type { EventMessage } from '../src/sync/topics.js';
import { startTestAgent, TOKENS_TOML } from './support/agent.js';
import { mqttToml, Subscriber } from './sync-support.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE = 'rooms/test-room';

export function describeKill(spec: BrokerSpec): void {
  describe(`SIGKILL over ${spec.kind}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    });

    it('Last Will seen when killed; every committed event delivered after restart, once per id', async () => {
      const broker = await spec.create();
      cleanups.push(() => broker.close());
      const sub = await Subscriber.connect(broker, [`${BASE}/events`, `${BASE}/status`], {
        clientId: 'central-kill',
        clean: false,
      });
      cleanups.push(() => sub.close());

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-kill-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      const body = mqttToml(broker, 'inflight_window = 20');
      const file = path.join(dir, 'api.toml');
      fs.writeFileSync(
        file,
        `[agent]\nroom_id = "test-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n${TOKENS_TOML}\n${body}\n`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/sync-child.ts'), file], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(() => {
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      const kills = () => sub.json<EventMessage>(`${BASE}/events`).filter((e) => e.type === 'test.kill');
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child never reported progress: ${err}`)), 30_000);
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('acked 1000')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;

      // The broker publishes the Last Will once it sees the socket die.
      await sub.waitFor(() => sub.last(`${BASE}/status`)?.state === 'offline', 15_000, 'Last Will');
      expect(sub.last(`${BASE}/status`)).toEqual({ state: 'offline', room: 'test-room' });

      // What the child committed, from its own database.
      const db = new Database(path.join(dir, 'data', 'room-agent.db'), { readonly: true });
      const committed = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'").get() as { seq: number }).seq;
      const pending = (db.prepare('SELECT COUNT(*) AS n FROM sync_outbox').get() as { n: number }).n;
      db.close();
      const before = new Set(kills().map((e) => e.seq));
      expect(committed).toBeGreaterThanOrEqual(5000);
      expect(committed).toBe(5000);
      expect(pending).toBeGreaterThan(0); // killed mid-publish, with a backlog
      expect(before.size).toBeLessThan(committed);

      const again = await startTestAgent(body, { dir, features: [createAlerts, createSync] });
      cleanups.push(() => again.stop());
      const distinctSeqs = () => new Set(kills().map((e) => e.seq)).size;
      await sub.waitFor(() => distinctSeqs() >= committed, 30_000, `all ${committed} committed events`);
      const got = kills();
      const seqs = new Set(got.map((e) => e.seq));
      for (let s = 1; s <= committed; s++) if (!seqs.has(s)) throw new Error(`event seq ${s} lost`);
      expect(new Set(got.map((e) => e.id)).size).toBe(committed);
      await sub.waitFor(() => sub.last(`${BASE}/status`)?.state === 'online', 10_000, 'online again');
    }, 90_000);
  });
}
