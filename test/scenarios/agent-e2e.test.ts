import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViscaSimulator } from '../../drivers/visca/simulator.js';
import { startTestAgent, TOKENS, type TestAgent } from '../support/agent.js';

const cams: ViscaSimulator[] = [];
let t: TestAgent;
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'scn-e2e-'));

beforeAll(async () => {
  for (let i = 0; i < 2; i++)
    cams.push(await new ViscaSimulator({ framing: 'raw-tcp', motionMs: 20, profile: 'ptzoptics' }).start());
  fs.writeFileSync(
    path.join(folder, 'down.toml'),
    'name = "down"\nmode = "restart"\n\n[[steps]]\ndevices = { kind = "camera" }\naction = "preset.recall"\nparams = { preset = "down" }\n',
  );
  fs.writeFileSync(
    path.join(folder, 'sweep.toml'),
    'name = "sweep"\n\n[[steps]]\nname = "loop"\n\n[[steps.loop.steps]]\ndevice = "cam-a"\naction = "preset.recall"\nparams = { preset = 3 }\n\n[[steps.loop.steps]]\nwait_ms = 50\n\n[[steps]]\nname = "never reached"\nwait_ms = 1\n',
  );
  const camToml = (id: string, c: ViscaSimulator) =>
    `[devices.${id}]\ndriver = "visca"\nframing = "raw-tcp"\nhost = "127.0.0.1"\nport = ${c.endpoint.port}\nprofile = "ptzoptics"\npresets = { down = 10 }\n`;
  t = await startTestAgent(`${camToml('cam-a', cams[0])}\n${camToml('cam-b', cams[1])}\n[scenarios]\nfolder = "${folder}"\n`);
  const c = await t.connect();
  for (;;) {
    const list = await c.call<{ status: { status: string } }[]>('devices.list');
    if (list.every((d) => d.status.status === 'online')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
});
afterAll(async () => {
  await t?.stop();
  for (const c of cams) await c.stop();
});

describe('scenarios through the agent', () => {
  it('a dry run answers the plan and the cameras receive nothing', async () => {
    const c = await t.connect(TOKENS.operator);
    const before = cams.map((s) => s.received.length);
    const r = await c.call<{ plan: { label: string }[] }>('scenarios.run', { name: 'down', dry_run: true });
    expect(r.plan.map((p) => p.label)).toEqual([
      'cam-a: preset.recall {"preset":"down"}',
      'cam-b: preset.recall {"preset":"down"}',
    ]);
    await new Promise((res) => setTimeout(res, 100));
    expect(cams.map((s) => s.received.length)).toEqual(before);
  });

  it('runs a scenario: live progress on topic scenarios, cameras move, run and audit recorded with the cause', async () => {
    const viewer = await t.connect(TOKENS.viewer);
    await viewer.call('subscribe', { topics: ['scenarios'] });
    const op = await t.connect(TOKENS.operator);
    const { run_id } = await op.call<{ run_id: string }>('scenarios.run', { name: 'down' });
    const end = await viewer.waitFor((e) => {
      const run = (e.data as { run?: { id: string; ended_at: string | null } }).run;
      return run?.id === run_id && run.ended_at !== null;
    });
    const ended = (end.data as { run: { outcome: string; error: string } }).run;
    expect(ended.error ?? '').toBe('');
    expect(ended.outcome).toBe('succeeded');
    expect(
      viewer.events.some((e) => (e.data as { run?: { steps: { status: string }[] } }).run?.steps[0]?.status === 'running'),
    ).toBe(true);
    expect(cams.map((s) => s.lastPreset)).toEqual([10, 10]);
    const runs = await viewer.call<{ id: string; trigger: { kind: string; detail: string }; steps: unknown[] }[]>(
      'scenarios.runs',
      {
        name: 'down',
      },
    );
    expect(runs[0]).toMatchObject({ id: run_id, trigger: { kind: 'manual', detail: 'operator-client' } });
    const admin = await t.connect();
    const audit = await admin.call<{ cause: { kind: string; name: string } }[]>('audit.list', { device: 'cam-a', limit: 1 });
    expect(audit[0].cause).toMatchObject({ kind: 'scenario', name: 'down' });
  });

  it('cancel stops an endless loop; a viewer may not run scenarios', async () => {
    const viewer = await t.connect(TOKENS.viewer);
    expect((await viewer.request('scenarios.run', { name: 'sweep' })).error?.code).toBe(4003);
    const op = await t.connect(TOKENS.operator);
    const { run_id } = await op.call<{ run_id: string }>('scenarios.run', { name: 'sweep' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await op.call('scenarios.cancel', { run_id })).toEqual({ cancelled: 1 });
    for (;;) {
      const [run] = await op.call<{ outcome: string }[]>('scenarios.runs', { name: 'sweep', limit: 1 });
      if (run.outcome !== 'running') {
        expect(run.outcome).toBe('cancelled');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const list = await op.call<{ automation: boolean; scenarios: { name: string }[] }>('scenarios.list');
    expect(list.scenarios.map((s) => s.name).sort()).toEqual(['down', 'sweep']);
    expect(await op.call('scenarios.automation', { enabled: false })).toEqual({ enabled: false });
  });
});
