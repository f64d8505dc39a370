// Q-SYS Core over QRC: Logon when configured, one change group with AutoPoll
// for the controls named in config, NoOp keep-alive, EngineStatus → device
// status. Control values in state come only from what the Core reports.
import { type Static, Type } from '@sinclair/typebox';
import { type ActionDefinition, type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
import { ConfigFault } from '../../src/transport/lifecycle.js';
import { TcpLink } from '../../src/transport/tcp.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import {
  type ControlChange,
  describeQrcError,
  type EngineStatus,
  encodeQrcRequest,
  engineDeviceStatus,
  parseChangeGroupPoll,
  parseControlList,
  parseEngineStatus,
  type QrcMessage,
  QrcParser,
} from './protocol.js';

export const QsysControlSchema = Type.Object(
  {
    control: Type.String({ minLength: 1, description: 'Named Control, or the control name inside `component`.' }),
    component: Type.Optional(Type.String({ minLength: 1, description: 'Named Component holding the control.' })),
    type: Type.Union([Type.Literal('level'), Type.Literal('mute'), Type.Literal('value')], {
      description: 'level: gain in dB; mute: boolean; value: any other control, reported raw.',
    }),
  },
  { additionalProperties: false },
);

export const QsysConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Address of the Q-SYS Core.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 1710 }),
    user: Type.Optional(Type.String({ minLength: 1, description: 'QRC user; set only when Core access control is on.' })),
    password: Type.Optional(Type.String({ 'x-secret': true, description: 'QRC PIN/password; use ${ENV_VAR}. Never logged.' })),
    controls: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), QsysControlSchema, {
      default: {},
      description: 'Our control names (state keys, action `control`) → where they live on the Core.',
    }),
    snapshot_bank: Type.Optional(Type.String({ minLength: 1, description: 'Snapshot Controller component for preset.recall.' })),
    poll_rate_s: Type.Number({ minimum: 0.05, maximum: 60, default: 0.2, description: 'ChangeGroup.AutoPoll rate (seconds).' }),
    keepalive_ms: Type.Integer({
      minimum: 1000,
      maximum: 55_000,
      default: 20_000,
      description: 'Liveness probe period (NoOp); the Core drops silent sockets after 60 s.',
    }),
    request_timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000 }),
  },
  { additionalProperties: false },
);
export type QsysConfig = Static<typeof QsysConfigSchema>;
type ControlDef = Static<typeof QsysControlSchema>;

const GROUP_ID = 'room-agent';
/** State keys the driver uses itself; a control may not be named like them. */
const RESERVED = new Set(['engine']);

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
}

export function createQsys(config: QsysConfig, ctx: DriverContext): DeviceInstance {
  // Looked up by client-given names: a Map, so `constructor` or `__proto__` is just unknown.
  const controls = new Map<string, ControlDef>(Object.entries(config.controls ?? {}));
  for (const name of controls.keys()) {
    if (RESERVED.has(name)) throw new AgentError('INVALID_PARAMS', `controls.${name}: "${name}" is reserved; pick another name`);
  }
  // Where each Core control maps back to our name.
  const byCoreKey = new Map<string, string>();
  for (const [name, c] of controls) byCoreKey.set(coreKey(c.component ?? null, c.control), name);

  const link = new TcpLink({ host: config.host, port: config.port ?? 1710, logger: ctx.logger, clock: ctx.clock });
  const parser = new QrcParser();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let engine: EngineStatus | null = null;
  let ready = false;

  function call(method: string, params: unknown): Promise<unknown> {
    if (!link.connected) return Promise.reject(new DeviceError(`Q-SYS ${method}: not connected`, 'DEVICE_OFFLINE'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = ctx.clock.setTimeout(() => {
        pending.delete(id);
        reject(new DeviceError(`Q-SYS ${method}: no reply within ${config.request_timeout_ms ?? 3000} ms`, 'DEVICE_TIMEOUT'));
      }, config.request_timeout_ms ?? 3000);
      pending.set(id, { method, resolve, reject, timer });
      link.write(encodeQrcRequest(id, method, params));
    });
  }

  function failPending(err: Error): void {
    for (const p of pending.values()) {
      ctx.clock.clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  }

  function applyChanges(changes: ControlChange[]): void {
    const patch: Record<string, unknown> = {};
    for (const ch of changes) {
      const name = byCoreKey.get(coreKey(ch.component, ch.name));
      if (!name) continue;
      const t = controls.get(name)?.type;
      patch[name] = t === 'mute' ? Boolean(Number(ch.value)) : ch.value;
    }
    if (Object.keys(patch).length) ctx.setState(patch);
  }

  function applyEngine(e: EngineStatus): void {
    engine = e;
    ctx.setState({
      engine: {
        state: e.state,
        design: e.designName,
        design_code: e.designCode,
        redundant: e.isRedundant,
        emulator: e.isEmulator,
      },
    });
    if (ready) reflectEngine();
  }

  /** The Core's engine state is a condition of a live connection: Standby/Idle are not usable. */
  function reflectEngine(): void {
    if (!engine) return;
    const s = engineDeviceStatus(engine);
    conn.condition(s.status, s.message);
  }

  function onMessage(m: QrcMessage): void {
    switch (m.kind) {
      case 'garbage':
        ctx.deviceNoise.warn('garbage', { reason: m.reason, text: m.text }, 'Q-SYS sent a frame that is not JSON-RPC; ignored');
        return;
      case 'overflow':
        ctx.deviceNoise.warn(
          'overflow',
          { dropped_bytes: m.bytes, times: m.times, limit: m.limit },
          'Q-SYS: dropped bytes with no NUL within the frame limit',
        );
        return;
      case 'notification':
        if (m.method === 'EngineStatus') {
          const e = parseEngineStatus(m.params);
          if (e) applyEngine(e);
        } else if (m.method === 'ChangeGroup.Poll') {
          const poll = parseChangeGroupPoll(m.params);
          if (poll?.id === GROUP_ID) applyChanges(poll.changes);
        } else ctx.logger.debug({ method: m.method }, 'Q-SYS push ignored');
        return;
      case 'result':
      case 'error': {
        const p = m.id === null ? undefined : pending.get(m.id);
        if (!p || m.id === null) {
          if (m.kind === 'error') ctx.logger.warn({ code: m.code, message: m.message }, 'Q-SYS error without a request');
          return;
        }
        pending.delete(m.id);
        ctx.clock.clearTimeout(p.timer);
        if (m.kind === 'result') p.resolve(m.result);
        else
          p.reject(
            new DeviceError(`Q-SYS ${p.method} failed: ${describeQrcError(m.code, m.message)}`, 'DEVICE_ERROR', {
              qrc_code: m.code,
            }),
          );
      }
    }
  }

  /** Logon when configured, StatusGet, the change group re-built and every value re-read. */
  async function handshake(): Promise<string> {
    ready = false;
    engine = null;
    if (config.user) {
      try {
        await call('Logon', { User: config.user, Password: config.password ?? '' });
      } catch (e) {
        // Error 10 "logon required": the user or password is wrong (never shown).
        if (qrcCode(e) === 10)
          throw new ConfigFault(`Q-SYS refused the logon of user "${config.user}": ${errorMessage(e)}`, 'auth_failure');
        throw e;
      }
    }
    const status = parseEngineStatus(await call('StatusGet', {}));
    if (status) applyEngine(status);
    const named = [...controls.values()].filter((c) => !c.component);
    const byComponent = new Map<string, string[]>();
    for (const c of controls.values()) {
      if (c.component) byComponent.set(c.component, [...(byComponent.get(c.component) ?? []), c.control]);
    }
    try {
      // Re-read every value, then let AutoPoll keep them live.
      if (named.length) {
        await call('ChangeGroup.AddControl', { Id: GROUP_ID, Controls: named.map((c) => c.control) });
        applyChanges(
          parseControlList(
            await call(
              'Control.Get',
              named.map((c) => c.control),
            ),
          ),
        );
      }
      for (const [component, names] of byComponent) {
        await call('ChangeGroup.AddComponentControl', {
          Id: GROUP_ID,
          Component: { Name: component, Controls: names.map((Name) => ({ Name })) },
        });
        const r = (await call('Component.Get', { Name: component, Controls: names.map((Name) => ({ Name })) })) as {
          Controls?: unknown;
        };
        applyChanges(parseControlList(r?.Controls, component));
      }
    } catch (e) {
      // 7 unknown component, 8 unknown control: the design lacks what config names; reconnecting will not fix it.
      if (qrcCode(e) === 7 || qrcCode(e) === 8)
        throw new ConfigFault(`${errorMessage(e)}; check "controls" against the running design`);
      throw e;
    }
    if (controls.size) await call('ChangeGroup.AutoPoll', { Id: GROUP_ID, Rate: config.poll_rate_s ?? 0.2 });
    ready = true;
    const s = engine ? engineDeviceStatus(engine) : null;
    if (s && s.status !== 'online') conn.condition(s.status, s.message);
    return s?.message ?? `connected to ${link.describe()} (engine status not reported yet)`;
  }

  const conn = ctx.connect(link, {
    handshake,
    // NoOp is QRC's keep-alive (QSC QRC Commands: NoOp); the Core drops a socket silent for 60 s.
    probe: () => call('NoOp', {}),
    probeIntervalMs: config.keepalive_ms ?? 20_000,
    probeTimeoutMs: config.request_timeout_ms ?? 3000,
    onDown: (reason) => {
      ready = false;
      parser.reset();
      failPending(new DeviceError(`Q-SYS connection lost: ${reason}`, 'DEVICE_OFFLINE'));
    },
  });
  link.on('data', (chunk) => {
    for (const m of parser.push(chunk)) onMessage(m);
  });

  function control(name: string, want: ControlDef['type']): ControlDef {
    const c = controls.get(name);
    const known = [...controls.keys()].join(', ') || 'none configured';
    if (!c) throw new AgentError('INVALID_PARAMS', `unknown control "${name}"; controls: ${known}`);
    if (c.type !== want) throw new AgentError('INVALID_PARAMS', `control "${name}" is a ${c.type} control, not ${want}`);
    return c;
  }

  function setControl(c: ControlDef, value: number | boolean, ramp?: number): Promise<unknown> {
    const v: Record<string, unknown> = { Value: value, ...(ramp ? { Ramp: ramp } : {}) };
    return c.component
      ? call('Component.Set', { Name: c.component, Controls: [{ Name: c.control, ...v }] })
      : call('Control.Set', { Name: c.control, ...v });
  }

  const actions: Record<string, ActionDefinition> = {
    level: defineAction({
      description: 'Set a level control (gain) in dB, optionally ramping.',
      params: Type.Object(
        {
          control: Type.String({ minLength: 1, description: 'Control name from config.' }),
          db: Type.Number({ minimum: -100, maximum: 20 }),
          ramp: Type.Optional(Type.Number({ minimum: 0, maximum: 60, description: 'Ramp time in seconds.' })),
        },
        { additionalProperties: false },
      ),
      run: async (p) => {
        await setControl(control(p.control, 'level'), p.db, p.ramp);
        return { ok: true };
      },
    }),
    mute: defineAction({
      description: 'Mute or unmute a mute control.',
      params: Type.Object({ control: Type.String({ minLength: 1 }), on: Type.Boolean() }, { additionalProperties: false }),
      run: async (p) => {
        await setControl(control(p.control, 'mute'), p.on ? 1 : 0);
        return { ok: true };
      },
    }),
    'preset.recall': defineAction({
      description: 'Recall a snapshot of the configured snapshot bank (Snapshot Controller `load.N`).',
      params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 9999 }) }, { additionalProperties: false }),
      run: async (p) => {
        if (!config.snapshot_bank) throw new AgentError('INVALID_PARAMS', 'no snapshot_bank configured for this Core');
        await call('Component.Set', { Name: config.snapshot_bank, Controls: [{ Name: `load.${p.id}`, Value: 1 }] });
        return { ok: true };
      },
    }),
  };

  return {
    actions,
    async start() {
      conn.start();
    },
    async stop() {
      failPending(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
      await conn.stop();
    },
  };
}

function coreKey(component: string | null, name: string): string {
  return component ? `${component}\u0000${name}` : name;
}

function qrcCode(e: unknown): number | undefined {
  const data = e instanceof AgentError ? (e.data as { qrc_code?: number } | undefined) : undefined;
  return data?.qrc_code;
}
