// One full garbage collection once the agent is ready.
//
// Start reads and validates the config, builds every driver, migrates the
// database and compiles validators: megabytes that are garbage the moment the
// agent is ready. Left to V8, that garbage is collected by the first
// mark-compact, which comes with the room's first busy minute (a 4-camera room
// meets it within its first ~300 preset recalls, stalling several of them for
// milliseconds on a 2-core PC). Collecting once, right after the ready line is
// written, does that work while nobody waits.
//
// It also arms V8's memory reducer, which returns the freed pages: on Node 24
// the reducer reads an embedder (CppHeap) allocation rate of exactly 0 as
// "high" and otherwise waits for its 100 s watchdog. The fresh vm context the
// gc() function is taken from is an allocation on the CppHeap, so the reducer
// runs ~8 s after ready, once (docs/performance.md, "Idle memory: the
// evening's leads"). Taking gc() some other way (e.g. --expose-gc on the
// command line) would keep the collection and lose that.
// docs/performance.md, "Cold start and idle memory: one collection once ready".
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFunction = (options: { type: 'major'; execution: 'sync' }) => void;

/**
 * V8's gc(), taken from a fresh context so the agent's own global scope never
 * has it: --expose-gc is set only while that context is made. The context is
 * load-bearing: it is the CppHeap allocation that arms the memory reducer.
 */
function v8Gc(): GcFunction | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
    return typeof gc === 'function' ? (gc as GcFunction) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Runs one full, synchronous collection; returns its duration in ms, or null if the runtime refused. */
export function collectStartGarbage(): number | null {
  const gc = v8Gc();
  if (!gc) return null;
  const t0 = performance.now();
  gc({ type: 'major', execution: 'sync' });
  return performance.now() - t0;
}
