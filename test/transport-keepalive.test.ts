// KeepAlive (the per-connection check of vmix, qsys, tesira) on a fake clock.
import { describe, expect, it } from 'vitest';
import { KeepAlive } from '../src/transport/keepalive.js';
import { FakeClock } from '../src/util/clock.js';

/** Checks the test settles by hand. */
function manualChecks() {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = () => new Promise<unknown>((resolve, reject) => pending.push({ resolve: () => resolve(true), reject }));
  return { pending, check };
}
const flush = () => new Promise((r) => setImmediate(r));

function setup() {
  const clock = new FakeClock();
  const c = manualChecks();
  const failures: string[] = [];
  const ka = new KeepAlive({
    clock,
    everyMs: 1000,
    check: c.check,
    onFail: (e) => failures.push((e as Error).message),
  });
  return { clock, ka, failures, pending: c.pending };
}

describe('KeepAlive', () => {
  it('checks everyMs after start and again everyMs after each answer', async () => {
    const { clock, ka, pending } = setup();
    ka.start();
    clock.advance(999);
    expect(pending).toHaveLength(0);
    clock.advance(1);
    expect(pending).toHaveLength(1);
    // No second check while the first is unanswered.
    clock.advance(5000);
    expect(pending).toHaveLength(1);
    pending[0].resolve();
    await flush();
    clock.advance(1000);
    expect(pending).toHaveLength(2);
    ka.end();
  });

  it('a failed check calls onFail once and schedules nothing more', async () => {
    const { clock, ka, pending, failures } = setup();
    ka.start();
    clock.advance(1000);
    pending[0].reject(new Error('no answer'));
    await flush();
    expect(failures).toEqual(['no answer']);
    expect(clock.pending()).toBe(0);
  });

  it('end: no more checks, and the answer or failure of a check in flight is ignored', async () => {
    const { clock, ka, pending, failures } = setup();
    ka.start();
    clock.advance(1000);
    ka.end();
    pending[0].reject(new Error('connection lost'));
    await flush();
    expect(failures).toEqual([]);
    ka.start();
    clock.advance(1000);
    expect(pending).toHaveLength(2);
    ka.end();
    pending[1].resolve();
    await flush();
    expect(clock.pending()).toBe(0);
    clock.advance(10_000);
    expect(pending).toHaveLength(2);
  });

  it('start again (a new connection) replaces the pending check of the previous one', () => {
    const { clock, ka, pending } = setup();
    ka.start();
    clock.advance(600);
    ka.start();
    clock.advance(600);
    expect(pending).toHaveLength(0);
    clock.advance(400);
    expect(pending).toHaveLength(1);
    expect(clock.pending()).toBe(0);
    ka.end();
  });
});
