// RateLimitedLog on a fake clock with a real pino logger: a flood of one kind
// of line writes perWindow lines per window and reports how many it dropped.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../src/util/clock.js';
import { RateLimitedLog } from '../src/util/rate-limited-log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('RateLimitedLog', () => {
  it('writes perWindow lines per key and window, then reports the suppressed count', async () => {
    const { lines, logger } = capture();
    const clock = new FakeClock();
    const log = new RateLimitedLog(logger, { perWindow: 3, windowMs: 10_000, clock });
    const written = Array.from({ length: 1000 }, () => log.warn('bad-frame', { remote: '10.0.0.9' }, 'bad frame'));
    expect(written.filter(Boolean)).toHaveLength(3);
    clock.advance(10_000);
    expect(log.warn('bad-frame', { remote: '10.0.0.9' }, 'bad frame')).toBe(true);
    await flush();
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).every((l) => l.suppressed === undefined)).toBe(true);
    expect(lines[3]).toMatchObject({ level: 40, msg: 'bad frame', remote: '10.0.0.9', suppressed: 997 });
  });

  it('keys are independent: a flood of one kind does not hide another', async () => {
    const { lines, logger } = capture();
    const log = new RateLimitedLog(logger, { perWindow: 1, windowMs: 60_000, clock: new FakeClock() });
    for (let i = 0; i < 50; i++) log.warn('flood', {}, 'flood');
    expect(log.error('other', { what: 'x' }, 'other')).toBe(true);
    await flush();
    expect(lines.map((l) => l.msg)).toEqual(['flood', 'other']);
    expect(lines[1]?.level).toBe(50);
  });

  it('memory stays bounded when callers use many keys', () => {
    const { logger } = capture();
    const log = new RateLimitedLog(logger.child({}, { level: 'silent' }), { perWindow: 1, clock: new FakeClock() });
    for (let i = 0; i < 5000; i++) log.warn(`k${i}`, {}, 'x');
    expect(log.keysTracked).toBe(1000);
  });
});
