// Kramer Protocol 3000 driver over TCP (5000) or RS-232 (115200 8N1).
// Every connect: handshake, `#INFO-IO?`, then every route is read back.
// State comes from the device's replies and its device-initiated route lines.
import { type Static, Type } from '@sinclair/typebox';
import type { ActionDefinition, DeviceInstance, DriverContext } from '../../src/host/contract.js';
import { defineAction } from '../../src/host/contract.js';
import { ConfigFault, type DeviceConnection } from '../../src/transport/lifecycle.js';
import type { Link } from '../../src/transport/link.js';
import { CommandQueue } from '../../src/transport/queue.js';
import { pickLink } from '../../src/transport/pick-link.js';
import type { BindingInterface } from '../../src/transport/serial.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { matrixState, type RouteTable } from '../../src/util/matrix-state.js';
import {
  answersSet,
  encodeCommand,
  encodeRoute,
  encodeRouteQuery,
  encodeSwitch,
  encodeSwitchQuery,
  HANDSHAKE,
  type P3kLayer,
  type P3kMessage,
  P3kParser,
  parseInfoIo,
  type RouteNumbering,
  routesIn,
} from './protocol.js';

export const KramerP3000Config = Type.Object(
  {
    transport: Type.Union([Type.Literal('tcp'), Type.Literal('serial')], {
      default: 'tcp',
      description: '"tcp" (port 5000) or "serial" (RS-232, 115200 8N1).',
    }),
    host: Type.Optional(Type.String({ minLength: 1, description: 'IP or name of the matrix (transport "tcp").' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 5000, description: 'Protocol 3000 TCP port.' }),
    path: Type.Optional(Type.String({ minLength: 1, description: 'Serial device (transport "serial").' })),
    baud_rate: Type.Integer({ minimum: 1200, maximum: 230_400, default: 115_200, description: 'Serial speed (8N1).' }),
    machine_id: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 255, description: 'Destination id (`#nn@`) on an RS-485 bus.' }),
    ),
    route_command: Type.Union([Type.Literal('VID'), Type.Literal('ROUTE')], {
      default: 'VID',
      description: '"VID": #VID / #AV / #AUD; "ROUTE": #ROUTE layer,out,in (models that only know ROUTE).',
    }),
    route_layers: Type.Object(
      {
        video: Type.Integer({ minimum: 0, maximum: 9, default: 1 }),
        audio: Type.Integer({ minimum: 0, maximum: 9, default: 2 }),
      },
      { additionalProperties: false, default: { video: 1, audio: 2 }, description: '#ROUTE layer numbers of this model.' },
    ),
    disconnect_input: Type.Union([Type.Literal('zero'), Type.Literal('inputs_plus_one')], {
      default: 'zero',
      description: 'Input value that means "disconnected": 0, or inputs + 1 (5 on a 4×4) on some models.',
    }),
    audio: Type.Boolean({ default: true, description: 'false for video-only models (no audio routes are read).' }),
    inputs: Type.Optional(Type.Integer({ minimum: 1, maximum: 512, description: 'Used when the device has no #INFO-IO?.' })),
    outputs: Type.Optional(Type.Integer({ minimum: 1, maximum: 512, description: 'Used when the device has no #INFO-IO?.' })),
    input_labels: Type.Array(Type.String(), { default: [], description: 'Names for inputs 1, 2, ….' }),
    output_labels: Type.Array(Type.String(), { default: [], description: 'Names for outputs 1, 2, ….' }),
    keepalive_ms: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 30_000,
      description: 'Liveness probe period: a handshake (`#`) after this long; no answer within request_timeout_ms → reconnect.',
    }),
    request_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2000,
      description: 'Time allowed for each reply.',
    }),
  },
  { additionalProperties: false },
);
export type KramerP3000Config = Static<typeof KramerP3000Config>;

type Table = RouteTable;
type Expect = (m: P3kMessage) => boolean;

export class KramerP3000Device implements DeviceInstance {
  private readonly link: Link;
  private readonly conn: DeviceConnection;
  private readonly parser = new P3kParser();
  private readonly queue: CommandQueue<P3kMessage>;
  private expect: Expect | null = null;
  private phase: 'down' | 'init' | 'ready' = 'down';
  private inputs = 0;
  private outputs = 0;
  private video: Table = {};
  private audio: Table = {};
  private garbage = 0;
  readonly actions: Record<string, ActionDefinition>;

  constructor(
    private readonly cfg: KramerP3000Config,
    private readonly ctx: DriverContext,
    opts: { serialBinding?: BindingInterface } = {},
  ) {
    const link = pickLink(ctx, cfg, { port: 5000, baudRate: 115_200 }, opts.serialBinding);
    this.link = link;
    this.queue = new CommandQueue<P3kMessage>({
      timeoutMs: cfg.request_timeout_ms ?? 2000,
      maxPending: ctx.queueMax,
      clock: ctx.clock,
    });
    link.on('data', (chunk) => {
      for (const m of this.parser.push(chunk)) this.onMessage(m);
    });
    this.conn = ctx.connect(link, {
      handshake: () => this.setup(),
      // Any answer to `#` (even an error) shows the unit is alive.
      probe: () => this.request('liveness probe', HANDSHAKE, (m) => m.kind === 'ok'),
      probeIntervalMs: cfg.keepalive_ms ?? 30_000,
      probeTimeoutMs: cfg.request_timeout_ms ?? 2000,
      onDown: (reason) => {
        this.phase = 'down';
        this.expect = null;
        this.parser.reset();
        this.queue.failAll(new DeviceError(`connection lost: ${reason}`, 'DEVICE_OFFLINE'));
      },
    });
    this.actions = this.defineActions();
  }

  private get numbering(): RouteNumbering {
    return {
      layers: this.cfg.route_layers ?? { video: 1, audio: 2 },
      disconnect: this.cfg.disconnect_input ?? 'zero',
      inputs: this.inputs,
    };
  }

  async start(): Promise<void> {
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.queue.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
    await this.conn.stop();
  }

  private onMessage(m: P3kMessage): void {
    if (m.kind === 'garbage') {
      this.garbage++;
      this.ctx.deviceNoise.warn(
        'garbage',
        { text: m.text.slice(0, 200), total: this.garbage },
        'kramer: ignored unreadable data',
      );
      return;
    }
    if (m.kind === 'start') {
      // The unit restarted: read everything again.
      this.ctx.setState({ model: m.model, firmware: m.version });
      if (this.phase === 'ready') {
        this.ctx.logger.info({ text: m.text }, 'kramer: device restarted, reading routes again');
        this.queue.failAll(new DeviceError('device restarted', 'DEVICE_ERROR'));
        this.setup().catch((e: unknown) => this.conn.fail(`set-up after the device restarted failed: ${errorMessage(e)}`));
      }
      return;
    }
    for (const r of routesIn(m, this.numbering)) this.apply(r.layer, r.input, r.output, false);
    if (this.phase === 'ready' && routesIn(m, this.numbering).length) this.publish();
    if (this.expect?.(m)) {
      this.expect = null;
      if (m.kind === 'reply' && m.result === 'error' && m.error) {
        this.queue.rejectCurrent(
          new DeviceError(`device answered ${m.error.code}: ${m.error.message}`, 'DEVICE_ERROR', { p3k: m.error.code }),
        );
      } else this.queue.resolveCurrent(m);
    } else if (m.kind === 'reply' && m.result === 'error') {
      this.ctx.logger.warn({ error: m.error, command: m.command }, 'kramer: error with no request in flight');
    }
  }

  /** Handshake (`#`), size, every route; resolves with the online message. Any failure fails the attempt. */
  private async setup(): Promise<string> {
    this.phase = 'init';
    await this.request('handshake', HANDSHAKE, (m) => m.kind === 'ok');
    const info = await this.request('I/O count', encodeCommand('INFO-IO?', [], this.cfg.machine_id), isCommand('INFO-IO')).catch(
      (e: unknown) => {
        if (this.cfg.inputs && this.cfg.outputs) return null;
        throw e;
      },
    );
    const io = info?.kind === 'reply' ? parseInfoIo(info.params) : null;
    this.inputs = this.cfg.inputs ?? io?.inputs ?? 0;
    this.outputs = this.cfg.outputs ?? io?.outputs ?? 0;
    if (!this.inputs || !this.outputs)
      throw new ConfigFault('the device did not report its size (#INFO-IO?); set "inputs" and "outputs"');
    this.video = {};
    this.audio = {};
    await this.readAll().catch((e: unknown) => {
      // "Command not available" / "out of range" to our route reads: the model settings do not fit this unit.
      const code = e instanceof DeviceError ? (e.data as { p3k?: string } | undefined)?.p3k : undefined;
      if (code === 'ERR002' || code === 'ERR003')
        throw new ConfigFault(`${errorMessage(e)} to a route read; check route_command, route_layers and audio for this model`);
      throw e;
    });
    this.phase = 'ready';
    this.publish();
    return `${this.inputs}x${this.outputs} matrix at ${this.conn.describe()}`;
  }

  /** Reads every route. Replies are applied as they arrive (in onMessage), so a device-initiated
   * change during the read is never overwritten by an older answer. */
  private async readAll(): Promise<void> {
    const layers: ('video' | 'audio')[] = this.cfg.audio === false ? ['video'] : ['video', 'audio'];
    for (let o = 1; o <= this.outputs; o++) {
      for (const layer of layers) {
        const cmd =
          this.cfg.route_command === 'ROUTE'
            ? encodeRouteQuery(layer, o, this.numbering, this.cfg.machine_id)
            : encodeSwitchQuery(layer, o, this.cfg.machine_id);
        await this.request(
          `read ${layer} route of output ${o}`,
          cmd,
          (x) => routesIn(x, this.numbering).some((r) => r.output === o && r.layer === layer) || isError(x),
        );
      }
    }
  }

  private request(label: string, command: string, expect: Expect, signal?: AbortSignal): Promise<P3kMessage> {
    return this.queue.request(
      label,
      () => {
        this.expect = (m) => expect(m) || (m.kind === 'reply' && m.command === 'ERR');
        this.link.write(command);
      },
      { signal },
    );
  }

  private apply(layer: P3kLayer, input: number | null, output: number, publish = true): void {
    if (layer !== 'audio') this.video[String(output)] = input;
    if (layer !== 'video' && this.cfg.audio !== false) this.audio[String(output)] = input;
    if (publish && this.phase === 'ready') this.publish();
  }

  private publish(): void {
    this.ctx.setState(
      matrixState({
        inputs: this.inputs,
        outputs: this.outputs,
        video: this.video,
        audio: this.cfg.audio === false ? null : this.audio,
        inputLabels: this.cfg.input_labels ?? [],
        outputLabels: this.cfg.output_labels ?? [],
      }),
    );
  }

  private async route(layer: P3kLayer, input: number | null, output: number, signal: AbortSignal): Promise<void> {
    const dest = this.cfg.machine_id;
    const label = `route input ${input ?? 'none'} to output ${output} (${layer})`;
    if (this.cfg.route_command === 'ROUTE') {
      for (const l of layer === 'av' ? (['video', 'audio'] as const) : [layer]) {
        await this.request(
          label,
          encodeRoute(l, input, output, this.numbering, dest),
          (m) => answersSet(m, 'ROUTE', output, this.numbering),
          signal,
        );
      }
      return;
    }
    const name = layer === 'av' ? 'AV' : layer === 'video' ? 'VID' : 'AUD';
    await this.request(
      label,
      encodeSwitch(layer, input, output, this.numbering, dest),
      (m) => answersSet(m, name, output, this.numbering),
      signal,
    );
  }

  private defineActions(): Record<string, ActionDefinition> {
    const presetParams = Type.Object({ preset: Type.Integer({ minimum: 1, maximum: 999 }) }, { additionalProperties: false });
    return {
      route: defineAction({
        description: 'Route an input to an output (1-based); input 0 disconnects. layer: av (video + audio), video or audio.',
        params: Type.Object(
          {
            input: Type.Integer({ minimum: 0, maximum: 999, description: 'Input number; 0 = disconnect.' }),
            output: Type.Integer({ minimum: 1, maximum: 999 }),
            layer: Type.Optional(
              Type.Union([Type.Literal('av'), Type.Literal('video'), Type.Literal('audio')], { default: 'av' }),
            ),
          },
          { additionalProperties: false },
        ),
        run: async (p, { signal }) => {
          const layer = p.layer ?? 'av';
          if (p.output > this.outputs)
            throw new AgentError('INVALID_PARAMS', `output ${p.output} does not exist (1..${this.outputs})`);
          if (p.input > this.inputs)
            throw new AgentError('INVALID_PARAMS', `input ${p.input} does not exist (0..${this.inputs})`);
          if (layer !== 'video' && this.cfg.audio === false)
            throw new AgentError('INVALID_PARAMS', 'this model has no audio layer');
          await this.route(layer, p.input === 0 ? null : p.input, p.output, signal);
          const key = String(p.output);
          return { output: p.output, layer, input: layer === 'audio' ? this.audio[key] : this.video[key] };
        },
      }),
      routes: defineAction({
        description: 'Read every route back from the device (output → input per layer; null = disconnected).',
        params: Type.Object({}, { additionalProperties: false }),
        readOnly: true,
        run: async () => {
          await this.readAll();
          this.publish();
          return { video: { ...this.video }, ...(this.cfg.audio === false ? {} : { audio: { ...this.audio } }) };
        },
      }),
      'preset.recall': defineAction({
        description: 'Recall a preset (`#PRST-RCL n`); the routes are then read back.',
        params: presetParams,
        run: async (p, { signal }) => {
          const cmd = encodeCommand('PRST-RCL', [p.preset], this.cfg.machine_id);
          await this.request(`recall preset ${p.preset}`, cmd, isCommand('PRST-RCL'), signal);
          await this.readAll();
          this.publish();
          return {
            preset: p.preset,
            video: { ...this.video },
            ...(this.cfg.audio === false ? {} : { audio: { ...this.audio } }),
          };
        },
      }),
      'preset.save': defineAction({
        description: 'Store the current routes as a preset (`#PRST-STO n`).',
        params: presetParams,
        run: async (p, { signal }) => {
          const cmd = encodeCommand('PRST-STO', [p.preset], this.cfg.machine_id);
          await this.request(`store preset ${p.preset}`, cmd, isCommand('PRST-STO'), signal);
          return { preset: p.preset };
        },
      }),
    };
  }
}

const isCommand =
  (name: string): ((m: P3kMessage) => boolean) =>
  (m) =>
    m.kind === 'reply' && m.command === name && (m.result !== null || name === 'INFO-IO');
const isError = (m: P3kMessage): boolean => m.kind === 'reply' && m.result === 'error';
