// The VISCA camera driver: link per framing, the lifecycle hooks (handshake,
// probe) and state. The host's device lifecycle (ctx.connect) connects,
// retries and sets the status; actions live in actions.ts, the wire
// conversation in session.ts.
import net from 'node:net';
import type { ActionContext, DeviceInstance, DriverContext } from '../../src/host/contract.js';
import { MotionState, presetName, resolvePreset } from '../../src/host/kinds.js';
import type { Link } from '../../src/transport/link.js';
import { simulatedSerialPorts } from '../../src/transport/simulated-ports.js';
import { SerialLink, TcpLink, UdpLink } from '../../src/transport/index.js';
import { ConfigFault, type DeviceConnection } from '../../src/transport/lifecycle.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { buildActions } from './actions.js';
import { DEFAULT_PORTS, type ViscaConfig } from './config.js';
import { type CameraProfile, PROFILES, presetByte } from './profiles.js';
import { encode, inquiry, type PresetOp } from './protocol.js';
import { ViscaSession } from './session.js';
import { SharedUdpLink } from './shared-udp.js';

const GARBAGE_LOG_INTERVAL_MS = 10_000;

/** A preset as this camera knows it: its number, its name in the presets map (or null) and its wire byte. */
export interface CameraPreset {
  readonly number: number;
  readonly name: string | null;
  readonly byte: number;
}

/** A preset command as sent: its label (errors, logs) and its packet. */
export interface PresetCommand {
  readonly label: string;
  readonly bytes: Buffer;
}

export class ViscaCamera implements DeviceInstance {
  readonly profile: CameraProfile;
  readonly session: ViscaSession;
  readonly actions;
  private readonly link: Link;
  private conn: DeviceConnection | null = null;
  private readdressing: Promise<void> | null = null;
  private stopped = false;
  private garbageSince = 0;
  private garbageLoggedAt = Number.NEGATIVE_INFINITY;
  /** `moving`: commands whose motion ends with their Completion, and a drive until `stop`. */
  readonly motion: MotionState;
  private readonly presetsByNumber = new Map<number, CameraPreset>();
  private readonly presetsByName = new Map<string, CameraPreset>();
  /** By operation, indexed by the preset's wire byte. */
  private readonly presetCommands: Record<PresetOp, (PresetCommand | undefined)[]> = { recall: [], set: [], reset: [] };

  constructor(
    readonly config: ViscaConfig,
    readonly ctx: DriverContext,
  ) {
    this.profile = PROFILES[config.profile];
    this.validate();
    this.link = this.makeLink();
    this.motion = new MotionState((patch) => ctx.setState(patch));
    const clock = ctx.clock;
    this.session = new ViscaSession({
      framing: config.framing,
      address: config.address,
      write: (b) => this.link.write(b),
      clock,
      logger: ctx.logger,
      replyTimeoutMs: config.reply_timeout_ms,
      retries: config.retries,
      completionTimeoutMs: config.completion_timeout_ms,
      busyRetryMs: config.busy_retry_ms,
      maxQueue: 64,
      onUnresponsive: (reason) => this.unresponsive(reason),
      onNetworkChange: () => this.networkChange(),
      onGarbage: (n, sample) => this.garbage(n, sample),
    });
    this.actions = buildActions(this);
  }

  /**
   * Named presets resolve to camera preset numbers (the kind contract's lookup, docs/kinds.md).
   * The config is fixed for this instance: each preset a caller used is resolved once and kept
   * (frozen), by number and by name (at most the profile's presets and the config's names).
   */
  resolvePreset(ref: number | string): CameraPreset {
    const known = typeof ref === 'number' ? this.presetsByNumber.get(ref) : this.presetsByName.get(ref);
    if (known) return known;
    const { number, name } = resolvePreset(ref, this.config.presets);
    const b = presetByte(this.profile, number);
    if (!b.ok) throw new AgentError('INVALID_PARAMS', b.error);
    const preset: CameraPreset = Object.freeze({ number, name, byte: b.byte });
    if (typeof ref === 'number') this.presetsByNumber.set(ref, preset);
    else if (name === ref) this.presetsByName.set(ref, preset);
    return preset;
  }

  /**
   * A preset command's label and bytes, made once per preset and operation. The bytes are
   * never written to after they are made, so every send may pass the same buffer (a link
   * that keeps it until sent sees it unchanged).
   */
  presetCommand(preset: CameraPreset, op: PresetOp): PresetCommand {
    const made = this.presetCommands[op];
    let c = made[preset.byte];
    if (c === undefined) {
      const packet = encode.preset(this.config.address, op, preset.byte);
      // A buffer of its own, not a slice of Node's shared pool (a kept slice would keep the pool's 8 KB).
      const bytes = Buffer.alloc(packet.length);
      packet.copy(bytes);
      c = Object.freeze({ label: `preset ${op} ${preset.number}`, bytes });
      made[preset.byte] = c;
    }
    return c;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.ctx.setState({ power: null, last_preset: null, last_preset_name: null, position: null, moving: false });
    this.link.on('data', (chunk) => this.session.receive(chunk));
    this.conn = this.ctx.connect(this.link, {
      handshake: () => this.handshake(),
      probe: () => this.probe(),
      probeIntervalMs: this.config.poll_interval_ms,
      // Each inquiry of the probe may be resent `retries` times before the camera counts as silent.
      probeTimeoutMs: this.config.reply_timeout_ms * (this.config.retries + 1),
      onDown: (reason) => {
        // Nothing queued survives a lost camera: a move must not fire minutes later.
        this.motion.reset(false);
        this.session.failAll(new DeviceError(`camera link lost: ${reason}`, 'DEVICE_OFFLINE'));
      },
    });
    this.conn.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.session.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
    await this.conn?.stop();
    this.conn = null;
    this.link.removeAllListeners();
  }

  /** Reads pan/tilt and zoom and publishes them. */
  async readPosition(action?: ActionContext): Promise<{ pan: number; tilt: number; zoom: number }> {
    const a = this.config.address;
    const pt = inquiry.panTilt(await this.session.inquiry('pan-tilt position inquiry', encode.inqPanTilt(a), { action }));
    const zoom = inquiry.zoom(await this.session.inquiry('zoom position inquiry', encode.inqZoom(a), { action }));
    if (!pt || zoom === null) throw new DeviceError('camera sent a malformed position reply', 'DEVICE_ERROR');
    const position = { pan: pt.pan, tilt: pt.tilt, zoom };
    this.ctx.setState({ position });
    return position;
  }

  private validate(): void {
    const c = this.config;
    const bad = (msg: string) => new AgentError('INVALID_PARAMS', msg);
    if (c.framing === 'serial' && !c.path) throw bad('framing "serial" needs path (e.g. /dev/ttyUSB0)');
    if (c.framing !== 'serial' && !c.host) throw bad(`framing "${c.framing}" needs host`);
    // UDP replies are matched on the sender's address, so a name would never match.
    if (c.framing.endsWith('udp') && c.host && net.isIP(c.host) === 0 && c.host !== 'localhost') {
      throw bad(`framing "${c.framing}" needs host as an IP address (got "${c.host}")`);
    }
    if (c.local_port !== 0 && c.framing !== 'sony-udp') throw bad('local_port applies to framing "sony-udp" only');
    for (const [name, n] of Object.entries(c.presets ?? {})) {
      const b = presetByte(this.profile, n);
      if (!b.ok) throw bad(`presets.${name}: ${b.error}`);
    }
    if ((c.pan_speed ?? 1) > this.profile.panSpeedMax)
      throw bad(`pan_speed: ${this.profile.name} cameras accept 1–${this.profile.panSpeedMax}`);
    if ((c.tilt_speed ?? 1) > this.profile.tiltSpeedMax) {
      throw bad(`tilt_speed: ${this.profile.name} cameras accept 1–${this.profile.tiltSpeedMax}`);
    }
  }

  private makeLink(): Link {
    const c = this.config;
    const common = { logger: this.ctx.logger, clock: this.ctx.clock };
    switch (c.framing) {
      case 'sony-udp': {
        const target = { host: c.host!, port: c.port ?? DEFAULT_PORTS['sony-udp'] };
        // A fixed local port (52381) is shared by every camera that asks for it.
        if (c.local_port !== 0) return new SharedUdpLink({ ...common, ...target, localPort: c.local_port });
        return new UdpLink({ ...common, ...target, connected: true });
      }
      case 'raw-udp':
        return new UdpLink({ ...common, host: c.host!, port: c.port ?? DEFAULT_PORTS['raw-udp'], connected: true });
      case 'raw-tcp':
        return new TcpLink({ ...common, host: c.host!, port: c.port ?? DEFAULT_PORTS['raw-tcp'] });
      case 'serial':
        return new SerialLink({ ...common, path: c.path!, baudRate: c.baud_rate, binding: simulatedSerialPorts.get(c.path!) });
    }
  }

  /**
   * The lifecycle's handshake: proves the camera answers. Sony: RESET of the
   * sequence number first; serial: AddressSet + IF_Clear; then the power and
   * last-preset inquiries and the position. Any answer proves the camera is
   * there: an inquiry answered with an error (e.g. "not executable" in
   * standby) does not keep it offline, or it could never be powered on.
   */
  private async handshake(): Promise<string> {
    const a = this.config.address;
    if (this.config.framing === 'sony-udp') await this.session.reset();
    if (this.config.framing === 'serial') await this.addressChain();
    const powerData = await answered(this.session.inquiry('power inquiry', encode.inqPower(a)));
    const power = powerData ? inquiry.power(powerData) : null;
    const lastData = await answered(this.session.inquiry('last preset inquiry', encode.inqLastPreset(a)));
    const last = lastData ? inquiry.lastPreset(lastData) : undefined;
    const patch: Record<string, unknown> = { power };
    if (typeof last === 'number') {
      const number = last + this.profile.presetOffset;
      patch.last_preset = number;
      patch.last_preset_name = presetName(number, this.config.presets);
    }
    this.ctx.setState(patch);
    if (power === 'on') await answered(this.readPosition());
    const first = this.config.framing === 'sony-udp' ? 'RESET, ' : this.config.framing === 'serial' ? 'AddressSet, ' : '';
    return `connected to ${this.link.describe()} (${first}power ${power ?? 'unknown'})`;
  }

  /** Serial: AddressSet and IF_Clear broadcasts; a camera address beyond the chain is a config fault. */
  private async addressChain(): Promise<void> {
    const a = this.config.address;
    const next = await this.session.broadcast('AddressSet', encode.addressSetBroadcast(), (m) =>
      m.type === 'address-set' ? m.next : undefined,
    );
    if (next - 1 < a) throw new ConfigFault(`address ${a} is not on the chain: AddressSet found ${next - 1} camera(s)`);
    await this.session.broadcast('IF_Clear', encode.ifClearBroadcast(), (m) =>
      m.type === 'if-clear-broadcast' ? true : undefined,
    );
  }

  /**
   * The lifecycle's probe, `poll_interval_ms` after the previous one ended:
   * the power inquiry (the cheapest), and the position unless in standby. It
   * runs whatever else is pending: a long move, or a drive whose Completion
   * never comes, is silence from the camera. Rejects only on silence (the
   * lifecycle then reconnects); an error answer is an answer.
   */
  private async probe(): Promise<void> {
    // Power can change behind our back (IR remote, another controller).
    const data = await answered(this.session.inquiry('power inquiry', encode.inqPower(this.config.address)));
    const power = data ? inquiry.power(data) : null;
    if (power) this.ctx.setState({ power });
    if (power !== 'standby') await answered(this.readPosition());
  }

  /**
   * A message got no reply after all resends. The lifecycle's rules decide
   * what that means: a handshake or probe message fails its hook (offline at
   * once); an action's timeout is counted by the host, and
   * `timeouts_before_reconnect` of them in a row reconnect. One slow answer is
   * not a dead camera.
   */
  private unresponsive(reason: string): void {
    if (!this.stopped) this.ctx.logger.debug({ reason }, 'no reply after all resends');
  }

  private networkChange(): void {
    if (this.config.framing !== 'serial') {
      this.ctx.logger.debug('network change message ignored (IP framing)');
      return;
    }
    if (!this.conn?.online || this.readdressing) return;
    this.ctx.logger.info('network change: re-addressing the chain');
    this.readdressing = this.addressChain()
      .catch((e) => {
        if (e instanceof ConfigFault) this.conn?.fault(e.message);
        else this.conn?.fail(`re-addressing after a network change failed: ${errorMessage(e)}`);
      })
      .finally(() => {
        this.readdressing = null;
      });
  }

  private garbage(n: number, sample: string): void {
    this.garbageSince += n;
    const now = this.ctx.clock.now();
    if (now - this.garbageLoggedAt < GARBAGE_LOG_INTERVAL_MS) return;
    // One summary per 10 s here; the device's noise log caps the lines across driver restarts too.
    this.ctx.deviceNoise.warn('garbage', { bytes: this.garbageSince, sample }, 'camera sent bytes that are not VISCA; skipped');
    this.garbageLoggedAt = now;
    this.garbageSince = 0;
  }
}

/** Resolves undefined when the camera answered with an error: only silence (timeout, link loss) rejects. */
async function answered<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof DeviceError && e.code !== 'DEVICE_TIMEOUT' && e.code !== 'DEVICE_OFFLINE') return undefined;
    throw e;
  }
}
