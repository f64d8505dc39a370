// What every driver of a kind offers, so the director, scenarios and console
// can drive any camera, matrix, mixer, audio processor or microphone without
// knowing its driver (docs/kinds.md), plus the helpers drivers share to keep
// to it. test/support/kind-contract.ts checks every registered driver against
// these tables.
import { AgentError } from '../util/errors.js';
import type { DeviceKind } from './contract.js';

export interface ContractAction {
  name: string;
  /** Params a caller may send (each driver's schema must accept them). */
  example: Record<string, unknown>;
  /** When the action's answer comes. */
  answers: string;
  /** Who relies on it. */
  usedBy: string;
}

export interface ContractStateKey {
  key: string;
  type: string;
  meaning: string;
}

export interface KindContract {
  kind: DeviceKind;
  actions: ContractAction[];
  state: ContractStateKey[];
  /** Events every driver of the kind emits. */
  events: { type: string; data: string }[];
  /** What a driver without actions (a unit that only talks) must still offer. */
  passive?: string;
}

export const KIND_CONTRACTS: Record<'camera' | 'matrix' | 'mixer' | 'audio' | 'microphone', KindContract> = {
  camera: {
    kind: 'camera',
    actions: [
      {
        name: 'preset.recall',
        example: { preset: 1 },
        answers: 'when the move has ended (the camera reported it), with `moving` false and `last_preset` set',
        usedBy: 'director (one recall in flight per camera), scenarios, console',
      },
      { name: 'preset.store', example: { preset: 1 }, answers: 'when the camera stored the position', usedBy: 'console' },
      {
        name: 'move',
        example: { direction: 'left' },
        answers: 'when the camera accepted the drive (it runs until `stop`)',
        usedBy: 'console (press and hold)',
      },
      {
        name: 'stop',
        example: {},
        answers: 'when every running move was cancelled and pan/tilt and zoom are stopped',
        usedBy: 'console (release), scenarios',
      },
      {
        name: 'zoom',
        example: { op: 'tele' },
        answers: 'tele/wide/stop: when the camera accepted it',
        usedBy: 'console (press and hold, release = op "stop")',
      },
      { name: 'home', example: {}, answers: 'when the move has ended', usedBy: 'console, scenarios' },
    ],
    state: [
      { key: 'moving', type: 'boolean', meaning: 'a recall, home or goto is under way, or a drive runs until stop' },
      { key: 'last_preset', type: 'number | null', meaning: 'the preset the camera last reached (null: unknown)' },
    ],
    events: [],
  },
  matrix: {
    kind: 'matrix',
    actions: [
      {
        name: 'route',
        example: { input: 1, output: 1 },
        answers: 'when the device confirmed the new route; `routes` already shows it',
        usedBy: 'console routing grid, director (`[director.mixer] action = "route"`), scenarios',
      },
      {
        name: 'routes',
        example: {},
        answers: 'with the routes as the device reports them (read-only)',
        usedBy: 'scenarios, UIs',
      },
    ],
    state: [{ key: 'routes', type: '{ "<output>": <input> }', meaning: 'the input shown on each output (1-based)' }],
    events: [],
  },
  mixer: {
    kind: 'mixer',
    actions: [
      {
        name: 'program',
        example: { input: 1 },
        answers: 'when the mixer took the input to program; `program` already shows it',
        usedBy: 'director (`[director.mixer]` default action), console, scenarios',
      },
      { name: 'preview', example: { input: 1 }, answers: 'when the mixer took the input to preview', usedBy: 'console' },
      {
        name: 'cut',
        example: {},
        answers: 'when the cut was done; `program` and `preview` swap as the mixer reports it',
        usedBy: 'scenarios',
      },
      {
        name: 'auto',
        example: {},
        answers: 'when the transition was started; `program` shows the former preview once it ended',
        usedBy: 'scenarios',
      },
    ],
    state: [
      { key: 'program', type: 'number | string', meaning: 'the input on program' },
      { key: 'preview', type: 'number | string', meaning: 'the input on preview' },
    ],
    events: [],
  },
  audio: {
    kind: 'audio',
    actions: [
      {
        name: 'level',
        example: { control: '<a configured level control>', db: -10 },
        answers: "when the device confirmed the level; the control's state key already shows it",
        usedBy: 'console level sliders, scenarios',
      },
      {
        name: 'mute',
        example: { control: '<a configured mute control>', on: true },
        answers: 'when the device confirmed the mute',
        usedBy: 'console mute buttons, scenarios',
      },
    ],
    state: [
      {
        key: '<control name>',
        type: 'number (level, dB) | boolean (mute)',
        meaning: 'one key per configured control, named as in the config; the console draws these',
      },
    ],
    events: [],
  },
  microphone: {
    kind: 'microphone',
    actions: [],
    state: [
      { key: 'channels', type: '{ "<channel>": boolean }', meaning: 'every channel seen, on or off' },
      { key: 'active', type: 'number[]', meaning: 'the channels that are on, ascending' },
    ],
    events: [
      {
        type: 'mic',
        data: '{channel, on, chairman, at, reason?} on every change, on and off (director, scenario `mic` triggers); `chairman` true for the seat the unit flags or the config names; every channel off with reason "link_lost" when the link is lost, where the transport can tell',
      },
    ],
    passive:
      'A unit that only talks (Taiden, SDC 8000 and Confidea camera outputs) has no actions to offer; it still offers the state keys and the `mic` events above, and its status comes from the lifecycle like any device. A transport that cannot see a lost unit (Confidea UDP) says so in its driver doc.',
  },
};

export interface ResolvedPreset {
  number: number;
  name: string | null;
}

/**
 * A preset reference as callers send it: a number, a number written as text
 * ("10"), or a name from the device's `presets` map. A name wins over a
 * numeric reading when the map has it.
 */
export function resolvePreset(ref: number | string, named: Record<string, number> | undefined): ResolvedPreset {
  let p: number | string = ref;
  if (typeof p === 'string' && /^\d{1,5}$/.test(p) && named?.[p] === undefined) p = Number(p);
  if (typeof p === 'number') {
    const name = named ? (Object.entries(named).find(([, v]) => v === p)?.[0] ?? null) : null;
    return { number: p, name };
  }
  const n = named?.[p];
  if (n === undefined) {
    const known = Object.keys(named ?? {}).join(', ') || 'none configured';
    throw new AgentError('INVALID_PARAMS', `unknown preset "${p}"; named presets: ${known}`);
  }
  return { number: n, name: p };
}

/** The name a preset number has in the map, or null. */
export function presetName(number: number, named: Record<string, number> | undefined): string | null {
  return named ? (Object.entries(named).find(([, v]) => v === number)?.[0] ?? null) : null;
}

/**
 * `moving` bookkeeping for a camera: moves that end with the camera's report
 * (recall, home, goto) are counted, a continuous drive is a flag until stop.
 * `publish` receives `{moving, ...extra}` on every change, so the move's result
 * (e.g. `last_preset`) lands in the same state change as `moving: false`.
 */
const MOVING: Readonly<Record<string, unknown>> = Object.freeze({ moving: true });

export class MotionState {
  private moves = 0;
  private driving = false;

  constructor(private readonly publish: (patch: Record<string, unknown>) => void) {}

  get moving(): boolean {
    return this.moves > 0 || this.driving;
  }

  /** A move that ends with a report started. */
  moveStarted(): void {
    this.moves++;
    this.publish(MOVING); // the same patch each time: a publisher reads it and keeps nothing
  }

  /** A move ended (reached, failed or cancelled); `extra` is published with it. */
  moveEnded(extra?: Record<string, unknown>): void {
    this.moves = Math.max(0, this.moves - 1);
    this.publish({ moving: this.moving, ...extra });
  }

  /**
   * A move to a preset ended with the camera there (`started`: after moveStarted, else it came
   * without a started move): `moving` and the last preset in one change, as
   * moveEnded/settledWithoutMove with `{last_preset, last_preset_name}` publish it.
   */
  presetReached(started: boolean, number: number, name: string | null): void {
    if (started) this.moves = Math.max(0, this.moves - 1);
    this.publish({ moving: this.moving, last_preset: number, last_preset_name: name });
  }

  /** A result that came without a started move (e.g. a camera that completed at once). */
  settledWithoutMove(extra?: Record<string, unknown>): void {
    this.publish({ moving: this.moving, ...extra });
  }

  /** A continuous drive started (`on`) or was stopped. */
  drive(on: boolean): void {
    this.driving = on;
    this.publish({ moving: this.moving });
  }

  /** Everything stopped (stop action) or unknown (link lost). */
  reset(publish = true): void {
    this.moves = 0;
    this.driving = false;
    if (publish) this.publish({ moving: false });
  }
}
