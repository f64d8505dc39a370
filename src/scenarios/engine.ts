import { randomUUID } from 'node:crypto';
import type { Cause, DeviceKind } from '../host/contract.js';
import { type Clock, sleep } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import { stepTargets } from './load.js';
import type { Condition, Scenario, Step } from './schema.js';

export interface RunTrigger {
  /** manual, calendar, mic, state, time, mqtt, startup */
  kind: string;
  /** Who or what: token name, meeting id + edge, microphone, … */
  detail?: string;
}

export type RunOutcome = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'rejected';

export interface StepRecord {
  path: string;
  label: string;
  status: 'running' | 'ok' | 'error' | 'skipped' | 'cancelled';
  started_at: string;
  duration_ms?: number;
  error?: string;
}

export interface RunRecord {
  id: string;
  scenario: string;
  trigger: RunTrigger;
  started_at: string;
  ended_at: string | null;
  outcome: RunOutcome;
  error: string | null;
  /** The latest steps (a looping run keeps only the last MAX_STEPS_KEPT). */
  steps: StepRecord[];
  steps_dropped?: number;
}

const MAX_STEPS_KEPT = 200;

export interface PlanItem {
  path: string;
  label: string;
}

export interface EngineDeps {
  clock: Clock;
  scenarios: () => Map<string, Scenario>;
  ids(): string[];
  kind(id: string): DeviceKind | undefined;
  invoke(device: string, action: string, params: Record<string, unknown>, cause: Cause, signal: AbortSignal): Promise<unknown>;
  /** Current value for a condition: key "status" is the device status. */
  value(device: string, key: string): unknown;
  setDirector(mode: 'auto' | 'paused' | 'off', cause: Cause): Promise<void>;
  /** Called on every change of a run (start, each step, end). */
  onChange(run: RunRecord): void;
}

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}
/** Ends a run early: `ok` for a condition that said stop, not ok for a failed step. */
class Stop extends Error {
  constructor(
    message: string,
    readonly ok: boolean,
  ) {
    super(message);
  }
}

interface Active {
  run: RunRecord;
  ctl: AbortController;
  done: Promise<RunRecord>;
}

/**
 * Runs scenarios with Home Assistant's run modes: single (a second trigger
 * is rejected while one runs), restart (the running one is cancelled),
 * queued (runs one after another, at most max_runs waiting) and parallel
 * (at most max_runs at once).
 */
export class ScenarioEngine {
  private readonly active = new Map<string, Active[]>();
  private readonly waiting = new Map<
    string,
    { run: RunRecord; ctl: AbortController; settle: (p: Promise<RunRecord>) => void }[]
  >();
  constructor(private readonly d: EngineDeps) {}

  running(): RunRecord[] {
    return [...this.active.values()].flat().map((a) => a.run);
  }

  /** Starts (or queues, or rejects) a run; resolves with the record at once. */
  start(name: string, trigger: RunTrigger): { run: RunRecord; done: Promise<RunRecord> } {
    const sc = this.d.scenarios().get(name);
    if (!sc) throw new Error(`no scenario "${name}"`);
    const run: RunRecord = {
      id: randomUUID(),
      scenario: name,
      trigger,
      started_at: this.iso(),
      ended_at: null,
      outcome: 'running',
      error: null,
      steps: [],
    };
    const list = this.active.get(name) ?? [];
    const finishRejected = (why: string) => {
      run.outcome = 'rejected';
      run.error = why;
      run.ended_at = run.started_at;
      this.d.onChange(run);
      return { run, done: Promise.resolve(run) };
    };
    if (list.length > 0) {
      switch (sc.mode) {
        case 'single':
          return finishRejected(`already running (mode single, run ${list[0].run.id})`);
        case 'restart':
          for (const a of list) a.ctl.abort(new Cancelled());
          break;
        case 'parallel':
          if (list.length >= sc.max_runs)
            return finishRejected(`${list.length} runs already (mode parallel, max_runs ${sc.max_runs})`);
          break;
        case 'queued': {
          const q = this.waiting.get(name) ?? [];
          if (q.length >= sc.max_runs)
            return finishRejected(`${q.length} runs already waiting (mode queued, max_runs ${sc.max_runs})`);
          let settle: (p: Promise<RunRecord>) => void = () => undefined;
          const done = new Promise<RunRecord>((resolve) => {
            settle = resolve;
          });
          q.push({ run, ctl: new AbortController(), settle });
          this.waiting.set(name, q);
          run.outcome = 'queued';
          this.d.onChange(run);
          return { run, done };
        }
      }
    }
    const ctl = new AbortController();
    return { run, done: this.execute(sc, run, ctl) };
  }

  /** Cancels runs by id or every run of a scenario; the command in flight is not repeated. */
  cancel(target: { run_id?: string; scenario?: string }): number {
    let n = 0;
    for (const [name, list] of this.active) {
      for (const a of list) {
        if (target.run_id === a.run.id || (target.scenario && target.scenario === name)) {
          a.ctl.abort(new Cancelled());
          n++;
        }
      }
    }
    for (const q of this.waiting.values()) {
      for (const w of [...q]) {
        if (target.run_id !== w.run.id && target.scenario !== w.run.scenario) continue;
        q.splice(q.indexOf(w), 1);
        w.run.outcome = 'cancelled';
        w.run.ended_at = this.iso();
        this.d.onChange(w.run);
        w.settle(Promise.resolve(w.run));
        n++;
      }
    }
    return n;
  }

  /** The steps a run would take, with selectors and calls expanded; touches nothing. */
  plan(name: string): PlanItem[] {
    const sc = this.d.scenarios().get(name);
    if (!sc) throw new Error(`no scenario "${name}"`);
    const out: PlanItem[] = [];
    const walk = (steps: Step[], base: string) =>
      steps.forEach((s, i) => {
        const p = base ? `${base}.${i}` : String(i);
        const cond = s.if ? ` (only if ${describeCondition(s.if)})` : '';
        if (s.action) {
          for (const dev of stepTargets(s, this.d)) {
            out.push({ path: p, label: `${dev}: ${s.action} ${JSON.stringify(s.params ?? {})}${cond}` });
          }
        } else if (s.wait_ms !== undefined) out.push({ path: p, label: `wait ${s.wait_ms} ms${cond}` });
        else if (s.director) out.push({ path: p, label: `director → ${s.director}${cond}` });
        else if (s.parallel) {
          out.push({ path: p, label: `in parallel:${cond}` });
          walk(s.parallel, `${p}.parallel`);
        } else if (s.loop) {
          out.push({ path: p, label: `repeat ${s.loop.count ? `${s.loop.count} times` : 'until cancelled'}:${cond}` });
          walk(s.loop.steps, `${p}.loop`);
        } else if (s.scenario) {
          out.push({ path: p, label: `scenario ${s.scenario}:${cond}` });
          const inner = this.d.scenarios().get(s.scenario);
          if (inner) walk(inner.steps, `${p}.${s.scenario}`);
        }
      });
    walk(sc.steps, '');
    return out;
  }

  private execute(sc: Scenario, run: RunRecord, ctl: AbortController): Promise<RunRecord> {
    const list = this.active.get(sc.name) ?? [];
    const entry: Active = { run, ctl, done: Promise.resolve(run) };
    list.push(entry);
    this.active.set(sc.name, list);
    run.started_at = this.iso();
    run.outcome = 'running';
    this.d.onChange(run);
    const cause: Cause = { kind: 'scenario', name: sc.name, detail: `run ${run.id} (${run.trigger.kind})` };
    entry.done = this.steps(sc.steps, '', run, cause, ctl.signal)
      .then(
        () => {
          run.outcome = 'succeeded';
        },
        (e) => {
          if (e instanceof Cancelled || ctl.signal.aborted) run.outcome = 'cancelled';
          else if (e instanceof Stop) run.outcome = e.ok ? 'succeeded' : 'failed';
          else run.outcome = 'failed';
          if (!(e instanceof Cancelled)) run.error = errorMessage(e);
        },
      )
      .then(() => {
        run.ended_at = this.iso();
        const l = this.active.get(sc.name) ?? [];
        l.splice(l.indexOf(entry), 1);
        if (l.length === 0) this.active.delete(sc.name);
        this.d.onChange(run);
        const next = this.waiting.get(sc.name)?.shift();
        if (next) next.settle(this.execute(sc, next.run, next.ctl));
        return run;
      });
    return entry.done;
  }

  private async steps(steps: Step[], base: string, run: RunRecord, cause: Cause, signal: AbortSignal): Promise<void> {
    for (let i = 0; i < steps.length; i++) {
      if (signal.aborted) throw new Cancelled();
      await this.step(steps[i], base ? `${base}.${i}` : String(i), run, cause, signal);
    }
  }

  private async step(s: Step, path: string, run: RunRecord, cause: Cause, signal: AbortSignal): Promise<void> {
    const rec: StepRecord = { path, label: s.name ?? labelOf(s), status: 'running', started_at: this.iso() };
    const t0 = this.d.clock.now();
    run.steps.push(rec);
    if (run.steps.length > MAX_STEPS_KEPT) {
      run.steps.splice(0, run.steps.length - MAX_STEPS_KEPT);
      run.steps_dropped = (run.steps_dropped ?? 0) + 1;
    }
    if (s.if && !this.holds(s.if)) {
      rec.status = 'skipped';
      rec.duration_ms = 0;
      this.d.onChange(run);
      if ((s.if_false ?? 'skip') === 'stop')
        throw new Stop(`condition ${describeCondition(s.if)} is false: scenario stopped`, true);
      return;
    }
    this.d.onChange(run);
    const stepCtl = new AbortController();
    const onAbort = () => stepCtl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<Clock['setTimeout']> | null = null;
    try {
      const work = this.body(s, path, run, cause, stepCtl.signal);
      const guards: Promise<never>[] = [
        new Promise<never>((_, reject) =>
          stepCtl.signal.addEventListener('abort', () => reject(new Cancelled()), { once: true }),
        ),
      ];
      if (s.timeout_ms) {
        guards.push(
          new Promise<never>((_, reject) => {
            timer = this.d.clock.setTimeout(() => {
              reject(new Error(`step timed out after ${s.timeout_ms} ms`));
              stepCtl.abort(new Error('timeout'));
            }, s.timeout_ms as number);
          }),
        );
      }
      work.catch(() => undefined); // settled elsewhere when a guard wins
      await Promise.race([work, ...guards]);
      rec.status = 'ok';
    } catch (e) {
      if (e instanceof Cancelled || signal.aborted) {
        rec.status = 'cancelled';
        throw new Cancelled();
      }
      rec.status = 'error';
      rec.error = errorMessage(e);
      if (e instanceof Stop) throw e;
      if ((s.on_error ?? 'stop') === 'stop') throw new Stop(`step ${path} (${rec.label}) failed: ${rec.error}`, false);
    } finally {
      this.d.clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      rec.duration_ms = this.d.clock.now() - t0;
      this.d.onChange(run);
    }
  }

  private async body(s: Step, path: string, run: RunRecord, cause: Cause, signal: AbortSignal): Promise<void> {
    if (s.action) {
      const targets = stepTargets(s, this.d);
      const results = await Promise.allSettled(
        targets.map((dev) => this.d.invoke(dev, s.action as string, s.params ?? {}, cause, signal)),
      );
      const failed = results
        .map((r, i) => (r.status === 'rejected' ? `${targets[i]}: ${errorMessage(r.reason)}` : null))
        .filter((x): x is string => x !== null);
      if (failed.length) throw new Error(failed.join('; '));
      return;
    }
    if (s.wait_ms !== undefined) return sleep(this.d.clock, s.wait_ms, signal);
    if (s.director) return this.d.setDirector(s.director, cause);
    if (s.parallel) {
      const results = await Promise.allSettled(
        s.parallel.map((p, i) => this.step(p, `${path}.parallel.${i}`, run, cause, signal)),
      );
      const bad = results.find((r) => r.status === 'rejected');
      if (bad) throw (bad as PromiseRejectedResult).reason;
      return;
    }
    if (s.loop) {
      for (let n = 0; s.loop.count === undefined || n < s.loop.count; n++) {
        await this.steps(s.loop.steps, `${path}.loop`, run, cause, signal);
        // Yield to the event loop so an endless loop can always be cancelled.
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    if (s.scenario) {
      const inner = this.d.scenarios().get(s.scenario);
      if (!inner) throw new Error(`unknown scenario "${s.scenario}"`);
      return this.steps(inner.steps, `${path}.${inner.name}`, run, { ...cause, name: `${cause.name} > ${inner.name}` }, signal);
    }
  }

  holds(c: Condition): boolean {
    const v = this.d.value(c.device, c.key);
    if (c.equals !== undefined && !same(v, c.equals)) return false;
    if (c.not_equals !== undefined && same(v, c.not_equals)) return false;
    if (c.in !== undefined && !c.in.some((x) => same(v, x))) return false;
    return true;
  }

  private iso(): string {
    return new Date(this.d.clock.now()).toISOString();
  }
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function describeCondition(c: Condition): string {
  const rhs =
    c.equals !== undefined
      ? `= ${JSON.stringify(c.equals)}`
      : c.not_equals !== undefined
        ? `≠ ${JSON.stringify(c.not_equals)}`
        : `in ${JSON.stringify(c.in)}`;
  return `${c.device}.${c.key} ${rhs}`;
}

function labelOf(s: Step): string {
  if (s.action) return `${s.device ?? `${s.devices?.kind ?? s.devices?.ids?.join('+') ?? '?'}`}: ${s.action}`;
  if (s.wait_ms !== undefined) return `wait ${s.wait_ms} ms`;
  if (s.parallel) return `parallel (${s.parallel.length})`;
  if (s.loop) return `loop${s.loop.count ? ` ×${s.loop.count}` : ''}`;
  if (s.scenario) return `scenario ${s.scenario}`;
  if (s.director) return `director ${s.director}`;
  return 'step';
}
