// A DeviceHost with one device, "dev", whose driver offers the given actions: a real
// SQLite audit log in a temporary dir, silent logs, the real clock. For tests of what
// the host does around an action (its context, timeout, params, audit row). Stopped
// and removed after each test of the file that calls it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterEach } from 'vitest';
import type { DeviceConfig } from '../../src/config/schema.js';
import type { DriverContext, DriverDefinition } from '../../src/host/contract.js';
import { DeviceHost } from '../../src/host/host.js';
import { DriverRegistry } from '../../src/host/registry.js';
import { Bus, RoomEvents } from '../../src/state/bus.js';
import { DeviceStateStore } from '../../src/state/devices.js';
import { AuditLog } from '../../src/store/audit.js';
import { Store } from '../../src/store/db.js';

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

/** A driver of kind "other" with these actions; its device is online once started. */
function driverWith(name: string, actions: Record<string, unknown>): DriverDefinition {
  return {
    name,
    kind: 'other',
    description: `test driver ${name}`,
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

/** Starts the host with device "dev" on a driver named `name` offering `actions`. */
export async function startOneDeviceHost(
  name: string,
  actions: Record<string, unknown>,
): Promise<{ host: DeviceHost; audit: AuditLog }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const store = new Store(path.join(dir, 'agent.db'));
  const audit = new AuditLog(store);
  const events = new RoomEvents();
  const driver = driverWith(name, actions);
  const host = new DeviceHost({
    devices: { dev: { driver: driver.name } as DeviceConfig },
    registry: new DriverRegistry([driver]),
    state: new DeviceStateStore(new Bus(), events),
    events,
    audit,
    logger: pino({ level: 'silent' }),
    dataDir: dir,
  });
  await host.start();
  running.push(async () => {
    await host.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { host, audit };
}
