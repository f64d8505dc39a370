// Checks the fault-matrix test files share (kept out of fault-rig.ts, which
// the benchmarks import without vitest).
import { expect } from 'vitest';
import { AgentError } from '../../src/util/errors.js';
import type { Rig } from './fault-rig.js';

/** The device_offline alert has been raised. */
export const offlineAlertRaised = (rig: Rig) => rig.alerts.some((a) => a.kind === 'device_offline' && a.state === 'raised');

/** `action` is refused with DEVICE_OFFLINE. */
export async function expectRefusedOffline(rig: Rig, action: string, params?: Record<string, unknown>): Promise<void> {
  const err = await rig.invoke(action, params).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  expect((err as AgentError).code).toBe('DEVICE_OFFLINE');
}
