// Biamp Tesira over TTP, by Telnet (every option refused, then the banner) or
// RS-232. One command in flight; control values come from `subscribe`
// publishes (re-established on every connection and refreshed periodically)
// and `get` answers — never from what we set.
import { type Static, Type } from '@sinclair/typebox';
import { type ActionDefinition, type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
import { ConfigFault } from '../../src/transport/lifecycle.js';
import type { Link } from '../../src/transport/link.js';
import { CommandQueue } from '../../src/transport/queue.js';
import { SerialLink } from '../../src/transport/serial.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { TcpLink } from '../../src/transport/tcp.js';
import { TelnetFilter } from '../../src/transport/telnet.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import {
  describeTtpError,
  encodeRecallPreset,
  encodeSubscribe,
  encodeTtp,
  type TtpMessage,
  TtpParser,
  type TtpValue,
} from './protocol.js';

export const TesiraControlSchema = Type.Object(
  {
    instance: Type.String({ minLength: 1, description: 'Instance tag of the Level or Mute block (case-sensitive).' }),
    type: Type.Union([Type.Literal('level'), Type.Literal('mute')]),
    channel: Type.Integer({ minimum: 1, maximum: 512, default: 1, description: 'Channel index in the block.' }),
  },
  { additionalProperties: false },
);

export const TesiraConfigSchema = Type.Object(
  {
    transport: Type.Union([Type.Literal('telnet'), Type.Literal('serial')], { default: 'telnet' }),
    host: Type.Optional(Type.String({ minLength: 1, description: 'Tesira address (telnet).' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 23 }),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Serial device (serial), e.g. /dev/ttyUSB0.' })),
    baud_rate: Type.Integer({ minimum: 1200, maximum: 921_600, default: 115_200 }),
    controls: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), TesiraControlSchema, {
      default: {},
      description: 'Our control names (state keys, subscription labels) → block and channel.',
    }),
    subscribe_interval_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 250,
      description: 'Minimum publish interval.',
    }),
    resubscribe_ms: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 300_000,
      description: 'Re-send subscriptions (same labels) this often (they are lost on a config push without a disconnect).',
    }),
    keepalive_ms: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 20_000,
      description: 'Liveness probe period (`SESSION set verbose true` → `+OK`, or the re-subscribe when due).',
    }),
    banner_timeout_ms: Type.Integer({
      minimum: 500,
      maximum: 60_000,
      default: 10_000,
      description: 'Telnet: longest wait for the TTP banner after the option negotiation (part of the handshake).',
    }),
    request_timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000 }),
  },
  { additionalProperties: false },
);
export type TesiraConfig = Static<typeof TesiraConfigSchema>;
type ControlDef = Static<typeof TesiraControlSchema>;

export function createTesira(config: TesiraConfig, ctx: DriverContext): DeviceInstance {
  const transport = config.transport ?? 'telnet';
  // Looked up by client-given and device-given names: a Map, so `constructor` or `__proto__` is just unknown.
  const controls = new Map<string, ControlDef>(Object.entries(config.controls ?? {}));
  let link: Link;
  if (transport === 'serial') {
    if (!config.path) throw new AgentError('INVALID_PARAMS', 'transport = "serial" needs `path` (e.g. /dev/ttyUSB0)');
    link = new SerialLink({
      path: config.path,
      baudRate: config.baud_rate ?? 115_200,
      binding: simulatedSerialPorts.get(config.path),
      logger: ctx.logger,
      clock: ctx.clock,
    });
  } else {
    if (!config.host) throw new AgentError('INVALID_PARAMS', 'transport = "telnet" needs `host`');
    link = new TcpLink({ host: config.host, port: config.port ?? 23, logger: ctx.logger, clock: ctx.clock });
  }
  const telnet = transport === 'telnet' ? new TelnetFilter() : null;
  const parser = new TtpParser();
  const queue = new CommandQueue<TtpMessage>({
    timeoutMs: config.request_timeout_ms ?? 3000,
    maxPending: ctx.queueMax,
    clock: ctx.clock,
  });
  /** Settles the handshake's wait for the TTP banner (Telnet). */
  let banner: (() => void) | null = null;
  let lastSubscribed = 0;

  /** The last command line written, to recognise its echo. */
  let lastSent = '';
  function send(label: string, line: string, signal?: AbortSignal): Promise<TtpMessage> {
    return queue.request(
      label,
      () => {
        lastSent = line.trim();
        link.write(line);
      },
      { signal },
    );
  }

  function asState(c: ControlDef, v: TtpValue | undefined): unknown {
    if (c.type === 'mute') return v === true || v === 'true' || v === 1;
    return typeof v === 'number' ? v : Number(v);
  }

  function onMessage(m: TtpMessage): void {
    switch (m.kind) {
      case 'banner':
        banner?.();
        banner = null;
        return;
      case 'publish': {
        const c = controls.get(m.label);
        if (c) ctx.setState({ [m.label]: asState(c, m.value) });
        else ctx.logger.debug({ label: m.label }, 'publish for a label we did not subscribe');
        return;
      }
      case 'ok':
        if (!queue.resolveCurrent(m)) ctx.logger.debug('+OK with no command in flight');
        return;
      case 'error':
        if (
          !queue.rejectCurrent(
            new DeviceError(`Tesira ${queue.current ?? 'command'} failed: ${describeTtpError(m.code, m.text)}`),
          )
        ) {
          ctx.logger.warn({ code: m.code, text: m.text }, 'Tesira error with no command in flight');
        }
        return;
      case 'other':
        // An echo of our command is normal on interactive sessions; anything else is noise. Never fatal.
        if (m.line === lastSent) ctx.logger.debug({ line: m.line }, 'Tesira echoed the command');
        else ctx.deviceNoise.warn('garbage', { line: m.line.slice(0, 200) }, 'Tesira sent a line that is not TTP; ignored');
        return;
      case 'overflow':
        ctx.deviceNoise.warn(
          'overflow',
          { dropped_bytes: m.bytes, times: m.times, limit: m.limit },
          'Tesira: dropped bytes with no line end within the line limit',
        );
    }
  }

  /** Subscribes every configured control (same labels each time, so no duplicates). A tag or channel the
   * device does not know (`-ERR address not found`) is a config fault; a timeout is a dead link. */
  async function subscribeAll(): Promise<void> {
    const failed: string[] = [];
    for (const [name, c] of controls) {
      try {
        await send(
          `subscribe ${name}`,
          encodeSubscribe(c.instance, c.type, c.channel ?? 1, name, config.subscribe_interval_ms ?? 250),
        );
      } catch (e) {
        if (e instanceof DeviceError && e.code !== 'DEVICE_ERROR') throw e; // timeout / offline: the link is bad
        failed.push(`${name} (${c.instance}): ${errorMessage(e)}`);
      }
    }
    lastSubscribed = ctx.clock.now();
    if (failed.length) throw new ConfigFault(`the Tesira refused ${failed.length} control(s): ${failed.join('; ')}`);
  }

  /** Telnet: every option refused, then the banner; then verbose answers and every subscription. */
  async function handshake(h: { info: string }): Promise<string> {
    if (telnet) {
      const ms = config.banner_timeout_ms ?? 10_000;
      await new Promise<void>((resolve, reject) => {
        const timer = ctx.clock.setTimeout(() => {
          banner = null;
          reject(new DeviceError(`no TTP banner from ${h.info} within ${ms} ms (Telnet negotiation not completed?)`));
        }, ms);
        banner = () => {
          ctx.clock.clearTimeout(timer);
          resolve();
        };
      });
    }
    // Verbose answers carry keys ("value":…), which is what we parse best.
    await send('SESSION set verbose', 'SESSION set verbose true\n');
    await subscribeAll();
    return `connected to ${link.describe()}`;
  }

  const conn = ctx.connect(link, {
    handshake,
    // Liveness: re-subscribe when due (subscriptions can be lost by a config push without a disconnect),
    // else the cheapest command TTP has that always answers +OK.
    probe: () =>
      ctx.clock.now() - lastSubscribed >= (config.resubscribe_ms ?? 300_000)
        ? subscribeAll()
        : send('liveness probe', 'SESSION set verbose true\n'),
    probeIntervalMs: config.keepalive_ms ?? 20_000,
    probeTimeoutMs: config.request_timeout_ms ?? 3000,
    handshakeTimeoutMs: (config.banner_timeout_ms ?? 10_000) + 10_000,
    onDown: (reason) => {
      banner = null;
      parser.reset();
      telnet?.reset();
      queue.failAll(new DeviceError(`Tesira connection lost: ${reason}`, 'DEVICE_OFFLINE'));
    },
  });
  link.on('data', (chunk) => {
    let data = chunk;
    if (telnet) {
      const r = telnet.push(chunk);
      if (r.reply) link.write(r.reply);
      data = r.data;
    }
    for (const m of parser.push(data)) onMessage(m);
  });

  function control(name: string, want: ControlDef['type']): ControlDef {
    const c = controls.get(name);
    if (!c)
      throw new AgentError(
        'INVALID_PARAMS',
        `unknown control "${name}"; controls: ${[...controls.keys()].join(', ') || 'none configured'}`,
      );
    if (c.type !== want) throw new AgentError('INVALID_PARAMS', `control "${name}" is a ${c.type} control, not ${want}`);
    return c;
  }

  const ok = () => ({ ok: true });
  const actions: Record<string, ActionDefinition> = {
    level: defineAction({
      description: 'Set a Level block channel in dB. Tesira TTP has no ramped set: `ramp` is refused.',
      params: Type.Object(
        {
          control: Type.String({ minLength: 1 }),
          db: Type.Number({ minimum: -100, maximum: 12 }),
          ramp: Type.Optional(Type.Number({ minimum: 0, maximum: 60 })),
        },
        { additionalProperties: false },
      ),
      run: async (p, a) => {
        const c = control(p.control, 'level');
        if (p.ramp) throw new AgentError('INVALID_PARAMS', 'Tesira TTP cannot ramp a level; send level without ramp');
        await send(`set ${p.control}`, encodeTtp(c.instance, 'set', 'level', [c.channel ?? 1], p.db), a.signal);
        return ok();
      },
    }),
    mute: defineAction({
      description: 'Mute or unmute a Mute block channel.',
      params: Type.Object({ control: Type.String({ minLength: 1 }), on: Type.Boolean() }, { additionalProperties: false }),
      run: async (p, a) => {
        const c = control(p.control, 'mute');
        await send(`set ${p.control}`, encodeTtp(c.instance, 'set', 'mute', [c.channel ?? 1], p.on), a.signal);
        return ok();
      },
    }),
    'mute.toggle': defineAction({
      description: 'Toggle a Mute block channel (TTP toggle).',
      params: Type.Object({ control: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      run: async (p, a) => {
        const c = control(p.control, 'mute');
        await send(`toggle ${p.control}`, encodeTtp(c.instance, 'toggle', 'mute', [c.channel ?? 1]), a.signal);
        return ok();
      },
    }),
    read: defineAction({
      description: 'Read a control from the device now (TTP get); the value also lands in state.',
      params: Type.Object({ control: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      readOnly: true,
      run: async (p, a) => {
        const c = controls.get(p.control);
        if (!c) throw new AgentError('INVALID_PARAMS', `unknown control "${p.control}"`);
        const r = await send(`get ${p.control}`, encodeTtp(c.instance, 'get', c.type, [c.channel ?? 1]), a.signal);
        const value = asState(c, r.kind === 'ok' ? r.value : undefined);
        ctx.setState({ [p.control]: value });
        return { value };
      },
    }),
    'preset.recall': defineAction({
      description: 'Recall a device preset: a number (DEVICE recallPreset) or a name (DEVICE recallPresetByName).',
      params: Type.Object(
        { id: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })]) },
        { additionalProperties: false },
      ),
      run: async (p, a) => {
        await send('DEVICE recallPreset', encodeRecallPreset(p.id), a.signal);
        return ok();
      },
    }),
  };

  return {
    actions,
    async start() {
      conn.start();
    },
    async stop() {
      queue.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
      await conn.stop();
    },
  };
}
