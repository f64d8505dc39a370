// Health gate across a crash (issue 21 item 3): the agent (`room-agent start`, a child process)
// applies a config whose matrix cannot come online (wrong port) and is killed with SIGKILL inside
// the health window. The file now holds the bad version; started again, the agent checks it again
// against the devices that were online before the apply, rolls it back by itself and says so.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SisSimulator } from '../drivers/extron-sis/simulator.js';
import { configVersion } from '../src/config/load.js';
import { RpcTestClient, TOKENS, TOKENS_TOML } from './support/agent.js';
import { type ChildAgent, startChildAgent } from './support/child-agent.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-restart-'));
const file = path.join(dir, 'api.toml');
const sis = new SisSimulator();
let child: ChildAgent | null = null;
afterAll(async () => {
  await child?.kill('SIGKILL');
  await sis.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function poll<T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

type History = { running: string; versions: { version: string; action: string; outcome: string; detail: string | null }[] };

describe('health gate across a restart', () => {
  it('a version killed inside its window is checked again after start and rolled back', async () => {
    const port = await sis.start();
    const closed = await unusedPort();
    const text = (p: number) =>
      `[agent]\nroom_id = "restart-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nconfig_health_window_s = 8\n\n${TOKENS_TOML}\n[devices.matrix]\ndriver = "extron-sis"\nhost = "127.0.0.1"\nport = ${p}\n`;
    const good = text(port);
    const bad = text(closed);
    fs.writeFileSync(file, good);
    child = await startChildAgent(file);
    let ws = await RpcTestClient.open(`${child.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(TOKENS.admin)}`);
    await poll(
      () => ws.call<{ status: { status: string } }>('devices.get', { device: 'matrix' }),
      (d) => d.status.status === 'online',
      'matrix online',
    );
    const r = await ws.call<{ version: string; outcome: string }>('config.apply', {
      toml: bad,
      base_version: configVersion(good),
      why: 'matrix moved',
    });
    expect(r).toMatchObject({ version: configVersion(bad), outcome: 'checking' });
    // The power cut, inside the 8 s window.
    await child.kill('SIGKILL');
    ws.close();
    expect(configVersion(fs.readFileSync(file, 'utf8'))).toBe(configVersion(bad));

    child = await startChildAgent(file);
    ws = await RpcTestClient.open(`${child.url.replace('http', 'ws')}/ws?token=${encodeURIComponent(TOKENS.admin)}`);
    const history = await poll(
      () => ws.call<History>('config.history', {}),
      (h) => h.running === configVersion(good),
      'the bad version rolled back after the restart',
    );
    const [restored, failed] = history.versions;
    expect(restored).toMatchObject({ version: configVersion(good), action: 'auto_rollback', outcome: 'running' });
    expect(failed).toMatchObject({ version: configVersion(bad), action: 'apply', outcome: 'rolled_back' });
    expect(failed?.detail).toMatch(/device matrix is \w+ \(it was online before the apply\)/);
    expect(configVersion(fs.readFileSync(file, 'utf8'))).toBe(configVersion(good));
    const metrics = await (await fetch(`${child.url}/metrics`)).text();
    expect(metrics).toMatch(/^room_agent_config_rollbacks_total 1$/m);
    await poll(
      () => ws.call<{ status: { status: string } }>('devices.get', { device: 'matrix' }),
      (d) => d.status.status === 'online',
      'matrix back online',
    );
    ws.close();
    expect(await child.kill('SIGTERM')).toBe(0);
    child = null;
  }, 240_000);
});
