// `[mqtt] state_coalesce_ms` against a real broker (aedes in-process;
// Mosquitto too when available): a burst of changes to the room's state is
// published at most once per interval, the final value always goes out, and
// a value that changed while the link was down is the one published on the
// next connect. Bounds are counted against the measured burst duration, not
// asserted as timings.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAlerts, createSync, type SyncFeature } from '../src/sync/index.js';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { brokerSpecs, mqttToml, Subscriber, type TestBroker } from './sync-support.js';

const BASE = 'rooms/test-room';
const STATE = `${BASE}/state`;
const BURST = 40;

type State = { director?: { status?: { n?: number } } };
const turnOf = (s: State) => s.director?.status?.n;
const nextTurn = () => new Promise<void>((r) => setTimeout(r, 5));

describe.each(brokerSpecs)('state coalescing over $kind', (spec) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  async function setup(extra: string): Promise<{ b: TestBroker; a: TestAgent; sub: Subscriber }> {
    const b = await spec.create();
    cleanups.push(() => b.close());
    const sub = await Subscriber.connect(b, [STATE]);
    cleanups.push(() => sub.close());
    const a = await startTestAgent(mqttToml(b, extra), { features: [createAlerts, createSync] });
    cleanups.push(() => a.stop());
    const sync = a.agent.ctx.feature<SyncFeature>('sync')!;
    await vi.waitFor(
      () => {
        if (!sync.link.isUp) throw new Error('mqtt link not up');
      },
      { timeout: 10_000, interval: 20 },
    );
    await sub.waitFor(() => sub.json(STATE).length > 0, 10_000, 'state on connect');
    return { b, a, sub };
  }
  /** N director changes, each in its own event-loop turn (like a talk turn's decisions). */
  async function burst(a: TestAgent, n = BURST): Promise<void> {
    for (let i = 1; i <= n; i++) {
      a.agent.ctx.bus.publish('director', { status: { n: i } });
      await nextTurn();
    }
  }
  const burstStates = (sub: Subscriber) => sub.json<State>(STATE).filter((s) => turnOf(s) !== undefined);

  it('a burst of changes: at most ceil(duration / interval) + 1 state publishes, the last one the final state', async () => {
    const interval = 200;
    const { b, a, sub } = await setup(`state_coalesce_ms = ${interval}`);
    const t0 = Date.now();
    await burst(a);
    await sub.waitFor(() => burstStates(sub).some((s) => turnOf(s) === BURST), 10_000, 'final state');
    const duration = Date.now() - t0;
    const published = burstStates(sub);
    expect(published.length).toBeLessThanOrEqual(Math.ceil(duration / interval) + 1);
    expect(published.length).toBeLessThan(BURST);
    expect(turnOf(published[published.length - 1]!)).toBe(BURST);
    expect(a.agent.ctx.feature<SyncFeature>('sync')!.summary().director).toEqual({ status: { n: BURST } });
    // Retained semantics unchanged: a late subscriber gets the final state.
    const late = await Subscriber.connect(b, [STATE]);
    cleanups.push(() => late.close());
    await late.waitFor(() => late.json<State>(STATE).some((s) => turnOf(s) === BURST), 10_000, 'retained final state');
  }, 30_000);

  it('state_coalesce_ms = 0 publishes every change', async () => {
    const { a, sub } = await setup('state_coalesce_ms = 0');
    await burst(a, 10);
    await sub.waitFor(() => burstStates(sub).some((s) => turnOf(s) === 10), 10_000, 'final state');
    expect(burstStates(sub).map(turnOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }, 30_000);

  it('a change made while the broker is down is the state published on the next connect', async () => {
    const { b, a, sub } = await setup('state_coalesce_ms = 60000');
    // The state published on connect started a 60 s interval: the next change waits.
    const sync = a.agent.ctx.feature<SyncFeature>('sync')!;
    await b.stop();
    await vi.waitFor(
      () => {
        if (sync.link.isUp) throw new Error('link still up');
      },
      { timeout: 10_000, interval: 20 },
    );
    await burst(a, 5);
    await b.start(true);
    await sub.waitFor(() => burstStates(sub).some((s) => turnOf(s) === 5), 10_000, 'final state after reconnect');
    expect(burstStates(sub).map(turnOf)).toEqual([5]);
  }, 30_000);
});
