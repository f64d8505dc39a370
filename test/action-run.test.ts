// A device action's context makes its AbortSignal only when the driver reads it
// (src/host/action-run.ts): the timeout and the caller's cancel still reach a driver that
// reads it before, during or after they happen, the audit row and the caller's error are
// those of a timeout, and the `aborted` flag answers without making the signal.
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { type ActionContext, actionAborted, defineAction } from '../src/host/contract.js';
import { startOneDeviceHost } from './support/one-device-host.js';

const TIMEOUT_MS = 40;

/** Contexts the driver was given, by action, and what each saw of its signal. */
interface Seen {
  contexts: ActionContext[];
  abortedEarly: boolean[];
  reasons: unknown[];
}

function testActions(seen: Seen): Record<string, unknown> {
  const never = () => new Promise<never>(() => undefined);
  const actions = {
    // Never reads the signal; never answers.
    silent: defineAction({
      description: 'waits forever without looking at its signal',
      params: Type.Object({}),
      timeoutMs: TIMEOUT_MS,
      async run(_p, ctx) {
        seen.contexts.push(ctx);
        return never();
      },
    }),
    // Reads the signal at once and answers when it aborts.
    listening: defineAction({
      description: 'answers when its signal aborts',
      params: Type.Object({}),
      timeoutMs: TIMEOUT_MS,
      run(_p, ctx) {
        seen.contexts.push(ctx);
        const signal = ctx.signal;
        seen.abortedEarly.push(signal.aborted);
        return new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            seen.reasons.push(signal.reason);
            reject(signal.reason);
          });
        });
      },
    }),
    // Answers at once, never touching its signal.
    quick: defineAction({
      description: 'answers at once',
      params: Type.Object({ n: Type.Integer() }),
      async run({ n }, ctx) {
        seen.contexts.push(ctx);
        return { n };
      },
    }),
  };
  return actions;
}

/** The host with device "dev" on these actions (test/support/one-device-host.ts). */
const startHost = (seen: Seen) => startOneDeviceHost('action-run-test', testActions(seen));

const cause = { kind: 'api' as const, name: 'test' };

describe('device action context: a signal made on demand', () => {
  it('times out a driver that never read its signal; read later, the signal is aborted with the timeout', async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host, audit } = await startHost(seen);
    await expect(host.invoke('dev', 'silent', {}, cause)).rejects.toMatchObject({
      code: 'DEVICE_TIMEOUT',
      message: `device dev: action "silent" timed out after ${TIMEOUT_MS} ms`,
    });
    const ctx = seen.contexts[0];
    expect(ctx.aborted).toBe(true);
    expect(actionAborted(ctx)).toBe(true);
    expect(ctx.signal.aborted).toBe(true);
    expect(ctx.signal.reason).toMatchObject({ code: 'DEVICE_TIMEOUT' });
    expect(ctx.signal).toBe(ctx.signal); // one signal, whenever read
    const [row] = audit.list({ device: 'dev' });
    expect(row).toMatchObject({
      action: 'silent',
      ok: false,
      error: `device dev: action "silent" timed out after ${TIMEOUT_MS} ms`,
    });
  });

  it('aborts a signal read before the timeout, with the timeout as its reason', async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host } = await startHost(seen);
    await expect(host.invoke('dev', 'listening', {}, cause)).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    expect(seen.abortedEarly).toEqual([false]);
    expect(seen.reasons).toHaveLength(1);
    expect(seen.reasons[0]).toMatchObject({ code: 'DEVICE_TIMEOUT' });
  });

  it("passes the caller's cancel on, to a signal read before or after it", async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host } = await startHost(seen);
    const caller = new AbortController();
    const listening = host.invoke('dev', 'listening', {}, { kind: 'scenario', name: 's' }, caller.signal);
    const silent = host.invoke('dev', 'silent', {}, { kind: 'scenario', name: 's' }, caller.signal);
    const why = new Error('scenario cancelled');
    caller.abort(why);
    // The listening driver rejects with the reason it heard; the host reports its failure.
    await expect(listening).rejects.toThrow('device dev: listening failed: scenario cancelled');
    expect(seen.reasons).toEqual([why]);
    const silentCtx = seen.contexts[1];
    expect(silentCtx.aborted).toBe(true);
    expect(silentCtx.signal.aborted).toBe(true);
    expect(silentCtx.signal.reason).toBe(why);
    // The silent one still ends by its timeout (cancel withdraws nothing a driver ignores).
    await expect(silent).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
  });

  it('an action that answers leaves its signal unmade and never aborted', async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host, audit } = await startHost(seen);
    await expect(host.invoke('dev', 'quick', { n: 7 }, cause)).resolves.toEqual({ n: 7 });
    const ctx = seen.contexts[0];
    expect(ctx.cause).toEqual(cause);
    expect(ctx.aborted).toBe(false);
    expect(ctx.signal.aborted).toBe(false);
    expect(audit.list({ device: 'dev' })[0]).toMatchObject({ action: 'quick', ok: true, result: { n: 7 }, params: { n: 7 } });
  });
});

describe('device action end: a throw while it is wrapped up', () => {
  // Found in review: with the action's end run from promise callbacks and a timer, a throw there
  // (a metric, a listener of the status a timeout changes, the audit queue) left the caller
  // waiting forever on an answer, or escaped from the timer as an uncaught exception.
  const throwingMetrics = () => ({
    observe() {
      throw new Error('observe broke');
    },
  });

  it('an answered action fails for its caller with that error, and the host goes on', async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host } = await startHost(seen);
    host.metrics = throwingMetrics();
    await expect(host.invoke('dev', 'quick', { n: 1 }, cause)).rejects.toThrow('observe broke');
    host.metrics = null;
    await expect(host.invoke('dev', 'quick', { n: 2 }, cause)).resolves.toEqual({ n: 2 });
  });

  it('a timed-out action fails for its caller with that error; nothing escapes the timer', async () => {
    const seen: Seen = { contexts: [], abortedEarly: [], reasons: [] };
    const { host } = await startHost(seen);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      host.metrics = throwingMetrics();
      await expect(host.invoke('dev', 'silent', {}, cause)).rejects.toThrow('observe broke');
      // A turn for anything thrown from the timer to surface.
      await new Promise((r) => setTimeout(r, 20));
      expect(uncaught).toEqual([]);
      host.metrics = null;
      await expect(host.invoke('dev', 'silent', {}, cause)).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
