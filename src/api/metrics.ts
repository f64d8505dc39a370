import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ActionMetrics } from '../host/host.js';
import type { DeviceStateStore } from '../state/devices.js';
import { DEVICE_STATUSES } from '../host/contract.js';

/** Prometheus metrics: device status, action count and latency per driver, WS clients. */
export class AgentMetrics implements ActionMetrics {
  readonly registry = new Registry();
  private readonly actions: Counter<'driver' | 'action' | 'ok'>;
  private readonly latency: Histogram<'driver'>;
  constructor(devices: DeviceStateStore, wsClients: () => number) {
    this.actions = new Counter({
      name: 'room_agent_actions_total',
      help: 'Device actions run, by driver, action and outcome.',
      labelNames: ['driver', 'action', 'ok'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'room_agent_action_seconds',
      help: 'Device action latency by driver (from API call to device confirmation).',
      labelNames: ['driver'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    new Gauge({
      name: 'room_agent_device_status',
      help: '1 for the status each device is in.',
      labelNames: ['device', 'driver', 'status'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of devices.list()) {
          for (const s of DEVICE_STATUSES) this.set({ device: d.id, driver: d.driver, status: s }, d.status.status === s ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'room_agent_device_restarts',
      help: 'Times each device link was re-established or its driver restarted.',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        for (const d of devices.list()) this.set({ device: d.id }, d.status.restarts);
      },
    });
    new Gauge({
      name: 'room_agent_ws_clients',
      help: 'Connected WebSocket clients.',
      registers: [this.registry],
      collect() {
        this.set(wsClients());
      },
    });
  }
  observe(driver: string, action: string, ok: boolean, seconds: number): void {
    this.actions.inc({ driver, action, ok: ok ? 'true' : 'false' });
    this.latency.observe({ driver }, seconds);
  }
}
