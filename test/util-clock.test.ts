// The clock seam: waits longer than Node's timer limit (2^31-1 ms, ~24.8 days)
// are chained, on the real clock (no TimeoutOverflowWarning, no early fire) and
// on the fake one (whose underlying timers overflow the way Node's do).
import { describe, expect, it } from 'vitest';
import { FakeClock, MAX_TIMER_MS, realClock, sleep } from '../src/util/clock.js';

const DAY = 86_400_000;

describe('FakeClock', () => {
  it('a 30-day timer fires at 30 days, not before, without overflowing', () => {
    const clock = new FakeClock(0);
    let fired = 0;
    clock.setTimeout(() => fired++, 30 * DAY);
    clock.advance(MAX_TIMER_MS + 1);
    expect(fired).toBe(0);
    clock.advance(30 * DAY - MAX_TIMER_MS - 2);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    expect(clock.overflows).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('a chained timer cleared in its second link never fires', () => {
    const clock = new FakeClock(0);
    let fired = 0;
    const h = clock.setTimeout(() => fired++, 60 * DAY);
    clock.advance(40 * DAY);
    clock.clearTimeout(h);
    clock.advance(40 * DAY);
    expect(fired).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('Infinity waits forever; NaN and negative delays are 0', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('inf'), Number.POSITIVE_INFINITY);
    clock.setTimeout(() => fired.push('nan'), Number.NaN);
    clock.setTimeout(() => fired.push('neg'), -5);
    clock.advance(0);
    expect(fired).toEqual(['nan', 'neg']);
    clock.advance(400 * DAY);
    expect(fired).toEqual(['nan', 'neg']);
    expect(clock.overflows).toBe(0);
  });

  it('sleep over the limit resolves at the right time', async () => {
    const clock = new FakeClock(0);
    let done = false;
    const p = sleep(clock, 25 * DAY).then(() => {
      done = true;
    });
    clock.advance(25 * DAY - 1);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });
});

describe('real clock', () => {
  it('a 30-day timer neither fires early nor makes Node warn (TimeoutOverflowWarning)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = 0;
    const handles = [
      realClock.setTimeout(() => fired++, 30 * DAY),
      realClock.setTimeout(() => fired++, MAX_TIMER_MS + 1),
      realClock.setTimeout(() => fired++, Number.POSITIVE_INFINITY),
    ];
    try {
      // Node runs an overflowing timer after 1 ms; give it ample time to show.
      await new Promise((r) => setTimeout(r, 100));
      expect(fired).toBe(0);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      for (const h of handles) realClock.clearTimeout(h);
      process.off('warning', onWarning);
    }
  });

  it('short timers still fire, and a cleared one does not', async () => {
    let fired = 0;
    const h = realClock.setTimeout(() => fired++, 1);
    realClock.clearTimeout(h);
    await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5));
    expect(fired).toBe(0);
  });
});
