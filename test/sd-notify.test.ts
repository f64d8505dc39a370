import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemdNotifier } from '../src/util/sd-notify.js';
import { startChildAgent } from './support/child-agent.js';
import { TOKENS_TOML } from './support/agent.js';

interface DgramServer {
  bind(path: string): void;
  on(ev: 'message', fn: (msg: Buffer) => void): void;
  close(): void;
}
const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(t: 'unix_dgram'): DgramServer };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdn-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sd_notify', () => {
  it('is off without NOTIFY_SOCKET', () => {
    expect(SystemdNotifier.fromEnv({}, pino({ level: 'silent' }))).toBeNull();
  });

  it('sends READY after the API listens, WATCHDOG at half the interval, STOPPING on SIGTERM', async () => {
    const sock = path.join(dir, 'notify.sock');
    const server = unix.createSocket('unix_dgram');
    const messages: string[] = [];
    let healthAtReady: number | null = null;
    let url = '';
    let resolveReady: () => void = () => undefined;
    const readySeen = new Promise<void>((r) => {
      resolveReady = r;
    });
    server.on('message', (m) => {
      const text = m.toString();
      messages.push(text);
      if (text.includes('READY=1')) resolveReady();
    });
    server.bind(sock);
    const cfg = path.join(dir, 'api.toml');
    fs.writeFileSync(cfg, `[agent]\nroom_id = "sdn"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n${TOKENS_TOML}`);
    const child = await startChildAgent(cfg, { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' });
    url = child.url;
    await readySeen;
    healthAtReady = (await fetch(`${url}/healthz`)).status;
    // at least two watchdog pings, then a clean stop
    while (messages.filter((m) => m === 'WATCHDOG=1').length < 2) await new Promise((r) => setTimeout(r, 50));
    await child.kill('SIGTERM');
    server.close();
    expect(messages[0]).toMatch(/^READY=1\nSTATUS=serving http:\/\/127\.0\.0\.1:\d+\nMAINPID=\d+$/);
    expect(healthAtReady).toBe(200);
    expect(child.output()).toMatch(/"every_ms":200,"msg":"systemd watchdog pings on"/);
    expect(messages).toContain('STOPPING=1');
    expect(messages.indexOf('STOPPING=1')).toBeGreaterThan(0);
  }, 90_000); // a bound: the child start alone may take READY_BOUND_MS (60 s) on a loaded machine

  it('sends nothing when started without NOTIFY_SOCKET', async () => {
    const cfg = path.join(dir, 'api2.toml');
    fs.writeFileSync(cfg, `[agent]\nroom_id = "sdn2"\nlisten = "127.0.0.1:0"\ndata_dir = "data2"\n\n${TOKENS_TOML}`);
    const child = await startChildAgent(cfg, { NOTIFY_SOCKET: '', WATCHDOG_USEC: '400000' });
    await child.kill('SIGTERM');
    expect(child.output()).not.toMatch(/watchdog|sd_notify/);
  }, 90_000); // a bound: the child start alone may take READY_BOUND_MS (60 s) on a loaded machine
});
