// Extron SIS driver over Telnet (IAC answered and stripped, password login)
// or RS-232. Every connect: verbose mode 3, matrix size, then every tie is
// read back. State comes only from what the switcher reports: tie responses,
// reads, and a full re-read after `Qik` / `Rpr` (they do not say what changed).
import { Type } from '@sinclair/typebox';
import type { ActionDefinition, DeviceInstance, DriverContext } from '../../src/host/contract.js';
import { defineAction } from '../../src/host/contract.js';
import { ConfigFault, type DeviceConnection } from '../../src/transport/lifecycle.js';
import type { Link } from '../../src/transport/link.js';
import { CommandQueue } from '../../src/transport/queue.js';
import { pickLink } from '../../src/transport/pick-link.js';
import type { BindingInterface } from '../../src/transport/serial.js';
import { TelnetFilter } from '../../src/transport/telnet.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { matrixState, type RouteTable } from '../../src/util/matrix-state.js';
import type { ExtronSisConfig } from './config.js';
import {
  encodePresetRecall,
  encodePresetSave,
  encodeReadTie,
  encodeTie,
  encodeVerbose,
  FIRMWARE,
  INFO,
  type SisLayer,
  type SisMessage,
  SisParser,
} from './protocol.js';

export { ExtronSisConfig } from './config.js';

type Table = RouteTable;
type Expect = (m: SisMessage) => boolean;
/** After the banner, how long a `Password:` prompt may take before we assume there is none. */
const PROMPT_GRACE_MS = 400;
/** With no banner at all (some units, RS-232), start anyway after this long. */
const BANNER_WAIT_MS = 1500;

export class ExtronSisDevice implements DeviceInstance {
  private readonly link: Link;
  private readonly conn: DeviceConnection;
  private readonly telnet: TelnetFilter | null;
  private readonly parser = new SisParser();
  private readonly queue: CommandQueue<SisMessage>;
  private expect: Expect | null = null;
  private phase: 'down' | 'login' | 'init' | 'ready' = 'down';
  private passwordSent = false;
  private loginTimer: TimerHandle | null = null;
  /** Settles the login step of the current handshake. */
  private login: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private rereading: Promise<void> | null = null;
  private rereadAgain = false;
  private inputs = 0;
  private outputs = 0;
  private video: Table = {};
  private audio: Table = {};
  private garbage = 0;
  readonly actions: Record<string, ActionDefinition>;

  constructor(
    private readonly cfg: ExtronSisConfig,
    private readonly ctx: DriverContext,
    opts: { serialBinding?: BindingInterface } = {},
  ) {
    this.link = pickLink(ctx, cfg, { port: 23, baudRate: 9600 }, opts.serialBinding);
    // Telnet only on TCP; RS-232 is plain SIS.
    this.telnet = cfg.transport === 'serial' ? null : new TelnetFilter();
    this.queue = new CommandQueue<SisMessage>({
      timeoutMs: cfg.request_timeout_ms ?? 2000,
      maxPending: ctx.queueMax,
      clock: ctx.clock,
    });
    this.link.on('data', (chunk) => this.onData(chunk));
    this.conn = ctx.connect(this.link, {
      handshake: () => this.handshake(),
      // `Q` (firmware) is Extron's recommended keep-alive (Extron SIS: MTPX Plus 6400 setup guide p.21, DXP DVI Pro user guide p.56); an error answer is an answer too.
      probe: () => this.request('liveness probe', FIRMWARE, (m) => m.kind === 'value' || m.kind === 'error'),
      probeIntervalMs: cfg.keepalive_ms ?? 60_000,
      probeTimeoutMs: cfg.request_timeout_ms ?? 2000,
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
    this.clearTimers();
  }

  /** Login (banner, password when asked), then verbose mode, size and every tie. */
  private async handshake(): Promise<string> {
    this.passwordSent = false;
    this.phase = 'login';
    const loggedIn = new Promise<void>((resolve, reject) => {
      this.login = { resolve, reject };
    });
    // RS-232 has no banner or password: go straight to the set-up.
    this.armLogin(this.telnet ? BANNER_WAIT_MS : 0);
    await loggedIn;
    return this.setup();
  }

  private onDown(reason: string): void {
    this.phase = 'down';
    this.parser.reset();
    this.telnet?.reset();
    this.clearTimers();
    this.login?.reject(new DeviceError(`connection lost: ${reason}`, 'DEVICE_OFFLINE'));
    this.login = null;
    this.queue.failAll(new DeviceError(`connection lost: ${reason}`, 'DEVICE_OFFLINE'));
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    if (this.telnet) {
      const f = this.telnet.push(chunk);
      if (f.reply) this.link.write(f.reply); // refuse every option: WONT / DONT
      data = f.data;
    }
    for (const m of this.parser.push(data)) this.onMessage(m);
  }

  private onMessage(m: SisMessage): void {
    if (this.phase === 'login') return void this.onLoginMessage(m);
    switch (m.kind) {
      case 'garbage':
        this.garbage++;
        this.ctx.deviceNoise.warn(
          'garbage',
          { text: m.text.slice(0, 200), total: this.garbage },
          'extron: ignored unreadable data',
        );
        return;
      case 'tie':
        this.applyTie(m.output, m.input, m.layer);
        break;
      case 'tie_all':
        for (let o = 1; o <= this.outputs; o++) this.applyTie(o, m.input, m.layer, false);
        this.publish();
        break;
      case 'banner':
        // Power-on banner mid-session: the switcher rebooted and forgot our verbose mode.
        if (this.phase === 'ready') {
          this.ctx.logger.info({ banner: m.text }, 'extron: switcher restarted, setting it up again');
          this.queue.failAll(new DeviceError('switcher restarted', 'DEVICE_ERROR'));
          this.setup().catch((e: unknown) => this.conn.fail(`set-up after the switcher restarted failed: ${errorMessage(e)}`));
        }
        return;
      default:
        break;
    }
    if (this.expect?.(m)) {
      this.expect = null;
      if (m.kind === 'error') this.queue.rejectCurrent(new DeviceError(`switcher answered ${m.code}: ${m.message}`));
      else this.queue.resolveCurrent(m);
      // Our own recall: the preset.recall action reads the ties back itself.
      return;
    }
    if (m.kind === 'qik' || (m.kind === 'preset' && m.op === 'recall')) {
      // Front-panel or other-port change: it does not say what changed, so read everything again.
      this.scheduleReread();
    } else if (m.kind === 'error') {
      this.ctx.logger.warn({ code: m.code, meaning: m.message }, 'extron: error with no request in flight');
    } else if (m.kind !== 'tie' && m.kind !== 'tie_all') {
      this.ctx.logger.debug({ message: m }, 'extron: unsolicited message');
    }
  }

  private onLoginMessage(m: SisMessage): void {
    if (m.kind === 'password_prompt') {
      if (!this.cfg.password) return void this.authFailed('the switcher asks for a password; set "password" for this device');
      // Asked again: the switcher did not accept the one we sent (its words: a second `Password:`).
      if (this.passwordSent) return void this.authFailed('the switcher rejected the password (asked for it again)');
      this.passwordSent = true;
      this.link.write(`${this.cfg.password}\r`);
      this.armLogin(BANNER_WAIT_MS * 2);
    } else if (m.kind === 'login') {
      this.finishLogin(`logged in as ${m.role}`);
    } else if (m.kind === 'banner') {
      this.ctx.setState({ model: m.model, firmware: m.firmware });
      if (!this.passwordSent) this.armLogin(PROMPT_GRACE_MS);
    } else if (m.kind === 'error' && this.passwordSent) {
      this.authFailed(`the switcher answered the password with ${m.code}`);
    }
  }

  private armLogin(ms: number): void {
    this.ctx.clock.clearTimeout(this.loginTimer);
    this.loginTimer = this.ctx.clock.setTimeout(() => {
      this.loginTimer = null;
      if (this.phase !== 'login') return;
      if (this.passwordSent) this.login?.reject(new DeviceError('no answer to the password', 'DEVICE_TIMEOUT'));
      else this.finishLogin('no password asked');
    }, ms);
  }

  private finishLogin(how: string): void {
    this.ctx.clock.clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.ctx.logger.debug({ how }, 'extron: session open');
    this.login?.resolve();
    this.login = null;
  }

  /** A rejected or missing password: the lifecycle shows auth_failure and retries at its longest interval. */
  private authFailed(message: string): void {
    this.login?.reject(new ConfigFault(message, 'auth_failure'));
    this.login = null;
  }

  /** Verbose mode 3 (set again on every connect), size, ties; resolves with the online message. */
  private async setup(): Promise<string> {
    this.phase = 'init';
    await this.request('verbose mode 3', encodeVerbose(3), (m) => m.kind === 'verbose' || m.kind === 'error');
    const size = await this.request('matrix size', INFO, (m) => m.kind === 'size' || m.kind === 'error');
    if (size.kind === 'size') {
      this.inputs = this.cfg.inputs ?? size.videoInputs;
      this.outputs = this.cfg.outputs ?? size.videoOutputs;
    } else {
      this.inputs = this.cfg.inputs ?? 0;
      this.outputs = this.cfg.outputs ?? 0;
    }
    if (!this.inputs || !this.outputs)
      throw new ConfigFault(
        `the switcher did not report its size (\`I\` answered ${size.kind === 'error' ? size.code : size.kind}); set "inputs" and "outputs"`,
      );
    const fw = await this.request('firmware', FIRMWARE, (m) => m.kind === 'value' || m.kind === 'error');
    if (fw.kind === 'value') this.ctx.setState({ firmware: fw.text });
    this.video = {};
    this.audio = {};
    await this.readAllTies();
    this.phase = 'ready';
    return `${this.inputs}x${this.outputs} switcher at ${this.link.describe()}`;
  }

  /** Reads every tie. Replies are applied as they arrive (in onMessage), so a change reported by
   * the switcher during the read is never overwritten by an older answer. */
  private async readAllTies(): Promise<void> {
    for (let o = 1; o <= this.outputs; o++) {
      for (const layer of ['video', 'audio'] as const) {
        const m = await this.request(`read ${layer} tie of output ${o}`, encodeReadTie(o, layer), (x) => isReadReply(x, o));
        // Untagged answer (`07`), e.g. when the verbose mode did not stick: apply it here.
        if (m.kind === 'value') this.applyTie(o, Number(m.text), layer, false);
      }
    }
    this.publish();
  }

  private scheduleReread(): void {
    if (this.phase !== 'ready') return;
    if (this.rereading) {
      this.rereadAgain = true;
      return;
    }
    this.rereading = this.readAllTies()
      .catch((e) => this.ctx.logger.warn({ err: errorMessage(e) }, 'extron: re-reading the ties failed'))
      .finally(() => {
        this.rereading = null;
        if (this.rereadAgain) {
          this.rereadAgain = false;
          this.scheduleReread();
        }
      });
  }

  private clearTimers(): void {
    this.ctx.clock.clearTimeout(this.loginTimer);
    this.loginTimer = null;
  }

  private request(label: string, command: string, expect: Expect, signal?: AbortSignal): Promise<SisMessage> {
    return this.queue.request(
      label,
      () => {
        this.expect = (m) => m.kind === 'error' || expect(m);
        this.link.write(command);
      },
      { signal },
    );
  }

  private applyTie(output: number, input: number, layer: SisLayer, publish = true): void {
    const value = input === 0 ? null : input;
    if (layer !== 'audio') this.video[String(output)] = value;
    if (layer !== 'video') this.audio[String(output)] = value;
    if (publish && this.phase === 'ready') this.publish();
  }

  private publish(): void {
    this.ctx.setState(
      matrixState({
        inputs: this.inputs,
        outputs: this.outputs,
        video: this.video,
        audio: this.audio,
        inputLabels: this.cfg.input_labels ?? [],
        outputLabels: this.cfg.output_labels ?? [],
      }),
    );
  }

  private defineActions(): Record<string, ActionDefinition> {
    const presetParams = Type.Object(
      { preset: Type.Integer({ minimum: 1, maximum: 999, description: 'Global preset number.' }) },
      { additionalProperties: false },
    );
    return {
      route: defineAction({
        description: 'Tie an input to an output (1-based); input 0 unties. layer: av (video + audio), video or audio.',
        params: Type.Object(
          {
            input: Type.Integer({ minimum: 0, maximum: 999, description: 'Input number; 0 = untie.' }),
            output: Type.Integer({ minimum: 1, maximum: 999, description: 'Output number.' }),
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
          const m = await this.request(
            `tie input ${p.input} to output ${p.output} (${layer})`,
            encodeTie(p.input, p.output, layer),
            (x) => x.kind === 'tie' && x.output === p.output,
            signal,
          );
          return m.kind === 'tie' ? { output: m.output, input: m.input || null, layer: m.layer } : m;
        },
      }),
      routes: defineAction({
        description: 'Read every tie back from the switcher (output → input per layer; null = untied).',
        params: Type.Object({}, { additionalProperties: false }),
        readOnly: true,
        run: async () => {
          await this.readAllTies();
          return { video: { ...this.video }, audio: { ...this.audio } };
        },
      }),
      'preset.recall': defineAction({
        description: 'Recall a global preset (`n.`); the ties are then read back.',
        params: presetParams,
        run: async (p, { signal }) => {
          await this.request(`recall preset ${p.preset}`, encodePresetRecall(p.preset), (x) => x.kind === 'preset', signal);
          await this.readAllTies();
          return { preset: p.preset, video: { ...this.video }, audio: { ...this.audio } };
        },
      }),
      'preset.save': defineAction({
        description: 'Save the current ties as a global preset (`n,`).',
        params: presetParams,
        run: async (p, { signal }) => {
          await this.request(`save preset ${p.preset}`, encodePresetSave(p.preset), (x) => x.kind === 'preset', signal);
          return { preset: p.preset };
        },
      }),
    };
  }
}

function isReadReply(m: SisMessage, output: number): boolean {
  return (m.kind === 'tie' && m.output === output) || (m.kind === 'value' && /^\d+$/.test(m.text));
}
