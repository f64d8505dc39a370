// The per-device command queue has a config key (issue 16 gaps: "every limit
// has a default, a config key and a line in docs/"): `[agent] device_queue_max`
// and a device's own `queue_max`. A client that keeps calling a hung device
// gets DEVICE_BUSY (4105) naming the keys once the queue is full; the calls
// already queued are answered (timeout), nothing grows without bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SisSimulator } from '../drivers/extron-sis/index.js';
import { ERROR_CODES } from '../src/util/errors.js';
import { startTestAgent, type TestAgent } from './support/agent.js';

const sims: SisSimulator[] = [];
let t: TestAgent;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const s = new SisSimulator({ inputs: 4, outputs: 2 });
    await s.start();
    sims.push(s);
  }
  const dev = (id: string, s: SisSimulator, extra = '') =>
    `[devices.${id}]\ndriver = "extron-sis"\nhost = "127.0.0.1"\nport = ${s.address.port}\nkeepalive_ms = 60000\nrequest_timeout_ms = 2000\naction_timeout_ms = 3000\n${extra}`;
  t = await startTestAgent(
    `${dev('agent-limit', sims[0] as SisSimulator)}\n${dev('own-limit', sims[1] as SisSimulator, 'queue_max = 2\n')}`,
    {
      agentKeys: 'device_queue_max = 4',
    },
  );
  const deadline = Date.now() + 10_000;
  const online = () => ['agent-limit', 'own-limit'].every((d) => t.agent.devices.get(d)?.status.status === 'online');
  while (Date.now() < deadline && !online()) await new Promise((r) => setTimeout(r, 50));
  expect(online()).toBe(true);
}, 20_000);
afterAll(async () => {
  await t?.stop();
  for (const s of sims) await s.stop();
});

describe('the per-device command queue limit', () => {
  it.each([
    ['agent-limit', 0, 4],
    ['own-limit', 1, 2],
  ])(
    '%s (simulator %i, limit %i): one command on the wire and the limit waiting; the rest get DEVICE_BUSY at once',
    async (device, sim, limit) => {
      (sims[sim] as SisSimulator).silent = true; // a hung device: the connection stays open, nothing is answered
      const c = await t.connect();
      const calls = Array.from({ length: 12 }, (_, i) =>
        c.request('device.action', { device, action: 'route', params: { input: (i % 4) + 1, output: 1, layer: 'video' } }),
      );
      const replies = await Promise.all(calls);
      const busy = replies.filter((r) => r.error?.code === ERROR_CODES.DEVICE_BUSY);
      // One on the wire plus `limit` waiting are accepted (and time out against the hung device).
      expect(busy.length).toBe(12 - 1 - limit);
      expect(busy[0]?.error?.message).toMatch(/queue_max.*\[agent\] device_queue_max/);
      for (const r of replies.filter((x) => x.error?.code !== ERROR_CODES.DEVICE_BUSY)) expect(r.error?.code).toBeDefined();
    },
    30_000,
  );
});
