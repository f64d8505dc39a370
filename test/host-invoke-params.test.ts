// DeviceHost.invoke validates an action's params and gives them their defaults. Without
// `ownParams` (a scenario's params, used run after run) that happens in a copy: the caller's
// object is left as it was and can be invoked again. With `ownParams` (device.action's request,
// parsed for this call: src/api/core-methods.ts) it happens in place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../src/config/schema.js';
import { defineAction, type DriverContext, type DriverDefinition } from '../src/host/contract.js';
import { DeviceHost } from '../src/host/host.js';
import { DriverRegistry } from '../src/host/registry.js';
import { Bus, RoomEvents } from '../src/state/bus.js';
import { DeviceStateStore } from '../src/state/devices.js';
import { AuditLog } from '../src/store/audit.js';
import { Store } from '../src/store/db.js';

const Params = Type.Object({
  preset: Type.Integer(),
  speed: Type.Integer({ default: 5 }),
  options: Type.Object({ smooth: Type.Boolean({ default: true }) }, { default: {} }),
});

function testDriver(received: unknown[]): DriverDefinition {
  const actions = {
    recall: defineAction({
      description: 'answers with the params it was given',
      params: Params,
      async run(p) {
        received.push(structuredClone(p));
        return p;
      },
    }),
  };
  return {
    name: 'invoke-params-test',
    kind: 'other',
    description: 'an action whose params have defaults',
    config: Type.Object({}),
    create: (_config: unknown, ctx: DriverContext) => ({
      actions: actions as never,
      async start() {
        ctx.setStatus('online', 'test device');
      },
      async stop() {},
    }),
  } as unknown as DriverDefinition;
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

async function startHost(received: unknown[]): Promise<DeviceHost> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'invoke-params-'));
  const store = new Store(path.join(dir, 'agent.db'));
  const events = new RoomEvents();
  const driver = testDriver(received);
  const host = new DeviceHost({
    devices: { dev: { driver: driver.name } as DeviceConfig },
    registry: new DriverRegistry([driver]),
    state: new DeviceStateStore(new Bus(), events),
    events,
    audit: new AuditLog(store),
    logger: pino({ level: 'silent' }),
    dataDir: dir,
  });
  await host.start();
  cleanup = async () => {
    await host.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return host;
}

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
