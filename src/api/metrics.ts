import { Counter, Gauge, type Histogram, Registry } from 'prom-client';
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
}

/**
 * Prometheus metrics: device status, action count and latency per driver, WS
 * clients, and the fleet metrics the rules in ops/prometheus/ read (build and
 * config info, outbox backlog, free disk, recorder state).
 */
export class AgentMetrics implements ActionMetrics {
  readonly registry = new Registry();
  /** Every device action passes `observe`: tallied here, handed to prom-client at scrape time. */
  private readonly tallies = new ActionTallies();
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
    const tallies = this.tallies;
    new Counter({
      name: 'room_agent_actions_total',
      help: 'Device actions run, by driver, action and outcome.',
      labelNames: ['driver', 'action', 'ok'],
      registers: [this.registry],
      collect() {
        // prom-client hashes the labels of each inc: once per series and scrape, not per action.
        for (const c of tallies.counts) {
          if (c.n > c.seen) this.inc(c.labels, c.n - c.seen);
          c.seen = c.n;
        }
      },
    });
    this.registry.registerMetric(new LatencyHistogram(tallies) as unknown as Histogram);
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
  }
  observe(driver: string, action: string, ok: boolean, seconds: number): void {
    this.tallies.add(driver, action, ok, seconds);
  }
}

/** `le` of room_agent_action_seconds (seconds). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface DriverTally {
  driver: string;
  actions: Map<string, ActionTally>;
  /** Actions per latency bucket (not cumulative); the last slot is over the largest bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
}
interface ActionTally {
  ok: CountTally | null;
  failed: CountTally | null;
}
/** One series of room_agent_actions_total. */
interface CountTally {
  labels: { driver: string; action: string; ok: 'true' | 'false' };
  n: number;
  /** What the last scrape handed to the prom-client counter. */
  seen: number;
}

/**
 * Action counts and latencies per driver and action, kept as plain numbers: prom-client
 * hashes the labels of every `inc`/`observe` (its labelled children too), a string built
 * and looked up per action. Series are created on first use and listed in that order, as
 * prom-client does.
 */
class ActionTallies {
  readonly drivers = new Map<string, DriverTally>();
  /** Every counter series, in the order they were first counted. */
  readonly counts: CountTally[] = [];
  add(driver: string, action: string, ok: boolean, seconds: number): void {
    let d = this.drivers.get(driver);
    if (d === undefined) {
      d = { driver, actions: new Map(), buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      this.drivers.set(driver, d);
    }
    let a = d.actions.get(action);
    if (a === undefined) {
      a = { ok: null, failed: null };
      d.actions.set(action, a);
    }
    let c = ok ? a.ok : a.failed;
    if (c === null) {
      c = { labels: { driver, action, ok: ok ? 'true' : 'false' }, n: 0, seen: 0 };
      if (ok) a.ok = c;
      else a.failed = c;
      this.counts.push(c);
    }
    c.n++;
    if (!Number.isFinite(seconds)) return; // counted, not timed (prom-client would throw)
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) b++;
    d.buckets[b]++;
    d.sum += seconds;
    d.count++;
  }
  clear(): void {
    this.drivers.clear();
    this.counts.length = 0;
  }
}

/**
 * room_agent_action_seconds for prom-client's Registry (which formats it): the values of a
 * prom-client Histogram with labelNames ['driver'] and LATENCY_BUCKETS, read from the tallies.
 */
class LatencyHistogram {
  readonly name = 'room_agent_action_seconds';
  readonly help = 'Device action latency by driver (from API call to device confirmation).';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(private readonly tallies: ActionTallies) {}
  async getForPromString() {
    const values: {
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
    }[] = [];
    const bucket = `${this.name}_bucket`;
    for (const d of this.tallies.drivers.values()) {
      const sharedLabels = { driver: d.driver };
      let acc = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        acc += d.buckets[i];
        values.push({ labels: { le: LATENCY_BUCKETS[i] }, sharedLabels, value: acc, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: d.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels, value: d.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: d.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
  /** As prom-client's: the labels of each value in one object (JSON form). */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } })),
    };
  }
  /** Registry.resetMetrics(): forget every series. */
  reset(): void {
    this.tallies.clear();
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
