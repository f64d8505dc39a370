import { describe, expect, it } from 'vitest';
import type { Cause } from '../../src/host/contract.js';
import { type EngineDeps, type RunRecord, ScenarioEngine } from '../../src/scenarios/engine.js';
import type { Scenario, Step } from '../../src/scenarios/schema.js';
import { FakeClock, sleep } from '../../src/util/clock.js';

interface Call {
  at: number;
  device: string;
  action: string;
  params: Record<string, unknown>;
  cause: Cause;
}

/** A room of fake devices whose actions take `ms` of fake time. */
function room(scenarios: Scenario[], opts: { actionMs?: number; failOn?: string[] } = {}) {
  const clock = new FakeClock(0);
  const calls: Call[] = [];
  const changes: RunRecord[] = [];
  const director: string[] = [];
  const values: Record<string, Record<string, unknown>> = { 'cam-1': { power: 'on' }, 'cam-2': { power: 'standby' } };
  const deps: EngineDeps = {
    clock,
    scenarios: () => new Map(scenarios.map((s) => [s.name, s])),
    ids: () => ['cam-1', 'cam-2', 'matrix'],
    kind: (id) => (id.startsWith('cam') ? 'camera' : 'matrix'),
    invoke: async (device, action, params, cause, signal) => {
      calls.push({ at: clock.now(), device, action, params, cause });
      await sleep(clock, opts.actionMs ?? 100, signal).catch(() => undefined);
      if (opts.failOn?.includes(device)) throw new Error(`${device} refused`);
      return { ok: true };
    },
    value: (d, k) => values[d]?.[k],
    setDirector: async (mode) => {
      director.push(mode);
    },
    onChange: (r) => changes.push(structuredClone(r)),
  };
  return { engine: new ScenarioEngine(deps), clock, calls, changes, director };
}

const sc = (name: string, steps: Step[], extra: Partial<Scenario> = {}): Scenario => ({
  name,
  mode: 'single',
  max_runs: 10,
  triggers: [],
  steps,
  file: `${name}.toml`,
  ...extra,
});

/** Lets promise callbacks run between fake-clock advances. */
const flush = () => new Promise((r) => setImmediate(r));
async function advance(clock: FakeClock, ms: number, step = 10) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

describe('steps', () => {
  it('runs actions, waits and parallel groups in order, with the scenario as cause', async () => {
    const r = room([
      sc('s', [
        { device: 'cam-1', action: 'preset.recall', params: { preset: 1 } },
        { wait_ms: 500 },
        {
          parallel: [
            { device: 'cam-1', action: 'home' },
            { device: 'cam-2', action: 'home' },
          ],
        },
        { director: 'paused' },
      ]),
    ]);
    const { done } = r.engine.start('s', { kind: 'manual' });
    await advance(r.clock, 1000);
    const run = await done;
    expect(run.outcome).toBe('succeeded');
    expect(r.calls.map((c) => [c.at, c.device, c.action])).toEqual([
      [0, 'cam-1', 'preset.recall'],
      [600, 'cam-1', 'home'],
      [600, 'cam-2', 'home'],
    ]);
    expect(r.calls[0].cause).toMatchObject({ kind: 'scenario', name: 's' });
    expect(r.director).toEqual(['paused']);
    expect(run.steps.map((s) => s.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('a selector addresses every device of a kind in parallel', async () => {
    const r = room([sc('down', [{ devices: { kind: 'camera' }, action: 'preset.recall', params: { preset: 'down' } }])]);
    const { done } = r.engine.start('down', { kind: 'manual' });
    await advance(r.clock, 200);
    await done;
    expect(r.calls.map((c) => [c.at, c.device])).toEqual([
      [0, 'cam-1'],
      [0, 'cam-2'],
    ]);
  });

  it('a call of another scenario runs its steps inline', async () => {
    const inner = sc('inner', [{ device: 'matrix', action: 'route', params: { input: 1, output: 1 } }]);
    const r = room([inner, sc('outer', [{ scenario: 'inner' }, { device: 'cam-1', action: 'home' }])]);
    const { done } = r.engine.start('outer', { kind: 'manual' });
    await advance(r.clock, 300);
    await done;
    expect(r.calls.map((c) => c.device)).toEqual(['matrix', 'cam-1']);
    expect(r.calls[0].cause.name).toBe('outer > inner');
  });

  it('conditions skip a step or stop the run', async () => {
    const r = room([
      sc('c', [
        { device: 'cam-1', action: 'a', if: { device: 'cam-1', key: 'power', equals: 'on' } },
        { device: 'cam-2', action: 'b', if: { device: 'cam-2', key: 'power', equals: 'on' } },
        { device: 'cam-2', action: 'c', if: { device: 'cam-2', key: 'power', in: ['on', 'warming'] }, if_false: 'stop' },
        { device: 'cam-1', action: 'never' },
      ]),
    ]);
    const { done } = r.engine.start('c', { kind: 'manual' });
    await advance(r.clock, 300);
    const run = await done;
    expect(r.calls.map((c) => c.action)).toEqual(['a']);
    expect(run.steps.map((s) => s.status)).toEqual(['ok', 'skipped', 'skipped']);
    expect(run.outcome).toBe('succeeded');
    expect(run.error).toMatch(/scenario stopped/);
  });
});

describe('on_error', () => {
  it('stop (default): the run fails at the failing step', async () => {
    const r = room(
      [
        sc('s', [
          { device: 'cam-2', action: 'x' },
          { device: 'cam-1', action: 'y' },
        ]),
      ],
      { failOn: ['cam-2'] },
    );
    const { done } = r.engine.start('s', { kind: 'manual' });
    await advance(r.clock, 300);
    const run = await done;
    expect(run.outcome).toBe('failed');
    expect(run.error).toMatch(/cam-2 refused/);
    expect(r.calls.map((c) => c.action)).toEqual(['x']);
  });
  it('continue: the failure is recorded and the run goes on', async () => {
    const r = room(
      [
        sc('s', [
          { device: 'cam-2', action: 'x', on_error: 'continue' },
          { device: 'cam-1', action: 'y' },
        ]),
      ],
      { failOn: ['cam-2'] },
    );
    const { done } = r.engine.start('s', { kind: 'manual' });
    await advance(r.clock, 300);
    const run = await done;
    expect(run.outcome).toBe('succeeded');
    expect(run.steps.map((s) => s.status)).toEqual(['error', 'ok']);
    expect(r.calls.map((c) => c.action)).toEqual(['x', 'y']);
  });
  it('a step timeout is an error under the step policy', async () => {
    const r = room(
      [
        sc('s', [
          { device: 'cam-1', action: 'slow', timeout_ms: 50 },
          { device: 'cam-1', action: 'next' },
        ]),
      ],
      { actionMs: 1000 },
    );
    const { done } = r.engine.start('s', { kind: 'manual' });
    await advance(r.clock, 200);
    const run = await done;
    expect(run.outcome).toBe('failed');
    expect(run.steps[0].error).toMatch(/timed out after 50 ms/);
  });
});

describe('run modes on a fake clock', () => {
  const long = (mode: Scenario['mode'], max_runs = 10) =>
    sc('m', [{ device: 'cam-1', action: 'go' }, { wait_ms: 1000 }], { mode, max_runs });

  it('single: a second trigger while running is rejected', async () => {
    const r = room([long('single')]);
    const a = r.engine.start('m', { kind: 'manual' });
    await advance(r.clock, 100);
    const b = r.engine.start('m', { kind: 'manual' });
    expect(b.run.outcome).toBe('rejected');
    expect(b.run.error).toMatch(/already running/);
    await advance(r.clock, 1200);
    expect((await a.done).outcome).toBe('succeeded');
    expect(r.calls).toHaveLength(1);
  });

  it('restart: the running run is cancelled and a new one starts', async () => {
    const r = room([long('restart')]);
    const a = r.engine.start('m', { kind: 'manual' });
    await advance(r.clock, 500);
    const b = r.engine.start('m', { kind: 'manual' });
    await advance(r.clock, 1200);
    expect((await a.done).outcome).toBe('cancelled');
    expect((await b.done).outcome).toBe('succeeded');
    expect(r.calls.map((c) => c.at)).toEqual([0, 500]);
  });

  it('queued: runs one after another, at most max_runs waiting', async () => {
    const r = room([long('queued', 2)]);
    const a = r.engine.start('m', { kind: 'manual' });
    const b = r.engine.start('m', { kind: 'manual' });
    const c = r.engine.start('m', { kind: 'manual' });
    const d = r.engine.start('m', { kind: 'manual' });
    expect([b.run.outcome, c.run.outcome, d.run.outcome]).toEqual(['queued', 'queued', 'rejected']);
    await advance(r.clock, 3500);
    expect((await a.done).outcome).toBe('succeeded');
    expect((await b.done).outcome).toBe('succeeded');
    expect((await c.done).outcome).toBe('succeeded');
    expect(r.calls.map((x) => x.at)).toEqual([0, 1100, 2200]);
  });

  it('parallel: runs side by side up to max_runs', async () => {
    const r = room([long('parallel', 2)]);
    const a = r.engine.start('m', { kind: 'manual' });
    const b = r.engine.start('m', { kind: 'manual' });
    const c = r.engine.start('m', { kind: 'manual' });
    expect(c.run.outcome).toBe('rejected');
    await advance(r.clock, 1200);
    expect((await a.done).outcome).toBe('succeeded');
    expect((await b.done).outcome).toBe('succeeded');
    expect(r.calls.map((x) => x.at)).toEqual([0, 0]);
  });
});

describe('cancel', () => {
  it('cancel mid-step: the command in flight is not repeated and nothing after it runs', async () => {
    const r = room(
      [
        sc('s', [
          { device: 'cam-1', action: 'slow' },
          { device: 'cam-1', action: 'after' },
        ]),
      ],
      { actionMs: 1000 },
    );
    const { run, done } = r.engine.start('s', { kind: 'manual' });
    await advance(r.clock, 300);
    expect(r.engine.cancel({ run_id: run.id })).toBe(1);
    await advance(r.clock, 2000);
    const rec = await done;
    expect(rec.outcome).toBe('cancelled');
    expect(rec.steps.map((s) => s.status)).toEqual(['cancelled']);
    expect(r.calls.map((c) => c.action)).toEqual(['slow']);
  });

  it('an endless loop (dance) runs until cancelled', async () => {
    const r = room([
      sc('dance', [
        {
          loop: {
            steps: [
              { devices: { kind: 'camera' }, action: 'preset.recall', params: { preset: 1 } },
              { wait_ms: 100 },
              { devices: { kind: 'camera' }, action: 'preset.recall', params: { preset: 2 } },
              { wait_ms: 100 },
            ],
          },
        },
      ]),
    ]);
    const { run, done } = r.engine.start('dance', { kind: 'manual' });
    await advance(r.clock, 2000);
    const before = r.calls.length;
    expect(before).toBeGreaterThan(8);
    r.engine.cancel({ scenario: 'dance' });
    await advance(r.clock, 1000);
    expect((await done).outcome).toBe('cancelled');
    expect(r.calls.length).toBeLessThanOrEqual(before + 2);
    expect(run.steps.length).toBeLessThanOrEqual(200);
  });

  it('cancelling a queued run removes it before it starts', async () => {
    const r = room([sc('q', [{ wait_ms: 1000 }], { mode: 'queued' })]);
    r.engine.start('q', { kind: 'manual' });
    const b = r.engine.start('q', { kind: 'manual' });
    r.engine.cancel({ run_id: b.run.id });
    expect((await b.done).outcome).toBe('cancelled');
  });
});

describe('dry run', () => {
  it('answers the plan with selectors and calls expanded, and touches nothing', () => {
    const r = room([
      sc('inner', [{ device: 'matrix', action: 'route', params: { input: 2, output: 1 } }]),
      sc('s', [
        { devices: { kind: 'camera' }, action: 'preset.recall', params: { preset: 'down' } },
        { scenario: 'inner' },
        { wait_ms: 5 },
      ]),
    ]);
    const plan = r.engine.plan('s');
    expect(plan.map((p) => p.label)).toEqual([
      'cam-1: preset.recall {"preset":"down"}',
      'cam-2: preset.recall {"preset":"down"}',
      'scenario inner:',
      'matrix: route {"input":2,"output":1}',
      'wait 5 ms',
    ]);
    expect(r.calls).toHaveLength(0);
    expect(r.changes).toHaveLength(0);
  });
});
