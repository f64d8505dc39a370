// The README's promise: the shipped api.toml runs a whole room on simulators,
// and a newcomer can recall a camera preset with the token the README names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/app.js';
import { RpcTestClient } from './support/agent.js';

const ROOT = path.resolve(import.meta.dirname, '..');
let agent: Agent;
let url: string;
let client: RpcTestClient;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
  agent = new Agent({
    configFile: path.join(ROOT, 'api.toml'),
    listen: '127.0.0.1:0',
    dataDir,
    logger: pino({ level: 'silent' }),
  });
  url = await agent.start();
  client = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=demo-operator-token-change-me`);
});
afterAll(async () => {
  client?.close();
  await agent?.stop();
});

async function waitOnline(ids: string[]): Promise<void> {
  // Bounded by time (20 s of the test's 30), not by a count of polls: on a loaded machine each poll is slower.
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    const list = await client.call<{ id: string; status: { status: string } }[]>('devices.list');
    if (ids.every((id) => list.find((d) => d.id === id)?.status.status === 'online')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const list = await client.call<{ id: string; status: { status: string; message: string } }[]>('devices.list');
  throw new Error(`not online: ${JSON.stringify(list.map((d) => [d.id, d.status.status, d.status.message]))}`);
}

describe('the demo room (shipped api.toml)', () => {
  it('cameras, matrix, mixer and audio come online on their simulators', async () => {
    await waitOnline(['cam-1', 'cam-2', 'cam-3', 'matrix', 'mixer', 'audio']);
  });

  it('the README tour works: recall a preset with the demo operator token', async () => {
    await waitOnline(['cam-1']);
    await client.call('device.action', { device: 'cam-1', action: 'preset.recall', params: { preset: 2 } });
    const cam = await client.call<{ state: Record<string, { value: unknown; cause: { name?: string } }> }>('devices.get', {
      device: 'cam-1',
    });
    expect(cam.state.last_preset?.value).toBe(2);
  });

  it('the shipped scenarios load and plan against the demo devices', async () => {
    const list = await client.call<{ scenarios: { name: string }[] }>('scenarios.list');
    expect(list.scenarios.map((s) => s.name).sort()).toEqual(['cameras-down', 'dance', 'meeting-end', 'meeting-start']);
    const plan = await client.call<{ plan: { label: string }[] }>('scenarios.run', { name: 'meeting-start', dry_run: true });
    // The demo's recorder follows meetings itself (follow_meeting): the scenario does not also start it.
    expect(plan.plan.map((p) => p.label)).toContain('director → auto');
    expect(plan.plan.map((p) => p.label)).not.toContain('recorder: start {}');
  });

  it('health answers without a token', async () => {
    const h = (await (await fetch(`${url}/healthz`)).json()) as { status: string; room_id: string };
    expect(h).toMatchObject({ status: 'ok', room_id: 'demo-room' });
  });
});
