// The camera's actions. Schemas are built per camera so speed limits follow
// its profile; motion actions resolve on the camera's Completion, so a caller
// (scenario, director) knows when a preset recall has finished.
import { Type } from '@sinclair/typebox';
import { type ActionContext, type ActionDefinition, defineAction } from '../../src/host/contract.js';
import type { MotionState } from '../../src/host/kinds.js';
import { AgentError } from '../../src/util/errors.js';
import type { CameraPreset, ViscaCamera } from './driver.js';
import { encode, type PanTiltDirection } from './protocol.js';
import type { SendOptions, ViscaSession } from './session.js';

const PresetRef = Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.String({ minLength: 1 })], {
  description: 'Camera preset number (as the camera counts them) or a name from the presets map',
});
const DIRECTIONS: PanTiltDirection[] = ['up', 'down', 'left', 'right', 'up-left', 'up-right', 'down-left', 'down-right', 'stop'];

export function buildActions(cam: ViscaCamera): Record<string, ActionDefinition> {
  const { config, profile, session } = cam;
  const a = config.address;
  const panMax = profile.panSpeedMax;
  const tiltMax = profile.tiltSpeedMax;
  const panDefault = Math.min(config.pan_speed ?? Math.ceil(panMax / 2), panMax);
  const tiltDefault = Math.min(config.tilt_speed ?? Math.ceil(tiltMax / 2), tiltMax);
  // A move may take the whole completion timeout, after the ACK's own wait and resends.
  const motionTimeoutMs = config.completion_timeout_ms + config.reply_timeout_ms * (config.retries + 1) + 1000;
  const PanSpeed = Type.Optional(Type.Integer({ minimum: 1, maximum: panMax, description: `1–${panMax}` }));
  const TiltSpeed = Type.Optional(Type.Integer({ minimum: 1, maximum: tiltMax, description: `1–${tiltMax}` }));

  /** Runs a command whose motion ends with its Completion, keeping `moving` true meanwhile (see Move). */
  const motion = (label: string, bytes: Buffer, action: ActionContext, reached?: CameraPreset): Promise<void> =>
    new Move<void>(cam.motion, action, reached).send(session, label, bytes);

  const presetAction = (op: 'recall' | 'set' | 'reset', description: string) =>
    defineAction({
      description,
      params: Type.Object({ preset: PresetRef }, { additionalProperties: false }),
      timeoutMs: op === 'recall' ? motionTimeoutMs : undefined,
      run({ preset }, action) {
        // Not async: a recall is the action rooms run most, and its promise is the move's own.
        let p: CameraPreset;
        try {
          p = cam.resolvePreset(preset);
        } catch (e) {
          return Promise.reject(e);
        }
        const { label, bytes } = cam.presetCommand(p, op);
        const result = { preset: p.number, name: p.name };
        if (op === 'recall') return new Move(cam.motion, action, p, result).send(session, label, bytes);
        return session.command(label, bytes, { action }).then(() => result);
      },
    });

  const actions = {
    'preset.recall': presetAction('recall', 'Move to a stored preset; answers when the camera reports the move complete'),
    'preset.store': presetAction('set', 'Store the current position as a preset'),
    'preset.reset': presetAction('reset', 'Clear a stored preset'),

    move: defineAction({
      description: 'Start a continuous pan/tilt move in a direction (until stop); answers when the camera accepted it (ACK)',
      params: Type.Object(
        {
          direction: Type.Union(DIRECTIONS.map((d) => Type.Literal(d))),
          pan_speed: PanSpeed,
          tilt_speed: TiltSpeed,
        },
        { additionalProperties: false },
      ),
      async run({ direction, pan_speed, tilt_speed }, action) {
        const dir = direction as PanTiltDirection;
        await session.command(
          `pan-tilt ${dir}`,
          encode.panTiltDrive(a, dir, pan_speed ?? panDefault, tilt_speed ?? tiltDefault),
          { action, priority: dir === 'stop', drive: 'pan-tilt' },
        );
        cam.motion.drive(dir !== 'stop');
        return { direction: dir };
      },
    }),

    stop: defineAction({
      description: 'Cancel running moves, then stop pan/tilt and zoom (jumps ahead of queued commands)',
      params: Type.Object({}, { additionalProperties: false }),
      async run(_p, action) {
        // A running recall/home/goto holds a socket until it ends: cancel it first.
        await session.cancelRunning(a, action);
        await session.command('pan-tilt stop', encode.panTiltDrive(a, 'stop', panDefault, tiltDefault), {
          action,
          priority: true,
          drive: 'pan-tilt',
        });
        await session.command('zoom stop', encode.zoom(a, 'stop'), { action, priority: true, drive: 'zoom' });
        cam.motion.reset();
        return { stopped: true };
      },
    }),

    zoom: defineAction({
      description: 'Zoom: tele/wide (continuous, optional speed 0–7), stop, or direct to a position',
      params: Type.Object(
        {
          op: Type.Union([Type.Literal('tele'), Type.Literal('wide'), Type.Literal('stop'), Type.Literal('direct')]),
          speed: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
          position: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff, description: 'op "direct": 0 = wide' })),
        },
        { additionalProperties: false },
      ),
      timeoutMs: motionTimeoutMs,
      async run({ op, speed, position }, action) {
        if (op === 'direct') {
          if (position === undefined) throw new AgentError('INVALID_PARAMS', 'zoom "direct" needs position');
          await motion(`zoom direct ${position}`, encode.zoomDirect(a, position), action);
          return { op, position };
        }
        await session.command(`zoom ${op}`, encode.zoom(a, op, speed), { action, priority: op === 'stop', drive: 'zoom' });
        return { op };
      },
    }),

    home: defineAction({
      description: 'Move to the home position; answers when the move is complete',
      params: Type.Object({}, { additionalProperties: false }),
      timeoutMs: motionTimeoutMs,
      async run(_p, action) {
        await motion('home', encode.home(a), action);
        return { home: true };
      },
    }),

    goto: defineAction({
      description: 'Move to an absolute pan/tilt (and zoom) position, e.g. one read by learn',
      params: Type.Object(
        {
          pan: Type.Integer({ minimum: -0x8000, maximum: 0x7fff }),
          tilt: Type.Integer({ minimum: -0x8000, maximum: 0x7fff }),
          zoom: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
          pan_speed: PanSpeed,
          tilt_speed: TiltSpeed,
        },
        { additionalProperties: false },
      ),
      timeoutMs: motionTimeoutMs,
      async run({ pan, tilt, zoom, pan_speed, tilt_speed }, action) {
        const ww = profile.absoluteTiltSpeed ? (tilt_speed ?? tiltDefault) : 0;
        const moves = [motion(`goto ${pan},${tilt}`, encode.absolute(a, pan_speed ?? panDefault, ww, pan, tilt), action)];
        // Pan/tilt and zoom run in the two sockets at once.
        if (zoom !== undefined) moves.push(motion(`zoom direct ${zoom}`, encode.zoomDirect(a, zoom), action));
        await Promise.all(moves);
        return { pan, tilt, zoom: zoom ?? null };
      },
    }),

    power: defineAction({
      description: 'Power the camera on or put it in standby',
      params: Type.Object({ state: Type.Union([Type.Literal('on'), Type.Literal('standby')]) }, { additionalProperties: false }),
      timeoutMs: motionTimeoutMs,
      async run({ state }, action) {
        await session.command(`power ${state}`, encode.power(a, state === 'on'), { action });
        cam.ctx.setState({ power: state });
        return { power: state };
      },
    }),

    position: defineAction({
      description: 'Ask the camera for its pan/tilt and zoom position',
      params: Type.Object({}, { additionalProperties: false }),
      readOnly: true,
      async run(_p, action) {
        return cam.readPosition(action);
      },
    }),

    learn: defineAction({
      description: 'Read the current position as ready-made params for "goto" (Companion-style learn)',
      params: Type.Object({}, { additionalProperties: false }),
      readOnly: true,
      async run(_p, action) {
        const pos = await cam.readPosition(action);
        return { action: 'goto', params: pos };
      },
    }),
  };
  return actions as unknown as Record<string, ActionDefinition>;
}

/**
 * One move whose end the camera reports with its Completion (preset recall, home, goto, zoom
 * direct): `moving` is true from its ACK until it ends, and its end publishes `moving` with the
 * move's result (the preset reached) in one state change. The object is the session's send
 * options too (the action that may withdraw the queued message; `onAck`, which the session
 * calls as their method), so a move costs no async frame and no closure over the call.
 */
class Move<R> implements SendOptions {
  private acked = false;
  constructor(
    private readonly state: MotionState,
    readonly action: ActionContext,
    private readonly reached?: CameraPreset,
    private readonly result?: R,
  ) {}

  onAck(): void {
    this.acked = true;
    this.state.moveStarted();
  }

  /** Sends the command; resolves with `result` once the move ended and its state was published. */
  send(session: ViscaSession, label: string, bytes: Buffer): Promise<R> {
    return session.command(label, bytes, this).then(this.ended, this.failed);
  }

  private readonly ended = (): R => {
    // One state change when the move ends: moving=false together with its result.
    if (this.reached) this.state.presetReached(this.acked, this.reached.number, this.reached.name);
    else if (this.acked) this.state.moveEnded();
    else this.state.settledWithoutMove();
    return this.result as R;
  };

  private readonly failed = (e: unknown): never => {
    if (this.acked) this.state.moveEnded();
    throw e;
  };
}
