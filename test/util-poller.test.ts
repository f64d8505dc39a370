// Poller (the calendar sources' poll loop) on a fake clock: the delay each run
// returns schedules the next, one run in flight, runNow, and stop.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/util/clock.js';
import { Poller } from '../src/util/poller.js';

/** A poll whose runs the test finishes by hand, each with the delay it chooses. */
function manualPoll() {
  const runs: ((delay: number) => void)[] = [];
  return {
    runs,
    once: () => new Promise<number>((resolve) => runs.push(resolve)),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('Poller', () => {
  it('runs at start, then again after the delay each run returns', async () => {
    const clock = new FakeClock();
    const p = manualPoll();
    const poller = new Poller(clock, p.once);
    expect(poller.running).toBe(false);
    poller.start();
    expect(poller.running).toBe(true);
    expect(p.runs).toHaveLength(1);
    p.runs[0](1000);
    await flush();
    expect(clock.pending()).toBe(1);
    clock.advance(999);
    expect(p.runs).toHaveLength(1);
    clock.advance(1);
    expect(p.runs).toHaveLength(2);
    // A backoff delay from the second run is honoured the same way.
    p.runs[1](5000);
    await flush();
    clock.advance(4999);
    expect(p.runs).toHaveLength(2);
    clock.advance(1);
    expect(p.runs).toHaveLength(3);
    p.runs[2](1000);
    await poller.stop();
  });

  it('keeps one run in flight: run() during a run joins it', async () => {
    const clock = new FakeClock();
    const p = manualPoll();
    const poller = new Poller(clock, p.once);
    poller.start();
    const joined = poller.run();
    const joined2 = poller.runNow();
    expect(p.runs).toHaveLength(1);
    p.runs[0](1000);
    await Promise.all([joined, joined2]);
    expect(clock.pending()).toBe(1);
    await poller.stop();
  });

  it('runNow cancels the scheduled run and polls at once', async () => {
    const clock = new FakeClock();
    const p = manualPoll();
    const poller = new Poller(clock, p.once);
    poller.start();
    p.runs[0](1000);
    await flush();
    const now = poller.runNow();
    expect(p.runs).toHaveLength(2);
    expect(clock.pending()).toBe(0);
    p.runs[1](1000);
    await now;
    expect(clock.pending()).toBe(1);
    await poller.stop();
  });

  it('stop: nothing more is scheduled, and it waits for the run in flight', async () => {
    const clock = new FakeClock();
    const p = manualPoll();
    const poller = new Poller(clock, p.once);
    poller.start();
    let stopped = false;
    const stopping = poller.stop().then(() => {
      stopped = true;
    });
    expect(poller.running).toBe(false);
    await flush();
    expect(stopped).toBe(false);
    p.runs[0](1000);
    await stopping;
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    expect(p.runs).toHaveLength(1);
  });

  it('stop after a run cancels the scheduled one; a failed run does not break stop', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const poller = new Poller(clock, async () => {
      calls++;
      if (calls === 2) throw new Error('boom');
      return 100;
    });
    poller.start();
    await flush();
    expect(clock.pending()).toBe(1);
    await expect(poller.runNow()).rejects.toThrow('boom');
    await poller.stop();
    expect(clock.pending()).toBe(0);
    clock.advance(1000);
    expect(calls).toBe(2);
  });

  it('an extra run between scheduled ones leaves one scheduled run, not a second timer chain', async () => {
    const clock = new FakeClock();
    const p = manualPoll();
    const poller = new Poller(clock, p.once);
    poller.start();
    p.runs[0](1000);
    await flush();
    // E.g. tcs refreshes after its run/stop actions with run(), not runNow().
    const extra = poller.run();
    p.runs[1](1000);
    await extra;
    expect(clock.pending()).toBe(1);
    clock.advance(1000);
    expect(p.runs).toHaveLength(3);
    p.runs[2](1000);
    await flush();
    clock.advance(10_000);
    // One chain: a run every 1000 ms, each finished here only when the test says so.
    expect(p.runs).toHaveLength(4);
    p.runs[3](1000);
    await poller.stop();
    expect(clock.pending()).toBe(0);
  });
});
