// The clock seam's reusable timer (src/util/clock.ts reusableTimer): on the real clock one Node
// timer re-armed in place, so a stop must keep a later firing from running the callback, a start
// must move the wait, and a start with another duration must not let the old one fire. Waits are
// bounded; nothing is timed.
import { describe, expect, it } from 'vitest';
import { FakeClock, realClock, reusableTimer } from '../src/util/clock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `pred` holds (checked every few ms), or rejects after `budgetMs`. */
async function until(pred: () => boolean, what: string, budgetMs = 5000): Promise<void> {
  const end = Date.now() + budgetMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

describe('reusable timer on the real clock', () => {
  it('fires once per start, again after a restart, and not after a stop', async () => {
    let fired = 0;
    const t = reusableTimer(realClock, () => fired++);
    t.start(5);
    await until(() => fired === 1, 'the first firing');
    t.start(5); // re-armed after it fired
    await until(() => fired === 2, 'the second firing');
    t.start(5);
    t.stop();
    await sleep(30);
    expect(fired).toBe(2);
  });

  it('a start with another duration replaces the wait; the old one never fires', async () => {
    let fired = 0;
    const t = reusableTimer(realClock, () => fired++);
    t.start(10);
    t.start(2_000); // the 10 ms wait must not fire
    await sleep(40);
    expect(fired).toBe(0);
    t.start(5);
    await until(() => fired === 1, 'the new wait');
    await sleep(20);
    expect(fired).toBe(1);
  });

  it('can be started again from its own callback', async () => {
    let fired = 0;
    const t = reusableTimer(realClock, () => {
      fired++;
      if (fired < 3) t.start(3);
    });
    t.start(3);
    await until(() => fired === 3, 'three firings');
  });

  it('on a fake clock it follows the fake time', () => {
    const clock = new FakeClock();
    let fired = 0;
    const t = reusableTimer(clock, () => fired++);
    t.start(100);
    clock.advance(99);
    expect(fired).toBe(0);
    t.start(100); // moved: 100 from now
    clock.advance(99);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    t.start(50);
    t.stop();
    clock.advance(1000);
    expect(fired).toBe(1);
    expect(clock.pending()).toBe(0);
  });
});
