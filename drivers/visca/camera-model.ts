// The simulated camera's behaviour, independent of framing: two command
// sockets, motion that takes time and ends with a Completion, power standby,
// presets, and inquiry answers built from the simulated position
// (ACK then Completion per socket: EVI-H100S command list p.29; preset
// ranges and speeds per camera model: sim-models.ts, from the vendors' command
// lists). simulator.ts puts it on real sockets. Requests and replies come from
// sim-codec.ts (the Sony command list), not from the driver.
import {
  type CameraRequest,
  cameraReply as reply,
  ERROR_CODE,
  isSocketCommand,
  type SocketCommand,
  toNibbles,
} from './sim-codec.js';
import { type SimulatedModel, type SimulatedModelName, simulatedModel } from './sim-models.js';

export interface Position {
  pan: number;
  tilt: number;
  zoom: number;
}

/** Sony BRC-X400 ranges [PROTOCOLS §1.1]. */
export const LIMITS = { panMin: -0x2200, panMax: 0x2200, tiltMin: -0x400, tiltMax: 0x1200, zoomMax: 0x7ac0 };

interface Job {
  socket: number;
  timer: NodeJS.Timeout | null;
  /** Called when the motion ends (position update + Completion). */
  finish: () => void;
  /** Held by another controller (occupySockets): never completes by itself. */
  foreign: boolean;
}

type Send = (bytes: Buffer) => void;

export interface CameraModelOptions {
  address?: number;
  /** Which camera this is (preset numbers, speed ranges); default Sony. */
  model?: SimulatedModel | SimulatedModelName;
  /** How long a preset recall / home / absolute / zoom-direct move takes (ms). 0 = Completion right after the ACK. */
  motionMs?: number;
  chainPosition?: number;
  chainLength?: number;
}

/** A preset nobody stored still goes somewhere distinct (deterministic per preset byte). */
export function factoryPreset(byte: number): Position {
  return {
    pan: ((byte * 977) % (LIMITS.panMax * 2 + 1)) + LIMITS.panMin,
    tilt: ((byte * 311) % (LIMITS.tiltMax - LIMITS.tiltMin + 1)) + LIMITS.tiltMin,
    zoom: (byte * 613) % 0x4001,
  };
}

export class CameraModel {
  address: number;
  readonly camera: SimulatedModel;
  motionMs: number;
  private readonly chainPosition: number;
  private readonly chainLength: number;
  power: 'on' | 'standby' = 'on';
  lastPresetByte: number | null = null;
  /** When set, every inquiry is answered with this error code (e.g. 0x41 as some cameras do in standby). */
  inquiryError: number | null = null;
  readonly presets = new Map<number, Position>();
  private pos: Position = { pan: 0, tilt: 0, zoom: 0 };
  private move: { from: Position; to: Position; start: number; end: number } | null = null;
  private drive: { pan: number; tilt: number; since: number } | null = null;
  private zoomDrive: { dir: number; speed: number; since: number } | null = null;
  private readonly sockets: (Job | null)[] = [null, null];

  constructor(o: CameraModelOptions = {}) {
    this.address = o.address ?? 1;
    this.camera = simulatedModel(o.model);
    this.motionMs = o.motionMs ?? 1000;
    this.chainPosition = o.chainPosition ?? 1;
    this.chainLength = Math.max(o.chainLength ?? this.chainPosition, this.chainPosition);
  }

  /** Current position, including any move or drive in progress. */
  get position(): Position {
    this.integrate();
    const now = Date.now();
    const m = this.move;
    if (m && m.end > now) {
      const f = (now - m.start) / Math.max(1, m.end - m.start);
      const lerp = (a: number, b: number) => Math.round(a + (b - a) * f);
      return { pan: lerp(m.from.pan, m.to.pan), tilt: lerp(m.from.tilt, m.to.tilt), zoom: lerp(m.from.zoom, m.to.zoom) };
    }
    return { ...this.pos };
  }

  get busySockets(): number {
    return this.sockets.filter(Boolean).length;
  }

  /** Fill `n` sockets as if another controller were running long moves (buffer-full tests). */
  occupySockets(n: number): void {
    for (let i = 0; i < this.sockets.length && n > 0; i++) {
      if (this.sockets[i]) continue;
      this.sockets[i] = { socket: i + 1, timer: null, finish: () => undefined, foreign: true };
      n--;
    }
  }
  releaseSockets(): void {
    for (let i = 0; i < this.sockets.length; i++) if (this.sockets[i]?.foreign) this.sockets[i] = null;
  }

  /** Handles one request; replies go to `send` (now and when a move ends). */
  handle(req: CameraRequest, send: Send) {
    const a = this.address;
    if (req.kind === 'malformed') return send(reply.error(a, 0, ERROR_CODE.messageLength));
    if (req.kind === 'unknown') return send(reply.error(a, 0, ERROR_CODE.syntax));
    if (req.kind === 'address-set') {
      // The cameras before us in the chain take the lower addresses.
      this.address = req.next + this.chainPosition - 1;
      return send(reply.addressSet(req.next + this.chainLength));
    }
    if (req.kind === 'if-clear') {
      this.clearSockets();
      return send(req.address === 8 ? reply.ifClearBroadcast() : reply.data(a, []));
    }
    if (req.kind === 'cancel') return this.cancel(req.socket, send);
    if (req.kind === 'inquiry') {
      return send(this.inquiryError ? reply.error(a, 0, this.inquiryError) : reply.data(a, this.inquiry(req.what)));
    }
    if (!isSocketCommand(req)) return send(reply.error(a, 0, ERROR_CODE.syntax));
    if (!this.valid(req)) return send(reply.error(a, 0, ERROR_CODE.syntax));
    const free = this.sockets.indexOf(null);
    if (free < 0) return send(reply.error(a, 0, ERROR_CODE.bufferFull));
    const socket = free + 1;
    send(reply.ack(a, socket));
    if (this.power === 'standby' && req.kind !== 'power') return send(reply.error(a, socket, ERROR_CODE.notExecutable));
    this.run(req, socket, send);
  }

  private run(req: SocketCommand, socket: number, send: Send) {
    const a = this.address;
    const complete = () => send(reply.completion(a, socket));
    switch (req.kind) {
      case 'preset':
        if (req.op === 'set') this.presets.set(req.byte, this.position);
        if (req.op === 'reset') this.presets.delete(req.byte);
        if (req.op !== 'recall') return complete();
        this.lastPresetByte = req.byte;
        return this.moveTo(this.presets.get(req.byte) ?? factoryPreset(req.byte), socket, complete);
      case 'home':
        return this.moveTo({ pan: 0, tilt: 0, zoom: this.position.zoom }, socket, complete);
      case 'absolute':
        return this.moveTo({ ...this.position, pan: req.pan, tilt: req.tilt }, socket, complete);
      case 'relative': {
        // RelativePosition moves by the given amounts from where the camera is, within its range.
        const here = this.position;
        const pan = Math.max(LIMITS.panMin, Math.min(LIMITS.panMax, here.pan + req.pan));
        const tilt = Math.max(LIMITS.tiltMin, Math.min(LIMITS.tiltMax, here.tilt + req.tilt));
        return this.moveTo({ ...here, pan, tilt }, socket, complete);
      }
      case 'pan-tilt-reset':
        // Re-initialization ends where it started from: pan/tilt centre.
        return this.moveTo({ ...this.position, pan: 0, tilt: 0 }, socket, complete);
      case 'zoom-direct':
        return this.moveTo({ ...this.position, zoom: req.position }, socket, complete);
      case 'pan-tilt-drive': {
        this.integrate();
        const [dp, dt] = [
          req.direction.includes('left') ? -1 : req.direction.includes('right') ? 1 : 0,
          req.direction.includes('down') ? -1 : req.direction.includes('up') ? 1 : 0,
        ];
        this.drive = req.direction === 'stop' ? null : { pan: dp * req.panSpeed, tilt: dt * req.tiltSpeed, since: Date.now() };
        return complete();
      }
      case 'zoom':
        this.integrate();
        this.zoomDrive =
          req.op === 'stop' ? null : { dir: req.op === 'tele' ? 1 : -1, speed: (req.speed ?? 3) + 1, since: Date.now() };
        return complete();
      case 'power':
        this.power = req.on ? 'on' : 'standby';
        return complete();
      default:
        return complete();
    }
  }

  private moveTo(to: Position, socket: number, complete: () => void) {
    const from = this.position;
    this.drive = null;
    const finish = () => {
      this.pos = to;
      this.move = null;
      this.sockets[socket - 1] = null;
      complete();
    };
    if (this.motionMs <= 0) {
      this.pos = to;
      this.move = null;
      return complete();
    }
    const start = Date.now();
    this.move = { from, to, start, end: start + this.motionMs };
    const job: Job = { socket, timer: null, finish, foreign: false };
    job.timer = setTimeout(finish, this.motionMs);
    this.sockets[socket - 1] = job;
  }

  private cancel(socket: number, send: Send) {
    const job = this.sockets[socket - 1];
    if (!job) return send(reply.error(this.address, socket, ERROR_CODE.noSocket));
    if (job.timer) clearTimeout(job.timer);
    this.pos = this.position;
    this.move = null;
    this.sockets[socket - 1] = null;
    send(reply.error(this.address, socket, ERROR_CODE.canceled));
  }

  private clearSockets(): void {
    for (let i = 0; i < this.sockets.length; i++) {
      const job = this.sockets[i];
      if (job?.timer) clearTimeout(job.timer);
      this.sockets[i] = null;
    }
    this.pos = this.position;
    this.move = null;
  }

  /** Stops timers (simulator shutdown). */
  dispose(): void {
    for (const job of this.sockets) if (job?.timer) clearTimeout(job.timer);
  }

  private valid(req: SocketCommand): boolean {
    const c = this.camera;
    const inRange = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;
    switch (req.kind) {
      case 'preset':
        return c.hasPresetByte(req.byte);
      case 'pan-tilt-drive':
        return inRange(req.panSpeed, c.panSpeed) && inRange(req.tiltSpeed, c.tiltSpeed);
      case 'relative':
        return inRange(req.panSpeed, c.panSpeed);
      case 'absolute':
        return (
          inRange(req.panSpeed, c.panSpeed) &&
          inRange(req.pan, [LIMITS.panMin, LIMITS.panMax]) &&
          inRange(req.tilt, [LIMITS.tiltMin, LIMITS.tiltMax])
        );
      case 'zoom-direct':
        return req.position <= LIMITS.zoomMax;
      default:
        return true;
    }
  }

  private inquiry(what: 'pan-tilt' | 'zoom' | 'power' | 'last-preset' | 'pan-tilt-status'): number[] {
    const pos = this.position;
    switch (what) {
      case 'pan-tilt':
        return [...toNibbles(pos.pan), ...toNibbles(pos.tilt)];
      case 'zoom':
        return toNibbles(pos.zoom);
      case 'power':
        return [this.power === 'on' ? 0x02 : 0x03];
      case 'last-preset':
        return [this.lastPresetByte ?? 0x7f];
      case 'pan-tilt-status':
        // Simplified bit field: 0x04 while a move or drive runs.
        return [this.move || this.drive ? 0x04 : 0x00, 0x00];
    }
  }

  /** Applies continuous pan/tilt/zoom drive up to now. */
  private integrate(): void {
    const now = Date.now();
    const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(v)));
    if (this.drive) {
      const dt = now - this.drive.since;
      this.pos.pan = clamp(this.pos.pan + this.drive.pan * dt * 0.05, LIMITS.panMin, LIMITS.panMax);
      this.pos.tilt = clamp(this.pos.tilt + this.drive.tilt * dt * 0.05, LIMITS.tiltMin, LIMITS.tiltMax);
      this.drive.since = now;
    }
    if (this.zoomDrive) {
      const dt = now - this.zoomDrive.since;
      this.pos.zoom = clamp(this.pos.zoom + this.zoomDrive.dir * this.zoomDrive.speed * dt * 0.5, 0, LIMITS.zoomMax);
      this.zoomDrive.since = now;
    }
  }
}
