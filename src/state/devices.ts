import type { Cause, DeviceKind, DeviceStatus, DeviceStatusInfo } from '../host/contract.js';
import { isoNow, realClock, type Clock } from '../util/clock.js';
import type { Bus, RoomEvents } from './bus.js';

export interface StateValue {
  value: unknown;
  changed_at: string;
  cause: Cause;
}

export interface DeviceRecord {
  id: string;
  name: string;
  driver: string;
  kind: DeviceKind;
  simulated: boolean;
  status: DeviceStatusInfo;
  state: Record<string, StateValue>;
}

/** Payload on topic `devices`: a status change, or state values that changed. */
export type DeviceChange = { device: string; status: DeviceStatusInfo } | { device: string; state: Record<string, StateValue> };

/**
 * The room's device state: per-device values with when and why they changed.
 * Every change goes out once on the bus (topic `devices`).
 */
export class DeviceStateStore {
  private readonly devices = new Map<string, DeviceRecord>();
  constructor(
    private readonly bus: Bus,
    private readonly events: RoomEvents,
    private readonly clock: Clock = realClock,
  ) {}

  add(d: Omit<DeviceRecord, 'status' | 'state'>): DeviceRecord {
    const rec: DeviceRecord = {
      ...d,
      status: {
        status: 'connecting',
        message: 'starting',
        since: this.iso(),
        restarts: 0,
        last_error: null,
      },
      state: {},
    };
    this.devices.set(d.id, rec);
    return rec;
  }

  /**
   * Forgets a device removed from the config. Its last word goes out after it is gone (status
   * offline with `message`), so a listener that looks it up learns it was removed, not that it failed.
   */
  remove(id: string, message: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    this.devices.delete(id);
    const at = this.iso();
    this.bus.publish('devices', {
      device: id,
      status: { ...d.status, status: 'offline', message, since: at },
    } satisfies DeviceChange);
    if (d.status.status !== 'offline') {
      this.events.emit({
        type: 'device.status',
        at,
        data: { device: id, status: 'offline', previous: d.status.status, message },
      });
    }
  }

  get(id: string): DeviceRecord | undefined {
    return this.devices.get(id);
  }
  list(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  setStatus(id: string, status: DeviceStatus, message: string, opts: { restart?: boolean } = {}): void {
    const d = this.devices.get(id);
    if (!d) return;
    const prev = d.status;
    const changed = prev.status !== status;
    if (!changed && prev.message === message && !opts.restart) return;
    const isError = status === 'error' || status === 'offline' || status === 'auth_failure' || status === 'bad_config';
    d.status = {
      status,
      message,
      since: changed ? this.iso() : prev.since,
      restarts: prev.restarts + (opts.restart ? 1 : 0),
      last_error: isError && message ? { message, at: this.iso() } : prev.last_error,
    };
    this.bus.publish('devices', { device: id, status: d.status } satisfies DeviceChange);
    if (changed) {
      this.events.emit({
        type: 'device.status',
        at: this.iso(),
        data: { device: id, status, previous: prev.status, message },
      });
    }
  }

  reportError(id: string, message: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    d.status = { ...d.status, last_error: { message, at: this.iso() } };
    this.bus.publish('devices', { device: id, status: d.status } satisfies DeviceChange);
  }

  /** Merges reported values; unchanged values keep their changed_at and cause. */
  setState(id: string, patch: Record<string, unknown>, cause: Cause): void {
    const d = this.devices.get(id);
    if (!d) return;
    // Runs for every ACK and Completion of a camera: no entries arrays, and nothing built when nothing changed.
    let changed: Record<string, StateValue> | null = null;
    let at = '';
    for (const k in patch) {
      if (!Object.hasOwn(patch, k)) continue;
      const v = patch[k];
      const prev = d.state[k];
      if (prev && sameValue(prev.value, v)) continue;
      if (changed === null) {
        changed = {};
        at = this.iso();
      }
      const entry = { value: v, changed_at: at, cause };
      d.state[k] = entry;
      changed[k] = entry;
    }
    if (changed !== null) this.bus.publish('devices', { device: id, state: changed } satisfies DeviceChange);
  }

  /** Plain values without metadata (for conditions and summaries). */
  values(id: string): Record<string, unknown> {
    const d = this.devices.get(id);
    if (!d) return {};
    return Object.fromEntries(Object.entries(d.state).map(([k, v]) => [k, v.value]));
  }

  private iso(): string {
    return isoNow(this.clock);
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
