// DeviceHost.invoke validates an action's params and gives them their defaults. Without
// `ownParams` (a scenario's params, used run after run) that happens in a copy: the caller's
// object is left as it was and can be invoked again. With `ownParams` (device.action's request,
// parsed for this call: src/api/core-methods.ts) it happens in place.
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { defineAction } from '../src/host/contract.js';
import { startOneDeviceHost } from './support/one-device-host.js';

const Params = Type.Object({
  preset: Type.Integer(),
  speed: Type.Integer({ default: 5 }),
  options: Type.Object({ smooth: Type.Boolean({ default: true }) }, { default: {} }),
});

function testActions(received: unknown[]): Record<string, unknown> {
  return {
    recall: defineAction({
      description: 'answers with the params it was given',
      params: Params,
      async run(p) {
        received.push(structuredClone(p));
        return p;
      },
    }),
  };
}

/** The host with device "dev" on these actions (test/support/one-device-host.ts). */
const startHost = async (received: unknown[]) => (await startOneDeviceHost('invoke-params-test', testActions(received))).host;

const cause = { kind: 'scenario' as const, name: 'test' };
const withDefaults = { preset: 3, speed: 5, options: { smooth: true } };

describe('DeviceHost.invoke and the caller’s params', () => {
  it('without ownParams: defaults go into a copy; the caller’s object is unchanged and can be invoked again', async () => {
    const received: unknown[] = [];
    const host = await startHost(received);
    const params = { preset: 3, options: {} };
    const before = structuredClone(params);
    await expect(host.invoke('dev', 'recall', params, cause)).resolves.toEqual(withDefaults);
    expect(params).toEqual(before);
    expect(params).not.toHaveProperty('speed');
    expect(params.options).not.toHaveProperty('smooth');
    // The same object again, and frozen (nothing may write to it).
    Object.freeze(params);
    Object.freeze(params.options);
    await expect(host.invoke('dev', 'recall', params, cause)).resolves.toEqual(withDefaults);
    expect(params).toEqual(before);
    expect(received).toEqual([withDefaults, withDefaults]);
  });

  it('with ownParams: the params handed over get their defaults in place', async () => {
    const received: unknown[] = [];
    const host = await startHost(received);
    const params = { preset: 3, options: {} };
    await expect(host.invoke('dev', 'recall', params, cause, undefined, true)).resolves.toEqual(withDefaults);
    expect(params).toEqual(withDefaults);
  });
});
