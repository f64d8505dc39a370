// Node keeps one list of timers per duration and deletes the list when its last timer is
// cleared or has fired. Sequential work that arms and clears one timer of a duration at a time
// (a device action's timeout, a reply timeout) therefore built a new list each time: an object,
// a map entry and a priority-queue insert (~190 bytes) per timer. One unref'd keeper timer per
// duration, refreshed at each use, keeps the list while that duration is in use; left idle for
// one duration the keeper fires, removes itself, and the list goes as it did before.

/** The keeper of each duration used within its own length (no bound needed: it ages out). */
const keepers = new Map<number, NodeJS.Timeout>();

/** The longest delay a Node timer honours; longer ones are chained by the clock seam. */
const MAX_NODE_TIMER_MS = 2 ** 31 - 1;

/** Call right before arming a Node timer of `ms`: keeps that duration's timer list alive. */
export function keepTimerList(ms: number): void {
  const keeper = keepers.get(ms);
  if (keeper !== undefined) {
    keeper.refresh(); // no allocation: moves it to the end of its list
    return;
  }
  if (!(ms >= 1 && ms <= MAX_NODE_TIMER_MS)) return; // Node runs these after 1 ms: nothing to keep
  const k = setTimeout(forget, ms, ms);
  k.unref();
  keepers.set(ms, k);
}

function forget(ms: number): void {
  keepers.delete(ms);
}

/** Durations whose timer list is kept now (for tests and diagnostics). */
export function keptTimerLists(): number[] {
  return [...keepers.keys()];
}
