// Health-gated rollback (issue 21 item 3): a config whose device cannot come online (wrong port)
// is rolled back by the agent itself within [agent] config_health_window_s; the alert says what
// failed, the history shows both versions' outcome, /metrics counts it, the device is back.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configVersion } from '../src/config/load.js';
import { createAlerts } from '../src/sync/index.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { LineSimulator, lineDriver } from './support/line-driver.js';
import { until } from './support/wait.js';

let sim: LineSimulator;
let t: TestAgent;
let ws: RpcTestClient;
let closedPort: number;
let port: number;

async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

beforeAll(async () => {
  sim = new LineSimulator();
  port = await sim.start();
  closedPort = await unusedPort();
  const body = `[devices.box]\ndriver = "line-test"\nport = ${port}\n\n[alerts]\ndevice_offline_after_s = 600\n`;
  // A short window keeps the test short; the default is 60 s.
  t = await startTestAgent(body, { features: [createAlerts], drivers: [lineDriver], agentKeys: 'config_health_window_s = 3' });
  ws = await t.connect(TOKENS.admin);
  await until(() => t.agent.devices.get('box')?.status.status === 'online', 'box online', 15_000);
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await sim?.stop();
});

describe('health-gated rollback', () => {
  it('a device moved to a port nobody listens on: rolled back by itself, alert raised, both versions in the history', async () => {
    const good = await ws.call<{ version: string; text: string }>('config.get', {});
    const file = path.join(t.dir, 'api.toml');
    const goodFile = fs.readFileSync(file, 'utf8');
    const bad = good.text.replace(`port = ${port}`, `port = ${closedPort}`);
    expect(bad).not.toBe(good.text);
    const r = await ws.call<{ version: string; outcome: string; problems: string[] }>('config.apply', {
      toml: bad,
      base_version: good.version,
      why: 'box moved',
      wait: true,
    });
    // The placeholders of config.get were restored: the version is that of the file's text with the new port.
    expect(r.version).toBe(configVersion(goodFile.replace(`port = ${port}`, `port = ${closedPort}`)));
    expect(r.outcome).toBe('rolled_back');
    expect(r.problems.join('; ')).toMatch(/device box is (offline|connecting|error) \(it was online before the apply\)/);

    // The previous text is back on disk and running; the device reconnects to its right port.
    expect(configVersion(fs.readFileSync(file, 'utf8'))).toBe(good.version);
    expect((await ws.call<{ config_version: string }>('system.info', {})).config_version).toBe(good.version);
    await until(() => t.agent.devices.get('box')?.status.status === 'online', 'box back online', 15_000);

    const history = await ws.call<{
      running: string;
      versions: {
        version: string;
        action: string;
        from: string;
        who: string;
        outcome: string;
        detail: string | null;
        why: string;
      }[];
    }>('config.history', { limit: 3 });
    expect(history.running).toBe(good.version);
    const [restored, failed] = history.versions;
    expect(restored).toMatchObject({
      version: good.version,
      action: 'auto_rollback',
      from: 'health',
      who: 'health-gate',
      outcome: 'running',
    });
    expect(restored?.why).toMatch(new RegExp(`version ${r.version} failed its health check: device box is`));
    expect(failed).toMatchObject({ version: r.version, action: 'apply', from: 'ws', outcome: 'rolled_back' });
    expect(failed?.detail).toMatch(/device box is/);

    const alerts = await ws.call<{ kind: string; severity: string; message: string; data: Record<string, unknown> }[]>(
      'alerts.list',
      {},
    );
    const alert = alerts.find((a) => a.kind === 'config_rolled_back');
    expect(alert).toMatchObject({ severity: 'critical', data: { failed_version: r.version, restored_version: good.version } });
    expect(alert?.message).toMatch(/rolled back to .*device box is/);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^room_agent_config_rollbacks_total 1$/m);
    expect(metrics).toContain(`room_agent_config_info{config_version="${good.version}"} 1`);

    const audit = await ws.call<{ action: string; cause: { kind: string; name?: string }; ok: boolean }[]>('audit.list', {
      device: 'config',
    });
    expect(audit.map((a) => `${a.cause.kind}:${a.cause.name}:${a.action}:${a.ok}`).sort()).toEqual([
      'api:admin-client:config.apply:true',
      'system:health-gate:config.auto_rollback:true',
    ]);
  }, 60_000);

  it('a later version that passes its check clears the alert', async () => {
    const good = await ws.call<{ version: string; text: string }>('config.get', {});
    const r = await ws.call<{ outcome: string }>('config.apply', {
      toml: good.text.replace('[agent]\n', '[agent]\nname = "fixed"\n'),
      base_version: good.version,
      why: 'rename',
      wait: true,
    });
    expect(r.outcome).toBe('running');
    const alerts = await ws.call<{ kind: string }[]>('alerts.list', {});
    expect(alerts.find((a) => a.kind === 'config_rolled_back')).toBeUndefined();
  }, 60_000);
});
