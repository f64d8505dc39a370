// End to end: the three matrix drivers inside a real agent, driven over the
// WebSocket JSON-RPC API, with the audit log and state attribution checked.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { VideohubSimulator } from '../drivers/videohub/simulator.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { type AuditRow, type DeviceRecord, type StateValue, waitAllOnline } from './support/device-api.js';

let agent: TestAgent;
let op: RpcTestClient;
let admin: RpcTestClient;
let hub: VideohubSimulator;

beforeAll(async () => {
  // One matrix is a real (external) Videohub simulator so the test can kill it and change it from the "front panel".
  hub = new VideohubSimulator({ inputs: 4, outputs: 4 });
  await hub.start();
  agent = await startTestAgent(`
[devices.matrix]
driver = "videohub"
simulated = true

[devices.extron]
driver = "extron-sis"
simulated = true
password = "e2e-secret-pw"
input_labels = ["Camera", "Lectern"]

[devices.kramer]
driver = "kramer-p3000"
simulated = true
route_command = "ROUTE"
route_layers = { video = 0, audio = 1 }
disconnect_input = "inputs_plus_one"

[devices.hub]
driver = "videohub"
host = "127.0.0.1"
port = ${hub.address.port}
`);
  op = await agent.connect(TOKENS.operator);
  admin = await agent.connect(TOKENS.admin);
  await waitAllOnline(op, ['matrix', 'extron', 'kramer', 'hub']);
});

afterAll(async () => {
  await agent?.stop();
  await hub?.stop();
});

const device = (id: string) => op.call<DeviceRecord>('devices.get', { device: id });
const action = (id: string, name: string, params: Record<string, unknown>) =>
  op.call('device.action', { device: id, action: name, params });

describe('matrix drivers through the WS API', () => {
  it('lists the common matrix actions on every driver', async () => {
    for (const id of ['matrix', 'extron', 'kramer']) {
      const names = (await op.call<{ name: string }[]>('actions.list', { device: id })).map((a) => a.name);
      expect(names, id).toEqual(expect.arrayContaining(['route', 'routes']));
    }
    for (const id of ['extron', 'kramer']) {
      const names = (await op.call<{ name: string }[]>('actions.list', { device: id })).map((a) => a.name);
      expect(names, id).toEqual(expect.arrayContaining(['preset.recall', 'preset.save']));
    }
  });

  it.each([
    ['matrix', { input: 3, output: 2, layer: 'video' }, { output: 2, input: 3, layer: 'video' }],
    ['extron', { input: 5, output: 1 }, { output: 1, input: 5, layer: 'av' }],
    ['kramer', { input: 6, output: 4, layer: 'video' }, { output: 4, input: 6, layer: 'video' }],
  ])('%s: route is confirmed by the device, lands in state with its cause and in the audit log', async (id, params, expected) => {
    expect(await action(id, 'route', params)).toEqual(expected);
    const d = await device(id);
    const route = d.state.routes;
    expect((route.value as Record<string, number>)[String(params.output)]).toBe(params.input);
    expect(route.cause).toMatchObject({ kind: 'api', name: 'operator-client' });
    const audit = await admin.call<AuditRow[]>('audit.list', { device: id, limit: 5 });
    expect(audit[0]).toMatchObject({
      device: id,
      action: 'route',
      params,
      ok: true,
      cause: { kind: 'api', name: 'operator-client' },
    });
  });

  it('reads the whole route table and the labels', async () => {
    const table = await action('kramer', 'routes', {});
    expect(table).toMatchObject({ video: { '4': 6 }, audio: {} });
    const d = await device('extron');
    expect((d.state.input_labels.value as Record<string, string>)['2']).toBe('Lectern');
    expect((d.state.output_labels.value as Record<string, string>)['1']).toBe('1');
    const hubState = await device('matrix');
    expect((hubState.state.output_labels.value as Record<string, string>)['1']).toBe('Projector');
  });

  it('recalls presets through the API', async () => {
    await action('extron', 'route', { input: 8, output: 8 });
    await action('extron', 'preset.save', { preset: 4 });
    await action('extron', 'route', { input: 1, output: 8 });
    await action('extron', 'preset.recall', { preset: 4 });
    expect(((await device('extron')).state.routes.value as Record<string, number>)['8']).toBe(8);
  });

  it('reports device errors as API errors and audits the failure', async () => {
    const r = await op.request('device.action', { device: 'kramer', action: 'route', params: { input: 99, output: 1 } });
    expect(r.error?.message).toMatch(/input 99 does not exist/);
    const v = await agent.connect(TOKENS.viewer);
    const denied = await v.request('device.action', { device: 'matrix', action: 'route', params: { input: 1, output: 1 } });
    expect(denied.error?.message).toMatch(/needs role operator/);
    const audit = await admin.call<AuditRow[]>('audit.list', { device: 'kramer', limit: 1 });
    expect(audit[0]).toMatchObject({ action: 'route', ok: false });
  });

  it('attributes a front-panel change to the device and pushes it to subscribers', async () => {
    await op.call('subscribe', { topics: ['devices'] });
    hub.route(3, 0); // output 4 <- input 1
    const n = await op.waitFor((e) => {
      const d = e.data as { device?: string; state?: Record<string, StateValue> };
      return d.device === 'hub' && (d.state?.routes?.value as Record<string, number> | undefined)?.['4'] === 1;
    });
    const routes = (n.data as { state: Record<string, StateValue> }).state.routes;
    expect(routes.cause.kind).toBe('device');
  });

  it('comes back online after the Videohub is killed and restarted, with the state re-read', async () => {
    await hub.stop();
    await vi.waitFor(async () => expect((await device('hub')).status.status).toBe('offline'), { timeout: 8000 });
    const r = await op.request('device.action', { device: 'hub', action: 'route', params: { input: 2, output: 1 } });
    expect(r.error?.message).toMatch(/offline/);
    hub.routes[0] = 3;
    await hub.start();
    await vi.waitFor(
      async () => {
        const d = await device('hub');
        expect(d.status.status).toBe('online');
        expect((d.state.routes.value as Record<string, number>)['1']).toBe(4);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await action('hub', 'route', { input: 2, output: 1 })).toEqual({ output: 1, input: 2, layer: 'video' });
  });

  it('never shows the Extron password in state, status or audit', async () => {
    const all = JSON.stringify([await op.call('devices.list'), await admin.call('audit.list', { limit: 100 })]);
    expect(all).not.toContain('e2e-secret-pw');
  });
});
