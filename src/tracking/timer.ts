// The meeting timer: the maximal intervals in which the presence rule held.
// Calls are given as pieces, each with the participant slot and role it had
// then: a code binding changes a call's participant and role from the
// binding's moment on, so a call can be cut into pieces. Pure.

/** Pieces as parallel arrays (one object per call cost more in garbage collection than the sweep itself). */
export class TimerPieces {
  readonly start: number[] = [];
  /** +Infinity = still open. */
  readonly end: number[] = [];
  /** The participant each piece counts for (one number per participant key). */
  readonly slot: number[] = [];
  readonly role: (string | null)[] = [];
  add(start: number, end: number, slot: number, role: string | null): void {
    this.start.push(start);
    this.end.push(end);
    this.slot.push(slot);
    this.role.push(role);
  }
}

export interface TimerSegments {
  segStart: Float64Array;
  segEnd: Float64Array;
  /** segSum[i] = total length of segments 0..i-1. */
  segSum: Float64Array;
}

/**
 * Sweeps the pieces and returns the maximal intervals where the rule held:
 * with `requires`, at least one connected participant of each listed role;
 * without, at least two participants connected.
 */
export function timerSegments(pieces: TimerPieces, slots: number, requires: string[] | null): TimerSegments {
  const times: number[] = [];
  const deltas: number[] = [];
  const who: number[] = [];
  const n = pieces.start.length;
  for (let k = 0; k < n; k++) {
    const s = pieces.start[k];
    const e = pieces.end[k];
    if (e <= s) continue;
    times.push(s);
    deltas.push(1);
    who.push(k);
    if (e !== Number.POSITIVE_INFINITY) {
      times.push(e);
      deltas.push(-1);
      who.push(k);
    }
  }
  const order = new Uint32Array(times.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  order.sort((a, b) => times[a] - times[b]);
  const roles = requires ?? [];
  const open = new Int32Array(slots);
  // Per (slot, required role): how many of the slot's pieces with that role are open.
  const openRole = new Int32Array(slots * Math.max(roles.length, 1));
  const roleIdx = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const r = pieces.role[k];
    roleIdx[k] = r !== null && roles.length > 0 ? roles.indexOf(r) : -1;
  }
  const roleCount = new Int32Array(roles.length);
  let connected = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  let running = false;
  for (let k = 0; k < order.length; ) {
    const t = times[order[k]];
    for (; k < order.length && times[order[k]] === t; k++) {
      const j = order[k];
      const piece = who[j];
      const slot = pieces.slot[piece];
      const d = deltas[j];
      const before = open[slot];
      open[slot] += d;
      if (before === 0 && open[slot] > 0) connected++;
      else if (before > 0 && open[slot] === 0) connected--;
      const r = roleIdx[piece];
      if (r >= 0) {
        const at = slot * roles.length + r;
        const was = openRole[at];
        openRole[at] += d;
        if (was === 0 && openRole[at] > 0) roleCount[r]++;
        else if (was > 0 && openRole[at] === 0) roleCount[r]--;
      }
    }
    const holds = requires ? roleCount.every((n) => n > 0) : connected >= 2;
    if (holds && !running) {
      starts.push(t);
      running = true;
    } else if (!holds && running) {
      ends.push(t);
      running = false;
    }
  }
  if (running) ends.push(Number.POSITIVE_INFINITY);
  const segSum = new Float64Array(starts.length + 1);
  for (let i = 0; i < starts.length; i++) segSum[i + 1] = segSum[i] + (ends[i] - starts[i]);
  return { segStart: Float64Array.from(starts), segEnd: Float64Array.from(ends), segSum };
}
