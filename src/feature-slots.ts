// Feature modules as restartable slots. Each feature runs as a generation: the instance its
// factory made, with a context of its own that records what the feature reads of the config
// (sections, [agent] keys, devices), which other features it looked up while it was created
// and started, and what it registered (methods, topics, routes, bus and event listeners). A
// config reload rebuilds only the generations whose reads changed (or that hold a feature that
// changed), stops the old ones and starts the new ones; the others run on untouched.
import { RouteRecording, type RouteSlots } from './api/route-slots.js';
import type { MethodDef, TopicDef } from './api/rpc.js';
import type { AgentContext, Feature, FeatureFactory } from './app-context.js';
import type { LoadedConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { RoomEvent, TopicMessage } from './state/bus.js';
import { errorMessage } from './util/errors.js';

export type FeatureHealth = 'started' | 'starting' | 'failed' | 'stopped';

interface Generation {
  /** null: the factory said the feature is not configured. */
  feature: Feature | null;
  /** Config keys read: a section name, `agent.<key>`, `devices.<id>`, `devices.*` (the id list), `*` (everything). */
  reads: Set<string>;
  /** Features looked up while this one was created and started (it may hold on to them). */
  lookups: Set<string>;
  recordingLookups: boolean;
  /** Receives bus messages and events; true from its activation until it is retired. */
  live: boolean;
  subscriptions: Set<() => void>;
  methods: MethodDef[];
  topics: TopicDef[];
  routes: RouteRecording;
  loaded: LoadedConfig;
  views: { config: Config; loaded: LoadedConfig } | null;
}

interface Slot {
  /** Owner key of its routes. */
  owner: string;
  factory: FeatureFactory;
  gen: Generation;
  health: FeatureHealth;
}

/** A reload's feature steps, built (new instances created, nothing started or stopped) before anything changes. */
export interface FeaturePlan {
  steps: { slot: Slot; next: Generation }[];
  /** Why the plan cannot be applied live (e.g. a feature's HTTP routes would change); empty when it can. */
  refusals: { feature: string; message: string }[];
}

export interface FeatureOutcome {
  restarted: string[];
  started: string[];
  stopped: string[];
  kept: string[];
  failed: { part: string; error: string }[];
}

export class FeatureSlots {
  private readonly slots: Slot[] = [];
  /** While a plan is built: the features it would run, by name (undefined = stopped). */
  private planned: Map<string, Feature | undefined> | null = null;

  constructor(
    private readonly base: AgentContext,
    private readonly routes: RouteSlots,
    private readonly logger: AgentContext['logger'],
  ) {}

  /** Boot: creates every feature (registering straight away); a factory that throws stops the boot. */
  createAll(factories: readonly FeatureFactory[], loaded: LoadedConfig): void {
    factories.forEach((factory, i) => {
      const slot: Slot = { owner: `feature${i}`, factory, gen: this.newGeneration(loaded), health: 'stopped' };
      slot.gen.live = true;
      slot.gen.feature = factory(this.context(slot, slot.gen, true));
      this.slots.push(slot);
    });
  }

  /** The running features, in start order. */
  list(): Feature[] {
    return this.slots.flatMap((s) => (s.gen.feature ? [s.gen.feature] : []));
  }

  /** The factories that said "not configured" (their function names), e.g. for a docs build that wants them all on. */
  offFactories(): string[] {
    return this.slots.flatMap((s) => (s.gen.feature ? [] : [s.factory.name || s.owner]));
  }

  lookup(name: string): Feature | undefined {
    if (this.planned?.has(name)) return this.planned.get(name);
    return this.list().find((f) => f.name === name);
  }

  health(): Record<string, FeatureHealth> {
    return Object.fromEntries(this.slots.flatMap((s) => (s.gen.feature ? [[s.gen.feature.name, s.health]] : [])));
  }

  /** Boot: starts the features in order; the first failure is thrown (the agent does not start half-way). */
  async startAll(beforeEach: () => void): Promise<void> {
    for (const slot of this.slots) {
      if (!slot.gen.feature) continue;
      beforeEach();
      await this.startSlot(slot, true);
    }
  }

  async stopAll(): Promise<void> {
    for (const slot of [...this.slots].reverse()) await this.stopSlot(slot);
  }

  /**
   * Builds the new generations a config change needs: a feature whose reads changed, or that
   * holds a feature being replaced, is created again (not started) with the new config.
   */
  async plan(next: LoadedConfig, changed: ReadonlySet<string>): Promise<FeaturePlan> {
    const steps = new Map<Slot, Generation>();
    const replaced = new Set<string>();
    this.planned = new Map();
    const refusals: FeaturePlan['refusals'] = [];
    try {
      for (let grew = true; grew; ) {
        grew = false;
        for (const slot of this.slots) {
          if (steps.has(slot)) continue;
          const g = slot.gen;
          if (!readsChanged(g.reads, changed) && ![...g.lookups].some((n) => replaced.has(n))) continue;
          const gen = this.newGeneration(next);
          steps.set(slot, gen);
          grew = true;
          const name = g.feature?.name ?? slot.owner;
          try {
            gen.feature = slot.factory(this.context(slot, gen, false));
          } catch (e) {
            refusals.push({ feature: name, message: `cannot be set up with the new config: ${errorMessage(e)}` });
          }
          for (const n of [g.feature?.name, gen.feature?.name]) {
            if (!n) continue;
            replaced.add(n);
            this.planned.set(n, gen.feature?.name === n ? gen.feature : undefined);
          }
        }
      }
    } finally {
      this.planned = null;
    }
    for (const [slot, gen] of steps) {
      if (!gen.feature || (await this.routes.fits(slot.owner, gen.routes))) continue;
      refusals.push({
        feature: gen.feature.name,
        message: this.routes.has(slot.owner)
          ? 'its HTTP routes would change (a path or a route option such as a body limit): restart the agent to apply this'
          : 'it serves HTTP routes and was not running when the agent started: restart the agent to turn it on',
      });
    }
    return { steps: [...steps].map(([slot, next]) => ({ slot, next })), refusals };
  }

  /** Drops a plan that will not be applied: its instances never ran, their listeners go. */
  discard(plan: FeaturePlan): void {
    for (const { next } of plan.steps) this.retire(next);
  }

  /** Stops the features a plan replaces or removes, last first. */
  async stopPlanned(plan: FeaturePlan): Promise<void> {
    for (const { slot, next } of [...plan.steps].reverse()) {
      const old = slot.gen;
      if (!old.feature) continue;
      await this.stopSlot(slot);
      // Its listeners stay until its successor listens (startPlanned): a feature may keep one after
      // stop on purpose (sync's outbox takes the events devices emit while they restart).
      for (const m of old.methods) this.base.rpc.removeMethod(m.name);
      for (const t of old.topics) this.base.rpc.removeTopic(t.name);
      if (!next.feature) this.routes.turnOff(slot.owner, `${old.feature.name} is off in the running config`);
    }
  }

  /** Starts the plan's new features in order, and moves the untouched ones onto the new config. */
  async startPlanned(plan: FeaturePlan, next: LoadedConfig): Promise<FeatureOutcome> {
    const out: FeatureOutcome = { restarted: [], started: [], stopped: [], kept: [], failed: [] };
    const bySlot = new Map(plan.steps.map((s) => [s.slot, s.next]));
    for (const slot of this.slots) {
      const gen = bySlot.get(slot);
      const before = slot.gen.feature;
      if (!gen) {
        slot.gen.loaded = next;
        slot.gen.views = null;
        if (before) out.kept.push(before.name);
        continue;
      }
      const previous = slot.gen;
      slot.gen = gen;
      if (!gen.feature) {
        this.retire(previous);
        if (before) out.stopped.push(before.name);
        continue;
      }
      (before ? out.restarted : out.started).push(gen.feature.name);
      try {
        for (const m of gen.methods) this.base.rpc.method(m);
        for (const t of gen.topics) this.base.rpc.topic(t);
      } catch (e) {
        this.retire(previous);
        slot.health = 'failed';
        out.failed.push({ part: `feature:${gen.feature.name}`, error: errorMessage(e) });
        continue;
      }
      this.routes.swap(slot.owner, gen.routes);
      this.retire(previous);
      gen.live = true;
      if (before && before.name === gen.feature.name) {
        try {
          gen.feature.takeOver?.(before);
        } catch (e) {
          this.logger.warn({ feature: gen.feature.name, err: errorMessage(e) }, 'feature could not take over its predecessor');
        }
      }
      const error = await this.startSlot(slot, false);
      if (error) out.failed.push({ part: `feature:${gen.feature.name}`, error });
    }
    return out;
  }

  private async startSlot(slot: Slot, rethrow: boolean): Promise<string | null> {
    const f = slot.gen.feature;
    if (!f) return null;
    slot.health = 'starting';
    try {
      await f.start();
      slot.health = 'started';
      return null;
    } catch (e) {
      slot.health = 'failed';
      this.logger.error({ feature: f.name, err: errorMessage(e) }, 'feature failed to start');
      if (rethrow) throw e;
      return errorMessage(e);
    } finally {
      slot.gen.recordingLookups = false;
    }
  }

  private async stopSlot(slot: Slot): Promise<void> {
    const f = slot.gen.feature;
    if (!f || slot.health === 'stopped') return;
    await f.stop().catch((e) => this.logger.warn({ feature: f.name, err: errorMessage(e) }, 'feature stop failed'));
    slot.health = 'stopped';
  }

  private retire(gen: Generation): void {
    gen.live = false;
    for (const off of [...gen.subscriptions]) off();
  }

  private newGeneration(loaded: LoadedConfig): Generation {
    return {
      feature: null,
      reads: new Set(),
      lookups: new Set(),
      recordingLookups: true,
      live: false,
      subscriptions: new Set(),
      methods: [],
      topics: [],
      routes: new RouteRecording(),
      loaded,
      views: null,
    };
  }

  /** The context one generation sees: the agent's, with recording config, registrations and listeners. */
  private context(slot: Slot, gen: Generation, live: boolean): AgentContext {
    const { base } = this;
    const views = () => {
      if (!gen.views) {
        const config = recordingConfig(gen.loaded.config, gen.reads);
        gen.views = { config, loaded: { ...gen.loaded, config } };
      }
      return gen.views;
    };
    const track = (off: () => void) => {
      const once = () => {
        gen.subscriptions.delete(once);
        off();
      };
      gen.subscriptions.add(once);
      return once;
    };
    const rpc = forward(base.rpc, {
      method: (def: MethodDef) => {
        gen.methods.push(def);
        if (gen.live) base.rpc.method(def);
      },
      topic: (def: TopicDef) => {
        gen.topics.push(def);
        if (gen.live) base.rpc.topic(def);
      },
    });
    const bus = forward(base.bus, {
      subscribe: (fn: (m: TopicMessage) => void) => track(base.bus.subscribe((m) => gen.live && fn(m))),
    });
    const events = forward(base.events, {
      on: (fn: (e: RoomEvent) => void) => track(base.events.on((e) => gen.live && fn(e))),
    });
    // What a feature reads of the devices while it is created and started, it may keep (calendar
    // takes the calendar devices as its sources): the same dependency as reading their config.
    // Later reads are live look-ups and need no restart.
    const noted =
      <A extends unknown[], R>(key: (...a: A) => string, read: (...a: A) => R) =>
      (...a: A): R => {
        if (gen.recordingLookups) gen.reads.add(key(...a));
        return read(...a);
      };
    const devices = forward(base.devices, {
      list: noted(
        () => 'devices.*',
        () => base.devices.list(),
      ),
      get: noted(
        (id: string) => `devices.${id}`,
        (id: string) => base.devices.get(id),
      ),
    });
    const host = forward(base.host, {
      ids: noted(
        () => 'devices.*',
        () => base.host.ids(),
      ),
      driverOf: noted(
        (id: string) => `devices.${id}.driver`,
        (id: string) => base.host.driverOf(id),
      ),
      actions: noted(
        (id: string) => `devices.${id}.driver`,
        (id: string) => base.host.actions(id),
      ),
    });
    const http = this.routes.facade(slot.owner, gen.routes, live);
    return {
      ...base,
      devices,
      host,
      get config() {
        return views().config;
      },
      get loaded() {
        return views().loaded;
      },
      rpc,
      bus,
      events,
      http,
      feature: <T extends Feature>(name: string) => {
        if (gen.recordingLookups) gen.lookups.add(name);
        return this.lookup(name) as T | undefined;
      },
    };
  }
}

/** `target` with some methods replaced; everything else reaches the target itself. */
function forward<T extends object>(target: T, replaced: Record<string, unknown>): T {
  // Bound once per method: features call ctx.bus.publish / ctx.events.emit on hot paths.
  const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'string' && Object.hasOwn(replaced, prop)) return replaced[prop];
      const v = Reflect.get(t, prop, receiver);
      if (typeof v !== 'function') return v;
      const b = bound.get(prop);
      if (b?.fn === v) return b.bound;
      const fresh = v.bind(t);
      bound.set(prop, { fn: v, bound: fresh });
      return fresh;
    },
  });
}

function readsChanged(reads: ReadonlySet<string>, changed: ReadonlySet<string>): boolean {
  if (changed.size === 0) return false;
  if (reads.has('*')) return true;
  for (const c of changed) if (reads.has(c)) return true;
  return false;
}

/** How deep reads are told apart (matches changedKeys in src/config/reload.ts). */
const READ_DEPTH: Record<string, number> = { agent: 1, devices: 2 };

/**
 * The config as a feature sees it: reading a section records its name; reading an `[agent]` key
 * records `agent.<key>`, a device's key `devices.<id>.<key>`, asking for a device that is not there
 * `devices.<id>`; listing the keys of a table records `<path>.*`.
 */
function recordingConfig(config: Config, reads: Set<string>): Config {
  const views = new Map<string, unknown>();
  const isTable = (v: unknown): v is object => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
  const view = (path: string, table: object, levels: number): object => {
    let v = views.get(path) as object | undefined;
    if (v) return v;
    v = new Proxy(table, {
      get(t, k, r) {
        const value = Reflect.get(t, k, r);
        if (typeof k !== 'string') return value;
        const here = path ? `${path}.${k}` : k;
        const below = path ? levels - 1 : (READ_DEPTH[k] ?? 0);
        if (below > 0 && isTable(value)) return view(here, value, below);
        reads.add(here);
        return value;
      },
      has(t, k) {
        if (typeof k === 'string') reads.add(path ? `${path}.${k}` : k);
        return Reflect.has(t, k);
      },
      ownKeys(t) {
        reads.add(path ? `${path}.*` : '*');
        return Reflect.ownKeys(t);
      },
    });
    views.set(path, v);
    return v;
  };
  return view('', config, 0) as Config;
}
