import { describe, expect, it } from 'vitest';
import { realClock } from '../src/util/clock.js';
import { keepTimerList, keptTimerLists } from '../src/util/timer-lists.js';
import { until } from './support/wait.js';

describe('keepTimerList (Node timer lists kept while a duration is in use)', () => {
  it('keeps a keeper per duration while used and drops it after one idle duration', async () => {
    keepTimerList(37);
    keepTimerList(37);
    expect(keptTimerLists().filter((ms) => ms === 37)).toHaveLength(1);
    await until(() => !keptTimerLists().includes(37), 'the idle keeper to go', 10_000);
  });
  it('ignores durations Node does not keep a list for', () => {
    for (const ms of [0, -5, Number.NaN, 2 ** 31]) keepTimerList(ms);
    expect(keptTimerLists().some((ms) => !(ms >= 1 && ms < 2 ** 31))).toBe(false);
  });
  it('timers of the real clock still fire, and a cleared one does not, with its duration kept', async () => {
    const fired: string[] = [];
    realClock.clearTimeout(realClock.setTimeout(() => fired.push('cleared'), 41));
    expect(keptTimerLists()).toContain(41);
    realClock.setTimeout(() => fired.push('a'), 41);
    realClock.setTimeout(() => fired.push('b'), 41);
    await until(() => fired.length >= 2, 'both timers', 10_000);
    expect(fired).toEqual(['a', 'b']);
    // The keeper is unref'd: it never holds the process, and it leaves once the duration is idle.
    await until(() => !keptTimerLists().includes(41), 'the idle keeper to go', 10_000);
    expect(fired).toEqual(['a', 'b']);
  });
});
