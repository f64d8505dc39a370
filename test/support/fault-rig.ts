// One device under the real DeviceHost, with the real state store, audit log
// (SQLite), and the alerts feature, all on a fake clock; the device's socket is
// real. `pump` moves the fake clock in small steps while real I/O happens.
import pino from 'pino';
import type { AgentContext } from '../../src/app-context.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import type { DriverDefinition } from '../../src/host/contract.js';
import { DeviceHost } from '../../src/host/host.js';
import { DriverRegistry } from '../../src/host/registry.js';
import { Bus, RoomEvents } from '../../src/state/bus.js';
import { type DeviceChange, DeviceStateStore } from '../../src/state/devices.js';
import { AuditLog } from '../../src/store/audit.js';
import { Store } from '../../src/store/db.js';
import { AlertsFeature } from '../../src/sync/alerts.js';
import type { AlertMessage } from '../../src/sync/topics.js';
import { type Clock, FakeClock } from '../../src/util/clock.js';

export const DEVICE = 'dut';
/** The alerts' device_offline debounce used by the matrix (s). */
export const DEBOUNCE_S = 60;

export interface Rig {
  /** The fake clock (`realClock` when the rig was started with it: then `pump` / `advance` are not for use). */
  clock: FakeClock;
  host: DeviceHost;
  /** Every status the device went through, consecutive repeats collapsed. */
  statuses: string[];
  /** `performance.now()` at each entry of `statuses` (benchmarks time transitions from the event, not by polling). */
  statusTimes: number[];
  messages: string[];
  alerts: AlertMessage[];
  readonly status: string | undefined;
  readonly message: string;
  /** The device's published state values. */
  state(): Record<string, unknown>;
  /** Advances the fake clock in `stepMs` steps, letting real I/O run between steps, until `pred` holds (throws after `budgetMs` of fake time). */
  pump(pred: () => boolean, what: string, budgetMs?: number, stepMs?: number): Promise<void>;
  /** Advances the fake clock by `ms` in steps, letting real I/O run between steps. */
  advance(ms: number, stepMs?: number): Promise<void>;
  invoke(action: string, params?: Record<string, unknown>): Promise<unknown>;
  stop(): Promise<void>;
}

/** Real time for loopback I/O to happen between fake-clock steps. */
export const ioTurn = () => new Promise<void>((r) => setTimeout(r, 1));

/**
 * `pace(stepMs)`: awaited before every fake-clock step, so real I/O under way is not outrun (the peer's
 * `pace`). `o.clock`: a real clock for benchmarks; `o.debounceS`: the alert debounce (default DEBOUNCE_S).
 */
export async function startRig(
  driver: DriverDefinition,
  config: Record<string, unknown>,
  pace: (stepMs: number) => Promise<void> = async () => undefined,
  o: { clock?: Clock; debounceS?: number } = {},
): Promise<Rig> {
  const clock = (o.clock ?? new FakeClock()) as FakeClock;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const bus = new Bus();
  const events = new RoomEvents();
  const devices = new DeviceStateStore(bus, events, clock);
  const store = new Store(':memory:');
  const audit = new AuditLog(store);
  const host = new DeviceHost({
    devices: { [DEVICE]: { driver: driver.name, ...config } as DeviceConfig },
    registry: new DriverRegistry([driver]),
    state: devices,
    events,
    audit,
    logger,
    dataDir: '/nonexistent',
    clock,
  });
  const statuses: string[] = [];
  const statusTimes: number[] = [];
  const messages: string[] = [];
  bus.subscribe((m) => {
    if (m.topic !== 'devices') return;
    const c = m.data as DeviceChange;
    if (!('status' in c)) return;
    messages.push(`${c.status.status}: ${c.status.message}`);
    if (statuses.at(-1) !== c.status.status) {
      statuses.push(c.status.status);
      statusTimes.push(performance.now());
    }
  });
  const ctx = {
    logger,
    clock,
    bus,
    events,
    devices,
    config: { agent: { room_id: 'matrix' }, devices: {} },
    rpc: { topic: () => undefined, method: () => undefined },
  } as unknown as AgentContext;
  const feature = new AlertsFeature(ctx, {
    device_offline_after_s: o.debounceS ?? DEBOUNCE_S,
    meeting_late_after_min: 5,
    disk_min_free_mb: 0,
    check_interval_s: 3600,
  } as never);
  const alerts: AlertMessage[] = [];
  bus.subscribe((m) => m.topic === 'alerts' && alerts.push(m.data as AlertMessage));
  await feature.start();
  await host.start();

  const advance = async (ms: number, stepMs = 50) => {
    for (let t = 0; t < ms; t += stepMs) {
      await pace(stepMs);
      clock.advance(Math.min(stepMs, ms - t));
      await ioTurn();
    }
  };
  const rig: Rig = {
    clock,
    host,
    statuses,
    statusTimes,
    messages,
    alerts,
    get status() {
      return devices.get(DEVICE)?.status.status;
    },
    get message() {
      return devices.get(DEVICE)?.status.message ?? '';
    },
    state() {
      const st = devices.get(DEVICE)?.state ?? {};
      return Object.fromEntries(Object.entries(st).map(([k, v]) => [k, (v as { value: unknown }).value]));
    },
    async pump(pred, what, budgetMs = 120_000, stepMs = 50) {
      for (let t = 0; ; t += stepMs) {
        // Several real turns per step: a handshake is a few round trips.
        for (let i = 0; i < 3 && !pred(); i++) await ioTurn();
        if (pred()) return;
        if (t >= budgetMs)
          throw new Error(`no ${what} within ${budgetMs} ms (fake); statuses ${statuses.join(' → ')}; last: ${messages.at(-1)}`);
        await pace(stepMs);
        if (pred()) return;
        clock.advance(stepMs);
      }
    },
    advance,
    invoke: (action, params = {}) => host.invoke(DEVICE, action, params, { kind: 'api', name: 'matrix' }),
    async stop() {
      await host.stop();
      await feature.stop();
      store.db.close();
    },
  };
  return rig;
}
