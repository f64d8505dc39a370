import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LimitedLog } from '../src/util/log-limit.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(c, _e, cb) {
      lines.push(JSON.parse(c.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('LimitedLog', () => {
  it('writes a burst per key and window, then one line counting the suppressed repeats', () => {
    const { logger, lines } = capture();
    let now = 0;
    const log = new LimitedLog(logger, { burst: 2, windowMs: 1000 }, () => now);
    for (let i = 0; i < 10; i++) log.error('bad-frame', { n: i }, 'bad frame');
    log.warn('other', {}, 'other thing');
    expect(lines.map((l) => [l.msg, l.n])).toEqual([
      ['bad frame', 0],
      ['bad frame', 1],
      ['other thing', undefined],
    ]);
    now = 1000;
    log.error('bad-frame', { n: 10 }, 'bad frame');
    expect(lines.slice(3).map((l) => [l.msg, l.suppressed, l.level])).toEqual([
      ['bad frame (repeats suppressed)', 8, 50],
      ['bad frame', undefined, 50],
    ]);
  });

  it('tracks a bounded number of keys', () => {
    const { logger, lines } = capture();
    const log = new LimitedLog(logger, { burst: 1, windowMs: 1000 }, () => 0);
    for (let i = 0; i < 10_000; i++) log.warn(`k${i}`, {}, 'x');
    expect(lines).toHaveLength(10_000);
    expect((log as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(256);
  });
});
