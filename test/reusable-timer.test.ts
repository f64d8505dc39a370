// The clock seam's reusable timer (src/util/clock.ts reusableTimer) and the host's timeout lists
// (src/host/action-timeouts.ts): on the real clock one Node timer re-armed in place, so a stop
// must keep a later firing from running the callback, a start must move the wait, and a start
// with another duration must not let the old one fire. Waits are bounded; nothing is timed.
import { describe, expect, it } from 'vitest';
import { type Timed, TimeoutList } from '../src/host/action-timeouts.js';
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

function run(name: string, log: string[]): Timed {
  return {
    deadline: 0,
    prevTimed: null,
    nextTimed: null,
    inTimeoutList: false,
    timedOut: () => log.push(name),
  };
}

describe('action timeout list', () => {
  it('times out the runs still in the list, oldest first, and none that left it', async () => {
    const list = new TimeoutList(20);
    const log: string[] = [];
    const a = run('a', log);
    const b = run('b', log);
    const c = run('c', log);
    list.add(a);
    list.add(b);
    list.add(c);
    list.remove(b); // answered in time
    await until(() => log.length === 2, 'two timeouts');
    expect(log).toEqual(['a', 'c']);
    expect(a.inTimeoutList || c.inTimeoutList).toBe(false);
  });

  it('a run that joins after the oldest left still times out (the timer waits again)', async () => {
    const list = new TimeoutList(30);
    const log: string[] = [];
    const first = run('first', log);
    list.add(first);
    await sleep(10);
    const second = run('second', log);
    list.add(second);
    list.remove(first); // the timer stays armed for first's deadline, then waits for second's
    await until(() => log.length === 1, 'the second timeout');
    expect(log).toEqual(['second']);
  });

  it('an emptied list times nothing out', async () => {
    const list = new TimeoutList(5);
    const log: string[] = [];
    const a = run('a', log);
    list.add(a);
    list.remove(a);
    list.remove(a); // twice: nothing
    await sleep(30);
    expect(log).toEqual([]);
  });
});
