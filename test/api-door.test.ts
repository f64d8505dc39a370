// Regression tests for the WebSocket door (issue 16): client input that used
// to crash, freeze or flood the agent gets a clear answer or a documented close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/util/errors.js';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { lineDriver } from './support/line-driver.js';

let t: TestAgent;

beforeAll(async () => {
  t = await startTestAgent('[devices.dev1]\ndriver = "line-test"\nsimulated = true\n', { drivers: [lineDriver] });
});
afterAll(async () => {
  await t.stop();
});

describe('action names from the client are looked up as own names only (finding 7)', () => {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'device.action "%s" is ACTION_NOT_FOUND, not an internal error',
    async (action) => {
      const c = await t.connect();
      const r = await c.request('device.action', { device: 'dev1', action, params: {} });
      expect(r.error?.code).toBe(ERROR_CODES.ACTION_NOT_FOUND);
      expect(r.error?.message).toContain(`no action "${action}"`);
    },
  );
});
