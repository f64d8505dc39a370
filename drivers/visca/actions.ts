// The camera's actions. Schemas are built per camera so speed limits follow
// its profile; motion actions resolve on the camera's Completion, so a caller
// (scenario, director) knows when a preset recall has finished.
import { Type } from '@sinclair/typebox';
import { type ActionDefinition, defineAction } from '../../src/host/contract.js';
import { AgentError } from '../../src/util/errors.js';
import type { ViscaCamera } from './driver.js';
import { encode, type PanTiltDirection } from './protocol.js';

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

  /** Runs a command whose motion ends with its Completion, keeping `moving` true meanwhile. */
  const motion = async (label: string, bytes: Buffer, signal: AbortSignal, onDone?: Record<string, unknown>): Promise<void> => {
    let acked = false;
    let ok = false;
    try {
      await session.command(label, bytes, {
        signal,
        onAck: () => {
          acked = true;
          cam.motion.moveStarted();
        },
      });
      ok = true;
    } finally {
      // One state change when the move ends: moving=false together with its result.
      if (acked) cam.motion.moveEnded(ok ? onDone : undefined);
      else if (ok) cam.motion.settledWithoutMove(onDone);
    }
  };

  const presetAction = (op: 'recall' | 'set' | 'reset', description: string) =>
    defineAction({
      description,
      params: Type.Object({ preset: PresetRef }, { additionalProperties: false }),
      timeoutMs: op === 'recall' ? motionTimeoutMs : undefined,
      async run({ preset }, { signal }) {
        const p = cam.resolvePreset(preset);
        const label = `preset ${op} ${p.number}`;
        if (op === 'recall') {
          await motion(label, encode.preset(a, 'recall', p.byte), signal, { last_preset: p.number, last_preset_name: p.name });
        } else {
          await session.command(label, encode.preset(a, op, p.byte), { signal });
        }
        return { preset: p.number, name: p.name };
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
      async run({ direction, pan_speed, tilt_speed }, { signal }) {
        const dir = direction as PanTiltDirection;
        await session.command(
          `pan-tilt ${dir}`,
          encode.panTiltDrive(a, dir, pan_speed ?? panDefault, tilt_speed ?? tiltDefault),
          { signal, priority: dir === 'stop', drive: 'pan-tilt' },
        );
        cam.motion.drive(dir !== 'stop');
        return { direction: dir };
      },
    }),

    stop: defineAction({
      description: 'Cancel running moves, then stop pan/tilt and zoom (jumps ahead of queued commands)',
      params: Type.Object({}, { additionalProperties: false }),
      async run(_p, { signal }) {
        // A running recall/home/goto holds a socket until it ends: cancel it first.
        await session.cancelRunning(a, signal);
        await session.command('pan-tilt stop', encode.panTiltDrive(a, 'stop', panDefault, tiltDefault), {
          signal,
          priority: true,
          drive: 'pan-tilt',
        });
        await session.command('zoom stop', encode.zoom(a, 'stop'), { signal, priority: true, drive: 'zoom' });
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
      async run({ op, speed, position }, { signal }) {
        if (op === 'direct') {
          if (position === undefined) throw new AgentError('INVALID_PARAMS', 'zoom "direct" needs position');
          await motion(`zoom direct ${position}`, encode.zoomDirect(a, position), signal);
          return { op, position };
        }
        await session.command(`zoom ${op}`, encode.zoom(a, op, speed), { signal, priority: op === 'stop', drive: 'zoom' });
        return { op };
      },
    }),

    home: defineAction({
      description: 'Move to the home position; answers when the move is complete',
      params: Type.Object({}, { additionalProperties: false }),
      timeoutMs: motionTimeoutMs,
      async run(_p, { signal }) {
        await motion('home', encode.home(a), signal);
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
      async run({ pan, tilt, zoom, pan_speed, tilt_speed }, { signal }) {
        const ww = profile.absoluteTiltSpeed ? (tilt_speed ?? tiltDefault) : 0;
        const moves = [motion(`goto ${pan},${tilt}`, encode.absolute(a, pan_speed ?? panDefault, ww, pan, tilt), signal)];
        // Pan/tilt and zoom run in the two sockets at once.
        if (zoom !== undefined) moves.push(motion(`zoom direct ${zoom}`, encode.zoomDirect(a, zoom), signal));
        await Promise.all(moves);
        return { pan, tilt, zoom: zoom ?? null };
      },
    }),

    power: defineAction({
      description: 'Power the camera on or put it in standby',
      params: Type.Object({ state: Type.Union([Type.Literal('on'), Type.Literal('standby')]) }, { additionalProperties: false }),
      timeoutMs: motionTimeoutMs,
      async run({ state }, { signal }) {
        await session.command(`power ${state}`, encode.power(a, state === 'on'), { signal });
        cam.ctx.setState({ power: state });
        return { power: state };
      },
    }),

    position: defineAction({
      description: 'Ask the camera for its pan/tilt and zoom position',
      params: Type.Object({}, { additionalProperties: false }),
      readOnly: true,
      async run(_p, { signal }) {
        return cam.readPosition(signal);
      },
    }),

    learn: defineAction({
      description: 'Read the current position as ready-made params for "goto" (Companion-style learn)',
      params: Type.Object({}, { additionalProperties: false }),
      readOnly: true,
      async run(_p, { signal }) {
        const pos = await cam.readPosition(signal);
        return { action: 'goto', params: pos };
      },
    }),
  };
  return actions as unknown as Record<string, ActionDefinition>;
}
