import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { RpcClient } from '../api/rpc.js';
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import type { CalendarService } from '../calendar/service.js';
import { AgentError } from '../util/errors.js';
import { ScenarioEngine, type RunRecord } from './engine.js';
import { type DeviceCatalog, loadScenarios, shippedScenarioDir } from './load.js';
import type { Scenario, ScenariosSection } from './schema.js';
import { RunStore } from './store.js';
import { type MeetingSource, Triggers } from './triggers.js';

export { ScenariosSectionSchema } from './schema.js';

const DEFAULTS: ScenariosSection = { shipped: false, automation: true, catch_up_minutes: 15, runs_kept: 1000 };

/** The folders scenario files are read from, for this config. */
export function scenarioFolders(section: Partial<ScenariosSection> | undefined, configDir: string): string[] {
  const s = { ...DEFAULTS, ...section };
  return [...(s.shipped ? [shippedScenarioDir()] : []), ...(s.folder ? [path.resolve(configDir, s.folder)] : [])];
}

/** Scenario engine and triggers; WS methods scenarios.* and topic `scenarios`. */
export class ScenariosFeature implements Feature {
  readonly name = 'scenarios';
  private scenarios = new Map<string, Scenario>();
  private readonly engine: ScenarioEngine;
  private readonly runs: RunStore;
  private readonly triggers: Triggers;
  private automation: boolean;
  private readonly section: ScenariosSection;

  constructor(private readonly ctx: AgentContext) {
    this.section = { ...DEFAULTS, ...(ctx.config as { scenarios?: Partial<ScenariosSection> }).scenarios };
    this.runs = new RunStore(ctx.store, this.section.runs_kept);
    const stored = this.runs.setting('automation');
    this.automation = stored === undefined ? this.section.automation : stored === 'true';
    this.engine = new ScenarioEngine({
      clock: ctx.clock,
      scenarios: () => this.scenarios,
      ids: () => ctx.host.ids(),
      kind: (id) => ctx.host.driverOf(id)?.kind,
      invoke: (device, action, params, cause, signal) => ctx.host.invoke(device, action, params, cause, signal),
      value: (device, key) => (key === 'status' ? ctx.devices.get(device)?.status.status : ctx.devices.values(device)[key]),
      setDirector: async (mode, cause) => {
        const client: RpcClient = {
          principal: { name: `scenario ${cause.name}`, role: 'admin' },
          remote: 'scenario',
          topics: new Set(),
          transport: 'internal',
        };
        const r = await ctx.rpc.call('director.set', { mode }, client);
        if ('error' in r) throw new Error(`director: ${r.error.message}`);
      },
      onChange: (run) => this.changed(run),
    });
    this.triggers = new Triggers({
      clock: ctx.clock,
      logger: ctx.logger.child({ mod: 'scenarios' }),
      db: ctx.store.db,
      bus: ctx.bus,
      events: ctx.events,
      timezone: ctx.config.agent.timezone,
      catchUpMinutes: this.section.catch_up_minutes,
      scenarios: () => this.scenarios,
      holds: (c) => this.engine.holds(c),
      enabled: () => this.automation,
      fire: (name, trigger) => {
        const { run } = this.engine.start(name, trigger);
        ctx.logger.info({ scenario: name, trigger, run: run.id, outcome: run.outcome }, 'scenario triggered');
      },
      calendar: () => calendarSource(ctx),
    });
    this.registerApi();
  }

  async start(): Promise<void> {
    this.runs.closeInterrupted(new Date(this.ctx.clock.now()).toISOString());
    const catalog: DeviceCatalog = {
      ids: () => this.ctx.host.ids(),
      kind: (id) => this.ctx.host.driverOf(id)?.kind,
      actions: (id) => {
        const a = this.ctx.host.actions(id);
        return Object.keys(a).length ? a : null;
      },
    };
    const { scenarios, issues } = loadScenarios(scenarioFolders(this.section, path.dirname(this.ctx.loaded.file)), catalog);
    for (const i of issues)
      this.ctx.logger.error({ file: i.file, line: i.line, key: i.key }, `scenario not loaded: ${i.message}`);
    // A file with an error is left out; the others run (check-config reports the errors).
    const badFiles = new Set(issues.map((i) => i.file));
    this.scenarios = new Map([...scenarios].filter(([, s]) => !badFiles.has(s.file)));
    this.triggers.start();
  }

  async stop(): Promise<void> {
    this.triggers.stop();
    for (const r of this.engine.running()) this.engine.cancel({ run_id: r.id });
  }

  list(): Scenario[] {
    return [...this.scenarios.values()];
  }

  run(name: string, trigger: { kind: string; detail?: string }): { run: RunRecord; done: Promise<RunRecord> } {
    if (!this.scenarios.has(name))
      throw new AgentError('NOT_FOUND', `no scenario "${name}"; scenarios: ${[...this.scenarios.keys()].join(', ')}`);
    return this.engine.start(name, trigger);
  }

  private changed(run: RunRecord): void {
    this.runs.save(run);
    this.ctx.bus.publish('scenarios', { run });
    // Durable history for the central service: the start and the end of each run.
    const starting = run.outcome === 'running' && run.steps.length === 0;
    if (starting || run.ended_at) {
      this.ctx.events.emit({
        type: run.ended_at ? 'scenario.end' : 'scenario.start',
        at: run.ended_at ?? run.started_at,
        data: { run_id: run.id, scenario: run.scenario, trigger: run.trigger, outcome: run.outcome, error: run.error },
      });
    }
  }

  private registerApi(): void {
    const { rpc } = this.ctx;
    rpc.method({
      name: 'scenarios.list',
      description: 'Scenarios with their mode, triggers and running runs, and whether automatic triggers are on.',
      role: 'viewer',
      params: Type.Object({}, { additionalProperties: false }),
      handler: () => ({
        automation: this.automation,
        scenarios: this.list().map((s) => ({
          name: s.name,
          description: s.description ?? '',
          mode: s.mode,
          triggers: s.triggers,
          file: s.file,
          running: this.engine
            .running()
            .filter((r) => r.scenario === s.name)
            .map((r) => r.id),
        })),
      }),
    });
    rpc.method({
      name: 'scenarios.run',
      description: 'Run a scenario (answers at once with the run id); dry_run answers the plan and touches nothing.',
      role: 'operator',
      params: Type.Object(
        { name: Type.String({ minLength: 1 }), dry_run: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
      handler: (p, client) => {
        if (!this.scenarios.has(p.name)) throw new AgentError('NOT_FOUND', `no scenario "${p.name}"`);
        if (p.dry_run) return { dry_run: true, plan: this.engine.plan(p.name) };
        const kind = client.transport === 'mqtt' ? 'mqtt' : 'manual';
        const { run } = this.engine.start(p.name, { kind, detail: client.principal.name });
        return { run_id: run.id, outcome: run.outcome, error: run.error };
      },
    });
    rpc.method({
      name: 'scenarios.cancel',
      description: 'Cancel a run by id, or every run of a scenario by name. The device command in flight is not repeated.',
      role: 'operator',
      params: Type.Object(
        { run_id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) },
        { additionalProperties: false, minProperties: 1 },
      ),
      handler: (p) => ({ cancelled: this.engine.cancel({ run_id: p.run_id, scenario: p.name }) }),
    });
    rpc.method({
      name: 'scenarios.runs',
      description: 'Recorded runs (newest first): trigger, each step with result and duration, outcome.',
      role: 'viewer',
      params: Type.Object(
        { name: Type.Optional(Type.String()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
        { additionalProperties: false },
      ),
      handler: (p) => this.runs.list({ scenario: p.name, limit: p.limit }),
    });
    rpc.method({
      name: 'scenarios.automation',
      description:
        'Pause or resume every automatic trigger (manual runs always work); without params, answers the current value.',
      role: 'operator',
      params: Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      handler: (p) => {
        if (p.enabled !== undefined && p.enabled !== this.automation) {
          this.automation = p.enabled;
          this.runs.setSetting('automation', String(p.enabled));
          this.ctx.bus.publish('scenarios', { automation: this.automation });
          if (p.enabled) void this.triggers.reconcileCalendar();
        }
        return { enabled: this.automation };
      },
    });
    rpc.topic({
      name: 'scenarios',
      description: 'Run progress: {run} on every start, step and end of a run; {automation} when the switch changes.',
      snapshot: () => ({ automation: this.automation, running: this.engine.running() }),
    });
  }
}

/** The calendar feature, seen as a list of timed meetings (absent → no calendar triggers). */
function calendarSource(ctx: AgentContext): MeetingSource | null {
  const cal = ctx.feature<CalendarService>('calendar');
  if (!cal) return null;
  return {
    meetings: async (from, to) =>
      (await cal.list(from, to)).meetings
        // An all-day booking has no moment to prepare the room for.
        .filter((m) => !m.all_day)
        .map((m) => ({ id: m.id, title: m.title, start: m.start, end: m.end })),
  };
}

export const createScenarios: FeatureFactory = (ctx) => new ScenariosFeature(ctx);
