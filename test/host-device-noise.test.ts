// The host gives each device one rate-limited log for garbage (ctx.deviceNoise), kept across
// driver restarts: a device that spews garbage and crashes cannot reset its own limit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { type DriverContext, defineDriver } from '../src/host/contract.js';
import { startTestAgent, type TestAgent, TOKENS_TOML } from './support/agent.js';
import { until } from './support/wait.js';

let starts = 0;
let lastCtx: DriverContext | null = null;
const noisy = defineDriver({
  name: 'noisy-test',
  kind: 'other',
  description: 'Logs 100 garbage lines on every start; the first start then fails.',
  config: Type.Object({}, { additionalProperties: false }),
  create(_cfg, ctx) {
    return {
      actions: {},
      async start() {
        lastCtx = ctx;
        starts++;
        for (let i = 0; i < 100; i++) ctx.deviceNoise.warn('garbage', { line: `junk ${i}` }, 'noisy-test: ignored garbage');
        if (starts === 1) throw new Error('first start fails');
        ctx.setStatus('online', 'up');
      },
      async stop() {},
    };
  },
});

let t: TestAgent;
let own: Agent | null = null;
afterAll(async () => {
  await t?.stop();
  await own?.stop();
});

describe('device garbage log (host)', () => {
  it('writes at most 5 garbage lines a minute per device, across a driver restart', async () => {
    const lines: { msg: string; device?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    t = await startTestAgent('[devices.n]\ndriver = "noisy-test"\n', { drivers: [noisy], logger });
    const c = await t.connect();
    type Dev = { status: { status: string; restarts: number } };
    let d = await c.call<Dev>('devices.get', { device: 'n' });
    // Bounded by time (10 s), not by a count of polls: on a loaded machine each poll is slower.
    for (const end = Date.now() + 10_000; d.status.status !== 'online' && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      d = await c.call<Dev>('devices.get', { device: 'n' });
    }
    expect(d.status.status).toBe('online');
    expect(starts).toBe(2);
    const garbage = lines.filter((l) => l.msg === 'noisy-test: ignored garbage');
    expect(garbage).toHaveLength(5);
    expect(garbage.every((l) => l.device === 'n')).toBe(true);
  });

  it('[agent] device_log_lines_per_min sets the limit, and a config reload changes it in place', async () => {
    starts = 0;
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'device-noise-'));
    const file = path.join(dir, 'api.toml');
    const toml = (perMin: number) =>
      `[agent]\nroom_id = "noise"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nwatch_config = false\ndevice_log_lines_per_min = ${perMin}\n\n${TOKENS_TOML}\n[devices.n]\ndriver = "noisy-test"\n`;
    fs.writeFileSync(file, toml(2));
    own = new Agent({ configFile: file, logger, drivers: [noisy] });
    await own.start();
    await until(() => own?.devices.get('n')?.status.status === 'online', 'n online');
    const garbage = () => lines.filter((l) => l.msg === 'noisy-test: ignored garbage').length;
    expect(garbage()).toBe(2);

    fs.writeFileSync(file, toml(10));
    await own.reconfigure(loadConfig(file, own.drivers), { from: 'api', who: 'test' });
    for (let i = 0; i < 100; i++) lastCtx!.deviceNoise.warn('garbage', { line: `more ${i}` }, 'noisy-test: ignored garbage');
    // The same minute: 10 in all now.
    expect(garbage()).toBe(10);
  });
});
