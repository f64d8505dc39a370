// Videohub driver: TCP 9990. State is rebuilt from the connect dump on every
// connection and changed only by status blocks; our own requests change
// nothing until the device reports the result.
import { type Static, Type } from '@sinclair/typebox';
import type { ActionDefinition, DeviceInstance, DriverContext } from '../../src/host/contract.js';
import { defineAction } from '../../src/host/contract.js';
import type { DeviceConnection } from '../../src/transport/lifecycle.js';
import { CommandQueue } from '../../src/transport/queue.js';
import { TcpLink } from '../../src/transport/tcp.js';
import { AgentError, DeviceError } from '../../src/util/errors.js';
import {
  encodeLabel,
  encodeLock,
  encodeQuery,
  encodeRouting,
  interpretBlock,
  type LockState,
  PING,
  VideohubParser,
  type VideohubUpdate,
} from './protocol.js';

export const VideohubConfig = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, description: 'IP or name of the Videohub (not needed when simulated).' })),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 9990, description: 'Videohub Ethernet protocol port.' }),
    ping_interval_ms: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 15_000,
      description: 'Liveness probe period: `PING:` → `ACK`; no ACK within request_timeout_ms → reconnect.',
    }),
    request_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2000,
      description: 'Time allowed for ACK/NAK and for the status block that follows.',
    }),
    prelude_timeout_ms: Type.Integer({
      minimum: 500,
      maximum: 120_000,
      default: 10_000,
      description: 'Longest wait for the connect dump (the handshake); then the attempt fails and is retried with backoff.',
    }),
  },
  { additionalProperties: false },
);
export type VideohubConfig = Static<typeof VideohubConfig>;

type Reply = 'ack' | 'nak';
const num = (min: number, description: string) => Type.Integer({ minimum: min, description });

export class VideohubDevice implements DeviceInstance {
  private readonly link: TcpLink;
  private readonly conn: DeviceConnection;
  private readonly parser = new VideohubParser();
  private readonly queue: CommandQueue<Reply>;
  private phase: 'down' | 'prelude' | 'ready' | 'absent' = 'down';
  /** Settles the handshake when the connect dump is complete. */
  private preludeWait: (() => void) | null = null;
  /** "Device present" was not true: the router is absent and the hub will resend its blocks when one is attached. */
  private absent = false;
  /** The current connection's dump had a VIDEOHUB DEVICE block. */
  private sawDevice = false;
  private garbageLines = 0;
  private inputs = 0;
  private outputs = 0;
  private model: string | null = null;
  private routes: Record<string, number> = {};
  private inputLabels: Record<string, string> = {};
  private outputLabels: Record<string, string> = {};
  private locks: Record<string, LockState> = {};
  private blockWaiters: { header: string; output?: number; resolve: () => void }[] = [];
  readonly actions: Record<string, ActionDefinition>;

  constructor(
    private readonly cfg: VideohubConfig,
    private readonly ctx: DriverContext,
  ) {
    if (!cfg.host) throw new AgentError('INVALID_PARAMS', `device ${ctx.id}: "host" is required unless simulated = true`);
    this.link = new TcpLink({ host: cfg.host, port: cfg.port ?? 9990, logger: ctx.logger, clock: ctx.clock });
    this.queue = new CommandQueue<Reply>({
      timeoutMs: cfg.request_timeout_ms ?? 2000,
      maxPending: ctx.queueMax,
      clock: ctx.clock,
    });
    this.link.on('data', (chunk) => this.onData(chunk));
    this.conn = ctx.connect(this.link, {
      handshake: () => this.handshake(),
      // Blackmagic Videohub Ethernet Protocol (Videohub manual p.77): `PING:` → `ACK` is the protocol's keep-alive (Companion pings every 15 s).
      probe: () => this.queue.request('liveness probe (PING)', () => this.link.write(PING)),
      probeIntervalMs: cfg.ping_interval_ms ?? 15_000,
      probeTimeoutMs: cfg.request_timeout_ms ?? 2000,
      handshakeTimeoutMs: cfg.prelude_timeout_ms ?? 10_000,
      onDown: (reason) => this.onDown(reason),
    });
    this.actions = this.defineActions();
  }

  async start(): Promise<void> {
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.queue.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
    await this.conn.stop();
  }

  /** The connect dump, read to its end (END PRELUDE, or the ACK of a PING sent right after connecting). */
  private handshake(): Promise<string> {
    this.phase = 'prelude';
    this.absent = false;
    this.sawDevice = false;
    // State is rebuilt from scratch on every connection.
    this.routes = {};
    this.inputLabels = {};
    this.outputLabels = {};
    this.locks = {};
    const done = new Promise<void>((resolve) => {
      this.preludeWait = resolve;
    });
    this.pingForPrelude();
    return done.then(() => {
      // Every Videohub server starts its dump with this block (Blackmagic Videohub Ethernet Protocol, Videohub manual p.75); without it this is not a Videohub.
      if (!this.sawDevice)
        throw new DeviceError('the connect dump had no VIDEOHUB DEVICE block; is this a Videohub on port 9990?');
      return `${this.model ?? 'Videohub'} ${this.inputs}x${this.outputs} at ${this.link.describe()}`;
    });
  }

  private onDown(reason: string): void {
    this.phase = 'down';
    this.parser.reset();
    this.preludeWait = null;
    this.queue.failAll(new DeviceError(`connection lost: ${reason}`, 'DEVICE_OFFLINE'));
    this.resolveWaiters(() => true);
  }

  private onData(chunk: Buffer): void {
    for (const m of this.parser.push(chunk)) {
      if (m.kind === 'garbage') {
        this.garbageLines++;
        this.ctx.deviceNoise.warn(
          'garbage',
          { line: m.line.slice(0, 200), total: this.garbageLines },
          'videohub: ignored a line outside any block',
        );
      } else if (m.kind === 'overflow') {
        this.ctx.deviceNoise.warn(
          'overflow',
          { dropped_bytes: m.bytes, times: m.times, limit: m.limit },
          'videohub: dropped bytes with no line end within the line limit',
        );
      } else if (m.kind === 'block') {
        this.onUpdate(interpretBlock(m.header, m.lines));
      } else if (!this.queue.resolveCurrent(m.kind)) {
        this.ctx.logger.debug({ reply: m.kind }, 'videohub: reply with no request in flight');
      }
    }
  }

  private onUpdate(u: VideohubUpdate): void {
    switch (u.type) {
      case 'device':
        this.sawDevice = true;
        this.model = u.model;
        this.inputs = u.inputs ?? this.inputs;
        this.outputs = u.outputs ?? this.outputs;
        if (u.present !== 'true') {
          // Blackmagic Videohub Ethernet Protocol: nothing more follows until a router is attached; the connection stays.
          this.absent = true;
          this.ctx.setState({ model: this.model, present: u.present });
          this.conn.condition('error', `Videohub reports "Device present: ${u.present}"; no routing is possible`);
          this.preludeDone();
          return;
        }
        this.ctx.setState({ model: this.model, present: 'true', inputs: this.inputs, outputs: this.outputs });
        if (this.absent && this.phase === 'ready') {
          // A router was attached: the hub resends every block (Videohub Ethernet Protocol, "Device
          // present"); read them to their end, then the device is usable again.
          this.phase = 'prelude';
          this.pingForPrelude();
        }
        this.absent = false;
        return;
      case 'input_labels':
      case 'output_labels': {
        const table = u.type === 'input_labels' ? this.inputLabels : this.outputLabels;
        for (const [i, label] of u.labels) table[String(i + 1)] = label;
        if (this.phase === 'ready') this.publish();
        this.resolveWaiters((w) => w.header === (u.type === 'input_labels' ? 'INPUT LABELS' : 'OUTPUT LABELS'));
        return;
      }
      case 'routing':
        for (const [o, i] of u.routes) this.routes[String(o + 1)] = i + 1;
        if (this.phase === 'ready') this.publish();
        this.resolveWaiters(
          (w) => w.header === 'VIDEO OUTPUT ROUTING' && (w.output === undefined || u.routes.some(([o]) => o + 1 === w.output)),
        );
        return;
      case 'locks':
        for (const [o, s] of u.locks) this.locks[String(o + 1)] = s;
        if (this.phase === 'ready') this.publish();
        this.resolveWaiters((w) => w.header === 'VIDEO OUTPUT LOCKS' && u.locks.some(([o]) => o + 1 === w.output));
        return;
      case 'preamble':
        this.ctx.setState({ protocol_version: u.version });
        return;
      case 'end_prelude':
        this.preludeDone();
        return;
      default:
        return; // unknown blocks are ignored, as the protocol requires
    }
  }

  /** A PING after the dump: its ACK marks the end of the dump on firmware without END PRELUDE. */
  private pingForPrelude(): void {
    this.queue
      .request('PING after the state dump', () => this.link.write(PING), { timeoutMs: this.cfg.prelude_timeout_ms ?? 10_000 })
      .then(
        () => this.preludeDone(),
        () => undefined, // the handshake timeout (or the probe) deals with a silent hub
      );
  }

  private preludeDone(): void {
    if (this.phase !== 'prelude') return;
    this.phase = 'ready';
    this.publish();
    const wait = this.preludeWait;
    this.preludeWait = null;
    if (wait) wait();
    else if (!this.absent)
      this.conn.condition('online', `${this.model ?? 'Videohub'} ${this.inputs}x${this.outputs} at ${this.link.describe()}`);
  }

  private publish(): void {
    this.ctx.setState({
      routes: { ...this.routes },
      input_labels: { ...this.inputLabels },
      output_labels: { ...this.outputLabels },
      locks: { ...this.locks },
    });
  }

  /** Resolves when a status block for `header` (and `output`) arrives, or after the request timeout. */
  private waitBlock(header: string, output?: number): { done: Promise<void>; cancel: () => void } {
    let cancel: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      const w = { header, output, resolve: () => finish() };
      const timer = this.ctx.clock.setTimeout(() => finish(), this.cfg.request_timeout_ms ?? 2000);
      const finish = () => {
        this.ctx.clock.clearTimeout(timer);
        this.blockWaiters = this.blockWaiters.filter((x) => x !== w);
        resolve();
      };
      cancel = finish;
      this.blockWaiters.push(w);
    });
    return { done, cancel };
  }

  private resolveWaiters(pred: (w: { header: string; output?: number }) => boolean): void {
    for (const w of this.blockWaiters.filter(pred)) w.resolve();
  }

  /** Sends a request; NAK becomes an error; then waits for the status block that reports the outcome. */
  private async send(
    label: string,
    text: string,
    expect: { header: string; output?: number },
    signal: AbortSignal,
  ): Promise<void> {
    const wait = this.waitBlock(expect.header, expect.output);
    try {
      const reply = await this.queue.request(label, () => this.link.write(text), { signal });
      if (reply === 'nak') throw new DeviceError(`Videohub refused ${label} (NAK)`);
    } catch (e) {
      wait.cancel();
      throw e;
    }
    await wait.done;
  }

  private checkOutput(output: number): void {
    if (output > this.outputs) throw new AgentError('INVALID_PARAMS', `output ${output} does not exist (1..${this.outputs})`);
  }

  private defineActions(): Record<string, ActionDefinition> {
    return {
      route: defineAction({
        description: 'Route an input to an output (1-based). Videohub switches video only; layer "audio" is refused.',
        params: Type.Object(
          {
            input: num(1, 'Input number, 1-based.'),
            output: num(1, 'Output number, 1-based.'),
            layer: Type.Optional(
              Type.Union([Type.Literal('av'), Type.Literal('video'), Type.Literal('audio')], { default: 'av' }),
            ),
          },
          { additionalProperties: false },
        ),
        run: async (p, { signal }) => {
          if (p.layer === 'audio')
            throw new AgentError('INVALID_PARAMS', 'a Videohub has no separate audio layer; use "video" or "av"');
          this.checkOutput(p.output);
          if (p.input > this.inputs)
            throw new AgentError('INVALID_PARAMS', `input ${p.input} does not exist (1..${this.inputs})`);
          if (this.locks[String(p.output)] === 'locked') {
            throw new DeviceError(
              `output ${p.output} is locked by another client; unlock it with action "lock" (state "force_unlock")`,
            );
          }
          await this.send(
            `route input ${p.input} to output ${p.output}`,
            encodeRouting([[p.output - 1, p.input - 1]]),
            { header: 'VIDEO OUTPUT ROUTING', output: p.output },
            signal,
          );
          // What the device reported, which may differ if another client changed it at the same time.
          return { output: p.output, input: this.routes[String(p.output)] ?? null, layer: 'video' };
        },
      }),
      routes: defineAction({
        description: 'Read the whole route table from the device (output → input, 1-based) and the labels.',
        params: Type.Object({}, { additionalProperties: false }),
        readOnly: true,
        run: async (_p, { signal }) => {
          await this.send('read routing', encodeQuery('VIDEO OUTPUT ROUTING'), { header: 'VIDEO OUTPUT ROUTING' }, signal);
          return {
            video: { ...this.routes },
            input_labels: { ...this.inputLabels },
            output_labels: { ...this.outputLabels },
            locks: { ...this.locks },
          };
        },
      }),
      lock: defineAction({
        description: 'Lock an output for this agent, unlock it, or force-unlock a lock held by another client.',
        params: Type.Object(
          {
            output: num(1, 'Output number, 1-based.'),
            state: Type.Union([Type.Literal('lock'), Type.Literal('unlock'), Type.Literal('force_unlock')]),
          },
          { additionalProperties: false },
        ),
        run: async (p, { signal }) => {
          this.checkOutput(p.output);
          await this.send(
            `${p.state} output ${p.output}`,
            encodeLock(p.output - 1, p.state),
            { header: 'VIDEO OUTPUT LOCKS', output: p.output },
            signal,
          );
          return { output: p.output, lock: this.locks[String(p.output)] ?? null };
        },
      }),
      'label.set': defineAction({
        description: 'Rename an input or output on the device.',
        params: Type.Object(
          {
            kind: Type.Union([Type.Literal('input'), Type.Literal('output')]),
            index: num(1, 'Input or output number, 1-based.'),
            label: Type.String({ minLength: 1, maxLength: 64 }),
          },
          { additionalProperties: false },
        ),
        run: async (p, { signal }) => {
          const max = p.kind === 'input' ? this.inputs : this.outputs;
          if (p.index > max) throw new AgentError('INVALID_PARAMS', `${p.kind} ${p.index} does not exist (1..${max})`);
          const header = p.kind === 'input' ? 'INPUT LABELS' : 'OUTPUT LABELS';
          await this.send(`label ${p.kind} ${p.index}`, encodeLabel(p.kind, p.index - 1, p.label), { header }, signal);
          const table = p.kind === 'input' ? this.inputLabels : this.outputLabels;
          return { kind: p.kind, index: p.index, label: table[String(p.index)] ?? null };
        },
      }),
    };
  }
}
