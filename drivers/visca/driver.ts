// The VISCA camera driver: link per framing, handshake, liveness polling,
// status and state. Actions live in actions.ts; the wire conversation in session.ts.
import net from 'node:net';
import type { DeviceInstance, DriverContext } from '../../src/host/contract.js';
import { MotionState, presetName, resolvePreset } from '../../src/host/kinds.js';
import type { Link } from '../../src/transport/link.js';
import type { BindingInterface } from '../../src/transport/serial.js';
import { SerialLink, TcpLink, UdpLink } from '../../src/transport/index.js';
import type { TimerHandle } from '../../src/util/clock.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { buildActions } from './actions.js';
import { DEFAULT_PORTS, type ViscaConfig } from './config.js';
import { type CameraProfile, PROFILES, presetByte } from './profiles.js';
import { encode, inquiry } from './protocol.js';
import { ViscaSession } from './session.js';
import { SharedUdpLink } from './shared-udp.js';

/** Binding-mock ports of simulated serial cameras, by path (see serial-sim.ts). */
export const simulatedSerialBindings = new Map<string, BindingInterface>();

const GARBAGE_LOG_INTERVAL_MS = 10_000;

export class ViscaCamera implements DeviceInstance {
  readonly profile: CameraProfile;
  readonly session: ViscaSession;
  readonly actions;
  private readonly link: Link;
  private pollTimer: TimerHandle | null = null;
  private handshaking: Promise<void> | null = null;
  private online = false;
  private stopped = false;
  private garbageSince = 0;
  private garbageLoggedAt = Number.NEGATIVE_INFINITY;
  /** `moving`: commands whose motion ends with their Completion, and a drive until `stop`. */
  readonly motion: MotionState;

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

  /** Named presets resolve to camera preset numbers (the kind contract's lookup, docs/kinds.md). */
  resolvePreset(ref: number | string): { number: number; name: string | null; byte: number } {
    const { number, name } = resolvePreset(ref, this.config.presets);
    const b = presetByte(this.profile, number);
    if (!b.ok) throw new AgentError('INVALID_PARAMS', b.error);
    return { number, name, byte: b.byte };
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.ctx.setState({ power: null, last_preset: null, last_preset_name: null, position: null, moving: false });
    this.link.on('up', (info) => {
      this.ctx.logger.debug({ link: info }, 'link up');
      void this.handshake(`connected to ${info}`);
    });
    this.link.on('down', (reason) => {
      if (this.stopped) return;
      this.setOffline(`${this.link.describe()}: ${reason}`);
      this.session.failAll(new DeviceError(`camera link lost: ${reason}`, 'DEVICE_OFFLINE'));
    });
    this.link.on('data', (chunk) => this.session.receive(chunk));
    this.link.start();
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ctx.clock.clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.session.failAll(new DeviceError('driver stopped', 'DEVICE_OFFLINE'));
    await this.link.stop();
    this.link.removeAllListeners();
  }

  /** Reads pan/tilt and zoom and publishes them. */
  async readPosition(signal?: AbortSignal): Promise<{ pan: number; tilt: number; zoom: number }> {
    const a = this.config.address;
    const pt = inquiry.panTilt(await this.session.inquiry('pan-tilt position inquiry', encode.inqPanTilt(a), { signal }));
    const zoom = inquiry.zoom(await this.session.inquiry('zoom position inquiry', encode.inqZoom(a), { signal }));
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
        return new UdpLink({ ...common, ...target });
      }
      case 'raw-udp':
        return new UdpLink({ ...common, host: c.host!, port: c.port ?? DEFAULT_PORTS['raw-udp'] });
      case 'raw-tcp':
        return new TcpLink({ ...common, host: c.host!, port: c.port ?? DEFAULT_PORTS['raw-tcp'] });
      case 'serial':
        return new SerialLink({ ...common, path: c.path!, baudRate: c.baud_rate, binding: simulatedSerialBindings.get(c.path!) });
    }
  }

  /** Proves the camera answers, then reports online. Sony: RESET first; serial: AddressSet + IF_Clear. */
  private handshake(why: string): Promise<void> {
    this.handshaking ??= this.runHandshake(why).finally(() => {
      this.handshaking = null;
    });
    return this.handshaking;
  }

  private async runHandshake(why: string): Promise<void> {
    const a = this.config.address;
    try {
      if (this.config.framing === 'sony-udp') await this.session.reset();
      if (this.config.framing === 'serial') {
        const next = await this.session.broadcast('AddressSet', encode.addressSetBroadcast(), (m) =>
          m.type === 'address-set' ? m.next : undefined,
        );
        if (next - 1 < a) {
          const msg = `address ${a} is not on the chain: AddressSet found ${next - 1} camera(s)`;
          this.online = false;
          this.ctx.setStatus('error', msg);
          return;
        }
        await this.session.broadcast('IF_Clear', encode.ifClearBroadcast(), (m) =>
          m.type === 'if-clear-broadcast' ? true : undefined,
        );
      }
      // Any answer proves the camera is there; an error reply (e.g. "not
      // executable" in standby) must not keep it offline, or it could never be powered on.
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
      if (this.stopped) return;
      this.online = true;
      this.ctx.setStatus('online', why);
    } catch (e) {
      // A timeout already reported offline through unresponsive(); other errors land here.
      if (!this.stopped && this.online === false) this.ctx.setStatus('offline', `handshake failed: ${errorMessage(e)}`);
    }
  }

  private unresponsive(reason: string): void {
    if (this.stopped) return;
    this.setOffline(`camera not answering: ${reason}`);
    this.session.failAll(new DeviceError(`camera stopped answering (${reason})`, 'DEVICE_OFFLINE'));
  }

  private setOffline(message: string): void {
    this.online = false;
    this.motion.reset(false);
    this.ctx.setStatus('offline', message);
  }

  private networkChange(): void {
    if (this.config.framing !== 'serial') {
      this.ctx.logger.debug('network change message ignored (IP framing)');
      return;
    }
    this.ctx.logger.info('network change: re-addressing the chain');
    void this.handshake('re-addressed after a network change');
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.ctx.clock.setTimeout(() => {
      this.pollTimer = null;
      void this.poll().finally(() => this.schedulePoll());
    }, this.config.poll_interval_ms);
  }

  /** UDP and serial have no connection to lose: an inquiry is the only liveness signal. */
  private async poll(): Promise<void> {
    if (!this.link.connected || this.handshaking) return;
    if (!this.online) return this.handshake('answering again');
    // A message from the camera within the last period already proves it is there. Pending
    // commands alone do not: a long move, or a drive whose Completion never comes, is silence.
    if (this.ctx.clock.now() - this.session.lastHeardAt < this.config.poll_interval_ms) return;
    try {
      // Power can change behind our back (IR remote, another controller).
      const data = await answered(this.session.inquiry('power inquiry', encode.inqPower(this.config.address)));
      const power = data ? inquiry.power(data) : null;
      if (power) this.ctx.setState({ power });
      if (power !== 'standby') await this.readPosition();
    } catch {
      // Timeouts are handled by unresponsive(); error replies and malformed data are just skipped.
    }
  }

  private garbage(n: number, sample: string): void {
    this.garbageSince += n;
    const now = this.ctx.clock.now();
    if (now - this.garbageLoggedAt < GARBAGE_LOG_INTERVAL_MS) return;
    this.ctx.logger.warn({ bytes: this.garbageSince, sample }, 'camera sent bytes that are not VISCA; skipped');
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
