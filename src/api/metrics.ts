import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ActionMetrics } from '../host/host.js';
import type { DeviceStateStore } from '../state/devices.js';
import { DEVICE_STATUSES } from '../host/contract.js';

/** What the agent runs: package, runtime and config version (docs/fleet.md). */
export interface BuildInfo {
  version: string;
  node: string;
  config_version: string;
}

/**
 * Readings of features that may be off: a feature that does not run gives no
 * source, and its metrics are then absent rather than zero.
 */
export interface MetricSources {
  /** Sync outbox backlog, events ever dropped, MQTT link state (the sync feature). */
  outbox?: () => { rows: number; dropped: number; connected: boolean };
  /** Free space on the watched filesystem and the alert bound (the alerts feature); null when statfs fails. */
  disk?: () => { path: string; free_bytes: number; min_free_bytes: number } | null;
  /** Recorders that follow a meeting that is running now (they should be recording). */
  recorderMeetings?: () => string[];
  /** Audit rows the retention deleted since the agent started (src/store/audit-retention.ts; always running). */
  auditPrunedRows?: () => number;
}

/**
 * Prometheus metrics: device status, action count and latency per driver, WS
 * clients, and the fleet metrics the rules in ops/prometheus/ read (build and
 * config info, outbox backlog, free disk, recorder state).
 */
export class AgentMetrics implements ActionMetrics {
  readonly registry = new Registry();
  /** Every device action passes `observe`: counted here, handed to prom-client's counter at scrape time. */
  private readonly counts = new ActionCounts();
  private readonly latency: Histogram<'driver'>;
  private recorderMeetings: () => string[] = () => [];
  /** Automatic config rollbacks (the health gate of src/config/versions/). */
  readonly configRollbacks: Counter;
  constructor(
    devices: DeviceStateStore,
    wsClients: () => number,
    /** Read at each scrape: the config version changes with config.apply. */
    build: BuildInfo | (() => BuildInfo),
    /** Devices with `enabled = false` in the config: shown offline, not alerted on. */
    disabledDevices: ReadonlySet<string> = new Set(),
  ) {
    const counts = this.counts;
    new Counter({
      name: 'room_agent_actions_total',
      help: 'Device actions run, by driver, action and outcome.',
      labelNames: ['driver', 'action', 'ok'],
      registers: [this.registry],
      collect() {
        // prom-client hashes the labels of each inc: once per series and scrape, not per action.
        for (const c of counts.series) {
          if (c.n > c.seen) this.inc(c.labels, c.n - c.seen);
          c.seen = c.n;
        }
      },
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
      name: 'room_agent_device_enabled',
      help: '0 for a device disabled in the config (enabled = false; it shows offline), else 1.',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of devices.list()) this.set({ device: d.id }, disabledDevices.has(d.id) ? 0 : 1);
      },
    });
    new Gauge({
      name: 'room_agent_device_restarts',
      help: 'Times each device link was re-established or its driver restarted.',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        this.reset(); // a device a reload removed leaves the series
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
    registerInfo(this.registry, typeof build === 'function' ? build : () => build);
    this.configRollbacks = new Counter({
      name: 'room_agent_config_rollbacks_total',
      help: 'Config versions the health gate rolled back by itself since the agent started (docs/config.md).',
      registers: [this.registry],
    });
    registerRecorders(this.registry, devices, () => this.recorderMeetings());
  }

  /** Registers the metrics of the features that run (called once they are created). */
  attachFeatures(sources: MetricSources): void {
    if (sources.outbox) registerOutbox(this.registry, sources.outbox);
    if (sources.disk) registerDisk(this.registry, sources.disk);
    if (sources.recorderMeetings) this.recorderMeetings = sources.recorderMeetings;
    if (sources.auditPrunedRows) registerAuditRetention(this.registry, sources.auditPrunedRows);
  }
  observe(driver: string, action: string, ok: boolean, seconds: number): void {
    this.counts.add(driver, action, ok);
    // prom-client throws on NaN. The labels object of a driver is made once: prom-client only
    // reads it (and keeps the first one of each series).
    if (Number.isFinite(seconds)) this.latency.observe(this.driverLabels(driver), seconds);
  }

  private readonly latencyLabels = new Map<string, { driver: string }>();
  private driverLabels(driver: string): { driver: string } {
    let labels = this.latencyLabels.get(driver);
    if (labels === undefined) {
      labels = { driver };
      this.latencyLabels.set(driver, labels);
    }
    return labels;
  }
}

/** One series of room_agent_actions_total. */
interface CountSeries {
  labels: { driver: string; action: string; ok: 'true' | 'false' };
  n: number;
  /** What the last scrape handed to the prom-client counter. */
  seen: number;
}

/**
 * Action counts per driver, action and outcome, kept as plain numbers: prom-client hashes
 * the three labels of every `inc` (its labelled children too), a string built and looked up
 * per action; here that happens once per series and scrape. Series are listed in the order
 * they were first counted, as prom-client does.
 */
class ActionCounts {
  private readonly byKey = new Map<string, Map<string, { ok: CountSeries | null; failed: CountSeries | null }>>();
  readonly series: CountSeries[] = [];
  add(driver: string, action: string, ok: boolean): void {
    let actions = this.byKey.get(driver);
    if (actions === undefined) {
      actions = new Map();
      this.byKey.set(driver, actions);
    }
    let a = actions.get(action);
    if (a === undefined) {
      a = { ok: null, failed: null };
      actions.set(action, a);
    }
    let c = ok ? a.ok : a.failed;
    if (c === null) {
      c = { labels: { driver, action, ok: ok ? 'true' : 'false' }, n: 0, seen: 0 };
      if (ok) a.ok = c;
      else a.failed = c;
      this.series.push(c);
    }
    c.n++;
  }
}

const RECORDER_DRIVER = 'recorder';

function registerInfo(registry: Registry, build: () => BuildInfo): void {
  const registers = [registry];
  const first = build();
  new Gauge({
    name: 'room_agent_build_info',
    help: 'Always 1; the labels say which package version and Node runtime this agent runs.',
    labelNames: ['version', 'node'],
    registers,
  }).set({ version: first.version, node: first.node }, 1);
  new Gauge({
    name: 'room_agent_config_info',
    help: 'Always 1; config_version is the hash of the config text the agent runs (sha256, 16 hex digits).',
    labelNames: ['config_version'],
    registers,
    collect() {
      this.reset();
      this.set({ config_version: build().config_version }, 1);
    },
  });
}

function registerOutbox(registry: Registry, outbox: NonNullable<MetricSources['outbox']>): void {
  const registers = [registry];
  {
    new Gauge({
      name: 'room_agent_outbox_rows',
      help: 'Room events in the sync outbox not yet acknowledged by the broker (absent without [mqtt]).',
      registers,
      collect() {
        this.set(outbox().rows);
      },
    });
    let droppedSeen = 0;
    new Counter({
      name: 'room_agent_outbox_dropped_total',
      help: 'Room events the outbox ever dropped (outbox_max_rows / outbox_max_age_h); the count survives restarts.',
      registers,
      collect() {
        const o = outbox();
        if (o.dropped > droppedSeen) {
          this.inc(o.dropped - droppedSeen);
          droppedSeen = o.dropped;
        }
      },
    });
    new Gauge({
      name: 'room_agent_mqtt_connected',
      help: '1 while the MQTT link to the broker is up.',
      registers,
      collect() {
        this.set(outbox().connected ? 1 : 0);
      },
    });
  }
}

function registerDisk(registry: Registry, disk: NonNullable<MetricSources['disk']>): void {
  const registers = [registry];
  new Gauge({
    name: 'room_agent_disk_free_bytes',
    help: 'Bytes free to the agent on the filesystem [alerts] disk_path watches, read at scrape time.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      const d = disk();
      if (d) this.set({ path: d.path }, d.free_bytes);
    },
  });
  new Gauge({
    name: 'room_agent_disk_min_free_bytes',
    help: 'The free space bound [alerts] disk_min_free_mb sets, in bytes.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      const d = disk();
      if (d) this.set({ path: d.path }, d.min_free_bytes);
    },
  });
}

function registerRecorders(registry: Registry, devices: DeviceStateStore, inMeeting: () => string[]): void {
  const registers = [registry];
  new Gauge({
    name: 'room_agent_recorder_recording',
    help: '1 while the recorder device records (its state `recording`), else 0.',
    labelNames: ['device'],
    registers,
    collect() {
      this.reset();
      for (const d of devices.list()) {
        if (d.driver === RECORDER_DRIVER) this.set({ device: d.id }, d.state?.recording?.value === true ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'room_agent_recorder_meeting_running',
    help: '1 while a meeting runs that this recorder follows (follow_meeting = true): it should be recording.',
    labelNames: ['device'],
    registers,
    collect() {
      this.reset();
      const now = new Set(inMeeting());
      for (const d of devices.list()) {
        if (d.driver === RECORDER_DRIVER) this.set({ device: d.id }, now.has(d.id) ? 1 : 0);
      }
    },
  });
}

function registerAuditRetention(registry: Registry, prunedRows: () => number): void {
  let seen = 0;
  new Counter({
    name: 'room_agent_audit_pruned_rows_total',
    help: 'Audit log rows deleted by retention ([agent] audit_max_age_days / audit_max_rows) since the agent started.',
    registers: [registry],
    collect() {
      const n = prunedRows();
      if (n > seen) {
        this.inc(n - seen);
        seen = n;
      }
    },
  });
}
