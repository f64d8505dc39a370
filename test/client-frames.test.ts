// RoomAgentClient against a scripted in-memory WebSocket: the reconnect
// backoff schedule on fake timers, and robustness to any frame the network
// may deliver (property test).
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ConnectionState, RoomAgentClient, type WebSocketLike } from '../src/client/index.js';

/** A WebSocket the test drives: it records what the client sends and answers system.info/subscribe. */
class ScriptedSocket implements WebSocketLike {
  static made: ScriptedSocket[] = [];
  static refuse = false;
  readyState = 0;
  readonly sent: { id: number; method: string; params: unknown }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  autoAnswer = true;
  constructor(readonly url: string) {
    ScriptedSocket.made.push(this);
    queueMicrotask(() => (ScriptedSocket.refuse ? this.drop(1006) : this.open()));
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  send(text: string): void {
    const msg = JSON.parse(text);
    this.sent.push(msg);
    if (!this.autoAnswer) return;
    const result =
      msg.method === 'system.info'
        ? { name: 'r', room_id: 'r', version: '0', started_at: '', uptime_s: 0, node: '' }
        : msg.method === 'subscribe'
          ? {
              subscribed: msg.params.topics,
              snapshot: Object.fromEntries(msg.params.topics.map((t: string) => [t, `snap-${ScriptedSocket.made.length}`])),
            }
          : { echo: msg.params };
    queueMicrotask(() => this.deliver(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result })));
  }
  deliver(data: unknown): void {
    this.onmessage?.({ data });
  }
  drop(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState !== 3) this.drop(code, reason);
  }
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

afterEach(() => {
  vi.useRealTimers();
  ScriptedSocket.made = [];
  ScriptedSocket.refuse = false;
});

function make(backoff = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 }) {
  return new RoomAgentClient({ url: 'http://agent.test:8080', token: 't0k/en', WebSocket: ScriptedSocket, backoff });
}

describe('connection and backoff', () => {
  it('puts the token in the WS request query only for the standard WebSocket, and the /ws path on the URL', async () => {
    const c = make();
    await c.connect();
    expect(ScriptedSocket.made[0].url).toBe('ws://agent.test:8080/ws?token=t0k%2Fen');
    c.close();
  });

  it('retries after 100, 200, 400, 800, 1000, 1000 ms while the agent stays away, then re-subscribes', async () => {
    vi.useFakeTimers();
    const c = make();
    const states: ConnectionState[] = [];
    c.onState((s) => states.push(s));
    const connected = c.connect();
    await flush();
    await connected;
    const events: { snapshot: boolean; data: unknown }[] = [];
    await c.subscribe(['devices'], (e) => events.push(e));
    ScriptedSocket.refuse = true;
    ScriptedSocket.made[0].drop(1006);
    const delays = [100, 200, 400, 800, 1000, 1000];
    for (const d of delays) {
      const before = ScriptedSocket.made.length;
      await vi.advanceTimersByTimeAsync(d - 1);
      expect(ScriptedSocket.made.length, `no attempt before ${d} ms`).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(ScriptedSocket.made.length, `an attempt after ${d} ms`).toBe(before + 1);
    }
    ScriptedSocket.refuse = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.state).toBe('open');
    const last = ScriptedSocket.made.at(-1)!;
    expect(last.sent.map((m) => m.method)).toEqual(['system.info', 'subscribe']);
    expect(events.map((e) => e.snapshot)).toEqual([true, true]);
    expect(events[1].data).toBe(`snap-${ScriptedSocket.made.length}`);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    // After a success the schedule starts again at initialMs.
    ScriptedSocket.made.at(-1)!.drop(1006);
    const n = ScriptedSocket.made.length;
    await vi.advanceTimersByTimeAsync(100);
    expect(ScriptedSocket.made.length).toBe(n + 1);
    c.close();
  });

  it('a call without an answer fails with CALL_TIMEOUT', async () => {
    vi.useFakeTimers();
    const c = new RoomAgentClient({ url: 'ws://a/ws', token: 'x', WebSocket: ScriptedSocket, callTimeoutMs: 5000 });
    const connected = c.connect();
    await flush();
    await connected;
    ScriptedSocket.made[0].autoAnswer = false;
    const p = c.call('devices.list').catch((e) => e);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await p).toMatchObject({ codeName: 'CALL_TIMEOUT', method: 'devices.list' });
    c.close();
  });
});

describe('frames from the network', () => {
  it('no frame makes the client throw; calls still get their own answers', async () => {
    const c = make();
    await c.connect();
    const ws = ScriptedSocket.made[0];
    const seen: unknown[] = [];
    await c.subscribe(['devices'], (e) => seen.push(e.data));
    const frame = fc.oneof(
      fc.string(),
      // (Frames claiming the id of a pending call would legitimately answer it: ids here never match ours.)
      fc
        .jsonValue()
        .filter((v) => !(v !== null && typeof v === 'object' && 'id' in v))
        .map((v) => JSON.stringify(v)),
      fc
        .record({
          jsonrpc: fc.constant('2.0'),
          id: fc.oneof(fc.integer({ max: 0 }), fc.string(), fc.constant(null)),
          result: fc.jsonValue(),
        })
        .map((v) => JSON.stringify(v)),
      fc
        .record({
          jsonrpc: fc.constant('2.0'),
          method: fc.constant('event'),
          params: fc.record({ topic: fc.constantFrom('devices', 'other'), data: fc.jsonValue() }),
        })
        .map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 64 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { maxLength: 20 }), async (frames) => {
        const answer = c.call('devices.get', { device: 'cam-1' });
        for (const f of frames) expect(() => ws.deliver(f)).not.toThrow();
        // The scripted answer (sent on a microtask) still reaches the right call.
        expect(await answer).toEqual({ echo: { device: 'cam-1' } });
      }),
      { numRuns: 200 },
    );
    // Only well-formed events for a subscribed topic reached the handler.
    expect(seen.length).toBeGreaterThan(0);
    c.close();
  });
});
