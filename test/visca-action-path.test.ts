// What the VISCA action path no longer does per action (issue 18, steady and cold p99:
// every object it allocates brings the next scavenge nearer). Behaviour is unchanged:
// a queued message can still be withdrawn by its signal.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ViscaSession } from '../drivers/visca/session.js';
import { encode } from '../drivers/visca/protocol.js';
import { FakeClock } from '../src/util/clock.js';

function session(sent: Buffer[]): ViscaSession {
  return new ViscaSession({
    framing: 'sony-udp',
    address: 1,
    clock: new FakeClock(),
    replyTimeoutMs: 100,
    retries: 1,
    completionTimeoutMs: 1000,
    busyRetryMs: 20,
    maxQueue: 8,
    onUnresponsive: () => undefined,
    onNetworkChange: () => undefined,
    onGarbage: () => undefined,
    write: (b) => sent.push(b),
  });
}

describe('VISCA session: abort listeners only for queued messages', () => {
  it('a message sent at once to an idle camera adds no abort listener to the action signal', () => {
    const sent: Buffer[] = [];
    const s = session(sent);
    const ac = new AbortController();
    void s.command('preset recall 1', encode.preset(1, 'recall', 0), { signal: ac.signal }).catch(() => undefined);
    expect(sent).toHaveLength(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    s.failAll(new Error('test over'));
  });

  it('a message left queued behind one on the wire listens, and its abort withdraws it unsent', async () => {
    const sent: Buffer[] = [];
    const s = session(sent);
    const first = s.command('preset recall 1', encode.preset(1, 'recall', 0));
    const ac = new AbortController();
    const second = s.command('preset recall 2', encode.preset(1, 'recall', 1), { signal: ac.signal });
    expect(sent).toHaveLength(1);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    ac.abort();
    await expect(second).rejects.toThrow('cancelled before it was sent');
    expect(s.pending).toBe(1);
    s.failAll(new Error('test over'));
    await expect(first).rejects.toThrow('test over');
    expect(sent).toHaveLength(1);
  });
});

describe('clock seam timers', () => {
  it('a handle is only cleared by the clock that made it, and fires once', () => {
    const a = new FakeClock();
    const b = new FakeClock();
    const fired: string[] = [];
    const h = a.setTimeout(() => fired.push('a'), 10);
    b.clearTimeout(h);
    a.advance(10);
    a.advance(10);
    expect(fired).toEqual(['a']);
    a.clearTimeout(h); // after it fired: nothing to do
    const h2 = a.setTimeout(() => fired.push('a2'), 10);
    a.clearTimeout(h2);
    a.advance(20);
    expect(fired).toEqual(['a']);
    expect(a.pending()).toBe(0);
  });
});
