// Wires the director engine into the agent: microphone and device events in,
// camera/mixer actions out through the host (audited with cause), the
// decision log, the `director.*` methods and the `director` topic.
import { Type } from '@sinclair/typebox';
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import type { DeviceChange } from '../state/devices.js';
import type { TimerHandle } from '../util/clock.js';
import { AgentError } from '../util/errors.js';
import type { DirectorSection } from './config.js';
import { DirectorEngine } from './engine.js';
import { DecisionLog } from './log.js';
import type { DirectorActuator } from './types.js';

/** Camera action the director calls (VISCA driver: resolves on the camera's Completion). */
export const RECALL_ACTION = 'preset.recall';

/** Replaces every "{input}" string value with the input (keeping its number type). */
export function fillParams(params: Record<string, unknown>, input: string | number): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === '{input}' ? input : v]));
}

/** A problem in `[director]`: the key path under `director` and what is wrong. */
export interface SectionProblem {
  path: string[];
  message: string;
}

/**
 * Every device the section names must exist and every microphone channel be mapped once. The agent
 * refuses to start on any of these; `check-config` reports the same list with file and line.
 */
export function directorProblems(s: DirectorSection, known: readonly string[]): SectionProblem[] {
  const out: SectionProblem[] = [];
  const has = new Set(known);
  const devices = known.join(', ') || 'none';
  const need = (path: string[], id: string, what: string) => {
    if (!has.has(id)) out.push({ path, message: `${what} "${id}" is not a device; devices: ${devices}` });
  };
  need(['overview', 'camera'], s.overview.camera, 'camera');
  s.sources.forEach((src, i) => {
    need(['sources', String(i), 'device'], src.device, 'microphone');
    need(['sources', String(i), 'camera'], src.camera, 'camera');
  });
  if (s.mixer) {
    need(['mixer', 'device'], s.mixer.device, 'mixer');
    for (const cam of Object.keys(s.mixer.inputs)) need(['mixer', 'inputs', cam], cam, 'camera');
  }
  if (s.far_end) need(['far_end', 'device'], s.far_end.device, 'audio processor');
  const seen = new Map<string, number>();
  s.sources.forEach((src, i) => {
    const k = `${src.device}/${src.channel}`;
    const first = seen.get(k);
    if (first !== undefined) {
      out.push({ path: ['sources', String(i)], message: `microphone ${k} is mapped twice (also sources.${first})` });
    } else seen.set(k, i);
  });
  return out;
}

/** Throws the first problem (the agent checks the whole section with file and line before this). */
export function checkDevices(s: DirectorSection, known: readonly string[]): void {
  const [p] = directorProblems(s, known);
  if (p) throw new AgentError('INVALID_PARAMS', `[director] ${p.path.join('.')}: ${p.message}`);
}

export class DirectorFeature implements Feature {
  readonly name = 'director';
  readonly engine: DirectorEngine;
  readonly log: DecisionLog;
  private readonly cameraIds: Set<string>;
  private unsubscribe: (() => void)[] = [];
  private publishTimer: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly s: DirectorSection,
  ) {
    checkDevices(s, ctx.host.ids());
    this.cameraIds = new Set([s.overview.camera, ...s.sources.map((x) => x.camera)]);
    const logger = ctx.logger.child({ mod: 'director' });
    this.log = new DecisionLog(ctx.store, ctx.events, s.decision_log_size, (e) =>
      logger.error({ err: e.message }, 'decision log write failed'),
    );
    // After stop() nothing is sent any more and late completions are ignored.
    const actuator: DirectorActuator = {
      isOnline: (id) => ctx.devices.get(id)?.status.status === 'online',
      recall: (camera, preset, cause, done) => {
        if (this.stopped) return;
        ctx.host.invoke(camera, RECALL_ACTION, { preset }, cause).then(
          () => done(null),
          (e: Error) => done(e),
        );
      },
      cut: (input, cause, done) => {
        if (this.stopped) return;
        const m = s.mixer;
        if (!m) return done(new Error('no mixer configured'));
        ctx.host.invoke(m.device, m.action, fillParams(m.params, input), cause).then(
          () => done(null),
          (e: Error) => done(e),
        );
      },
    };
    this.engine = new DirectorEngine(
      s,
      ctx.clock,
      actuator,
      // The engine decides after sending the command: none of this is in the camera's path.
      (d) => {
        const stored = this.log.record(d);
        logger.info({ rule: d.rule, shot: d.shot, mic: d.mic }, d.reason);
        ctx.bus.publish('director', { decision: stored });
      },
      () => this.schedulePublish(),
    );
    this.registerApi();
  }

  private registerApi(): void {
    const { rpc } = this.ctx;
    rpc.method({
      name: 'director.status',
      description: 'Mode, the current shot and why (microphone, rule), talkers, cameras and the on-air input.',
      role: 'viewer',
      params: Type.Object({}, { additionalProperties: false }),
      handler: () => this.engine.status(),
    });
    rpc.method({
      name: 'director.set',
      description: 'Set the mode: auto, paused (optionally for for_s seconds) or off.',
      role: 'operator',
      params: Type.Object(
        {
          mode: Type.Union([Type.Literal('auto'), Type.Literal('paused'), Type.Literal('off')]),
          for_s: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400 })),
        },
        { additionalProperties: false },
      ),
      handler: (p, client) => {
        this.engine.setMode(p.mode, p.for_s, client.principal.name);
        return this.engine.status();
      },
    });
    rpc.method({
      name: 'director.decisions',
      description: 'The decision log, newest first (persisted; the last decision_log_size are kept).',
      role: 'viewer',
      params: Type.Object(
        {
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          before_id: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
      handler: (p) => ({ decisions: this.log.recent(p.limit ?? 50, p.before_id) }),
    });
    rpc.topic({
      name: 'director',
      description: 'Director status ({status}) on every change and each decision ({decision}) as it is made.',
      snapshot: () => ({ status: this.engine.status() }),
    });
  }

  /** Status pushes are coalesced: a burst of gate changes sends one update. */
  private schedulePublish(): void {
    if (this.publishTimer) return;
    this.publishTimer = this.ctx.clock.setTimeout(() => {
      this.publishTimer = null;
      this.ctx.bus.publish('director', { status: this.engine.status() });
    }, 50);
  }

  async start(): Promise<void> {
    const { ctx, s } = this;
    this.unsubscribe.push(
      ctx.events.on((e) => {
        const d = e.data;
        if (e.type === 'mic') {
          if (typeof d.device === 'string' && typeof d.channel === 'number' && typeof d.on === 'boolean') {
            this.engine.mic({ device: d.device, channel: d.channel, on: d.on, chairman: d.chairman === true });
          }
        } else if (e.type === 'device.status' && typeof d.device === 'string') {
          this.engine.deviceStatus(d.device, d.status === 'online');
        } else if (e.type === 'device.action' && typeof d.device === 'string' && d.ok === true) {
          this.onAction(d.device, String(d.action), d.cause as { kind: string; name?: string; detail?: string });
        }
      }),
    );
    const fe = s.far_end;
    if (fe) {
      this.unsubscribe.push(
        ctx.bus.subscribe((m) => {
          if (m.topic !== 'devices') return;
          const c = m.data as DeviceChange;
          if (c.device !== fe.device || !('state' in c) || !(fe.state in c.state)) return;
          this.engine.farEnd(Boolean(c.state[fe.state].value));
        }),
      );
      if (ctx.devices.values(fe.device)[fe.state]) this.engine.farEnd(true);
    }
    this.engine.start();
  }

  /** Manual override: an operator on a camera or the mixer, or any scenario action. */
  private onAction(device: string, action: string, cause: { kind: string; name?: string; detail?: string } | undefined): void {
    if (!cause || cause.kind === 'director' || cause.kind === 'device') return;
    if (this.ctx.host.actions(device)[action]?.readOnly) return;
    const watched = this.cameraIds.has(device) || device === this.s.mixer?.device;
    if (!watched && cause.kind !== 'scenario') return;
    const who = cause.kind === 'scenario' ? `scenario ${cause.name ?? ''}`.trim() : `${cause.kind} ${cause.name ?? ''}`.trim();
    this.engine.manualAction(device, `${who} ran ${device}.${action}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.ctx.clock.clearTimeout(this.publishTimer);
    this.publishTimer = null;
    this.engine.stop();
    this.log.flush();
  }
}

export const createDirector: FeatureFactory = (ctx) => {
  const s = (ctx.config as { director?: DirectorSection }).director;
  return s ? new DirectorFeature(ctx, s) : null;
};
