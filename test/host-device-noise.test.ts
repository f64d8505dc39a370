// The host gives each device one rate-limited log for garbage (ctx.deviceNoise), kept across
// driver restarts: a device that spews garbage and crashes cannot reset its own limit.
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { defineDriver } from '../src/host/contract.js';
import { startTestAgent, type TestAgent } from './support/agent.js';

let starts = 0;
const noisy = defineDriver({
  name: 'noisy-test',
  kind: 'other',
  description: 'Logs 100 garbage lines on every start; the first start then fails.',
  config: Type.Object({}, { additionalProperties: false }),
  create(_cfg, ctx) {
    return {
      actions: {},
      async start() {
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
afterAll(async () => t?.stop());

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
});
