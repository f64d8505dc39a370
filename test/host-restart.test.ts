// A driver that throws from start() is restarted with backoff, counted once
// per restart, and its last error stays visible.
import { Type } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { defineDriver } from '../src/host/contract.js';
import { startTestAgent, type TestAgent } from './support/agent.js';

let starts = 0;
const flaky = defineDriver({
  name: 'flaky-test',
  kind: 'other',
  description: 'Throws from start() the first time.',
  config: Type.Object({}, { additionalProperties: false }),
  create(_cfg, ctx) {
    return {
      actions: {},
      async start() {
        starts++;
        if (starts === 1) throw new Error('first start fails');
        ctx.setStatus('online', 'up');
      },
      async stop() {},
    };
  },
});

let t: TestAgent;
afterAll(async () => t?.stop());

describe('driver crash restart', () => {
  it('goes error → connecting → online, restarts = 1, last error kept', async () => {
    t = await startTestAgent('[devices.f]\ndriver = "flaky-test"\n', { drivers: [flaky] });
    const c = await t.connect();
    type Dev = { status: { status: string; restarts: number; last_error: { message: string } | null } };
    let d = await c.call<Dev>('devices.get', { device: 'f' });
    expect(d.status.status).toBe('error');
    // Bounded by time (10 s), not by a count of polls: on a loaded machine each poll is slower.
    for (const end = Date.now() + 10_000; d.status.status !== 'online' && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 50));
      d = await c.call<Dev>('devices.get', { device: 'f' });
    }
    expect(d.status.status).toBe('online');
    expect(d.status.restarts).toBe(1);
    expect(d.status.last_error?.message).toBe('first start fails');
    expect(starts).toBe(2);
  });
});
