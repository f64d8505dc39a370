import type { Cause } from '../host/contract.js';
import type { DirectorActuator } from './types.js';

interface CameraSlot {
  /** Preset the camera is known to sit at (null: unknown, e.g. moved by an operator). */
  at: number | null;
  /** Preset of the recall in flight. */
  moving: number | null;
  /** Latest target asked for while a recall was in flight; older ones are dropped. */
  pending: { preset: number; cause: Cause } | null;
}

/**
 * One recall in flight per camera: a new target while the camera moves
 * replaces the pending one (only the latest counts), so a burst of talker
 * changes can never queue up more than one command per camera.
 */
export class CameraQueue {
  private readonly slots = new Map<string, CameraSlot>();
  constructor(
    private readonly actuator: DirectorActuator,
    /** Runs after every recall finished (ok or not). */
    private readonly onSettled: (camera: string, preset: number, err: Error | null) => void,
  ) {}

  private slot(camera: string): CameraSlot {
    let s = this.slots.get(camera);
    if (!s) {
      s = { at: null, moving: null, pending: null };
      this.slots.set(camera, s);
    }
    return s;
  }

  /** True when the camera must move (or is moving) to show `preset`. */
  needsMove(camera: string, preset: number): boolean {
    const s = this.slot(camera);
    return s.moving !== null || s.at !== preset;
  }

  /** Preset of the recall in flight, or null. */
  movingTo(camera: string): number | null {
    return this.slot(camera).moving;
  }

  isMoving(camera: string): boolean {
    return this.slot(camera).moving !== null;
  }

  /** Asks for a preset. Returns 'sent', 'queued' (after the move in flight) or 'there'. */
  request(camera: string, preset: number, cause: Cause): 'sent' | 'queued' | 'there' {
    const s = this.slot(camera);
    if (s.moving !== null) {
      s.pending = s.moving === preset ? null : { preset, cause };
      return s.moving === preset ? 'there' : 'queued';
    }
    if (s.at === preset) return 'there';
    this.send(camera, s, preset, cause);
    return 'sent';
  }

  /** Someone else moved the camera: its position is unknown now. */
  forget(camera: string): void {
    const s = this.slot(camera);
    s.at = null;
    s.pending = null;
  }

  snapshot(): Record<string, { preset: number | null; moving: boolean; pending: number | null }> {
    return Object.fromEntries(
      [...this.slots].map(([id, s]) => [id, { preset: s.at, moving: s.moving !== null, pending: s.pending?.preset ?? null }]),
    );
  }

  private send(camera: string, s: CameraSlot, preset: number, cause: Cause): void {
    s.moving = preset;
    s.at = null;
    let finished = false;
    this.actuator.recall(camera, preset, cause, (err) => {
      if (finished) return;
      finished = true;
      s.moving = null;
      s.at = err ? null : preset;
      const next = s.pending;
      s.pending = null;
      if (next && next.preset !== s.at) this.send(camera, s, next.preset, next.cause);
      this.onSettled(camera, preset, err);
    });
  }
}
