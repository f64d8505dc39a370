import type { Cause } from '../host/contract.js';
import type { DirectorMode } from './config.js';

/** Why the director chose a shot (or did something else worth explaining). */
export type DecisionRule =
  | 'start'
  | 'speaker'
  | 'chairman'
  | 'first_come'
  | 'last_come'
  | 'silence'
  | 'ping_pong'
  | 'far_end'
  | 'camera_offline'
  | 'override'
  | 'mode'
  | 'resume'
  | 'error';

export interface Shot {
  kind: 'speaker' | 'overview';
  camera: string;
  preset: number;
}

export interface CurrentShot extends Shot {
  /** ISO time the shot was taken. */
  since: string;
  rule: DecisionRule;
  reason: string;
  /** The microphone that drives the shot, e.g. "mic-1/3". */
  mic: string | null;
}

export interface Decision {
  at: string;
  rule: DecisionRule;
  /** The shot taken, or null when the decision changed no shot (mode, override, error). */
  shot: Shot | null;
  mic: string | null;
  reason: string;
}

export interface StoredDecision extends Decision {
  id: number;
}

export interface TalkerStatus {
  mic: string;
  name: string;
  on: boolean;
  chairman: boolean;
  /** Start of the current talk spell (pauses shorter than gap_s included). */
  since: string | null;
}

export interface DirectorStatus {
  mode: DirectorMode;
  /** When a pause ends by itself (manual override), else null. */
  paused_until: string | null;
  shot: CurrentShot | null;
  talkers: TalkerStatus[];
  cameras: Record<string, { preset: number | null; moving: boolean; pending: number | null }>;
  /** Input the director last put on air (mixer/matrix configured), else null. */
  program: string | number | null;
  far_end: boolean;
}

/** What the engine does to the room; implemented over DeviceHost in the feature. */
export interface DirectorActuator {
  isOnline(device: string): boolean;
  /** Recall a preset; `done` runs on the camera's Completion or with the error. */
  recall(camera: string, preset: number, cause: Cause, done: (err: Error | null) => void): void;
  /** Put an input on air through the configured mixer/matrix action. */
  cut(input: string | number, cause: Cause, done: (err: Error | null) => void): void;
}
