// The fault matrix for HTTP devices (issue 17): the TCP matrix's cases
// (test/support/fault-matrix.ts) as HTTP shows them. Real HTTP on loopback to
// a scriptable peer (http-fault-peer.ts) in front of the driver's device
// stand-in; the real host, state store and alerts on a fake clock (the request
// timeout of http-client is real time: the peer paces the fake clock while a
// request is under way). Per case: the status sequence, the device_offline
// alert after its debounce, requests held to the backoff / poll schedule
// (counted on the peer), recovery without a restart, a change on the device
// shown after a return, an action while offline refused at once
// (DEVICE_OFFLINE, zero fake time), no secret in any message, and nothing left
// behind after 100 drop/return cycles.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import type { DriverDefinition } from '../../src/host/contract.js';
import { AgentError } from '../../src/util/errors.js';
import { maxConnects, type StandIn } from './fault-matrix.js';
import { DEBOUNCE_S, type Rig, startRig } from './fault-rig.js';
import { type HttpGarbage, type HttpPeerMode, ScriptableHttpPeer } from './http-fault-peer.js';

export interface HttpFaultSpec<D extends StandIn = StandIn> {
  driver: DriverDefinition;
  /** Starts the device stand-in the peer forwards to. */
  device(): Promise<D>;
  /** The driver's config for a server reached at http://127.0.0.1:`port` (common keys may be added by the matrix). */
  config(port: number): Record<string, unknown>;
  /** The poll interval and request timeout that config sets (ms). */
  pollIntervalMs: number;
  requestTimeoutMs: number;
  /** Most requests one failed connection attempt makes (the handshake stops at the first failed request). */
  requestsPerAttempt: number;
  /** Most requests one poll makes. */
  requestsPerPoll: number;
  /** An action that needs the server (refused while the device is not online). */
  action: { name: string; params: Record<string, unknown> };
  /** What the peer's "garbage" mode answers: a body this protocol cannot read. */
  garbage: HttpGarbage;
  /** What the status message says for each answered fault (its reason, never a secret). */
  reasons: { error: RegExp; garbage: RegExp; truncated: RegExp };
  /** Strings that must never appear in a status message or an alert (password, tokens, a secret URL path). */
  secrets(device: D): string[];
  /** True once the published state holds what the device serves. */
  ready(state: Record<string, unknown>): boolean;
  /** Makes the stand-in serve something new, and tells whether the agent's state shows it. */
  change: { make(device: D): void | Promise<void>; seen(state: Record<string, unknown>): boolean };
}

const WINDOW_MS = 120_000;
const ANSWERED: { mode: Exclude<HttpPeerMode, 'device' | 'slow'>; what: string }[] = [
  { mode: 'error', what: 'answers 503' },
  { mode: 'garbage', what: 'answers a garbage body' },
  { mode: 'truncated', what: 'answers a truncated body' },
];

export function describeHttpFaultMatrix<D extends StandIn>(name: string, spec: HttpFaultSpec<D>): void {
  // Bounds, not measurements: the fake clock moves minutes in small steps with real I/O between them.
  describe(`HTTP fault matrix: ${name}`, { timeout: 120_000 }, () => {
    async function setup(o: { refused?: boolean; mode?: HttpPeerMode; extra?: Record<string, unknown> } = {}) {
      const device = await spec.device();
      const peer = new ScriptableHttpPeer(() => device, { garbage: spec.garbage, slowMs: spec.requestTimeoutMs + 1000 });
      if (o.mode) peer.mode = o.mode;
      if (o.refused) await peer.refuseFromBoot();
      else await peer.listen();
      // The driver's defaults filled in, as the config loader does.
      const config = Value.Default(spec.driver.config, { ...spec.config(peer.port), ...o.extra }) as Record<string, unknown>;
      const rig = await startRig(spec.driver, config, (ms) => peer.pace(ms));
      const stop = async () => {
        await rig.stop();
        await peer.stop();
        await device.stop();
      };
      return { device, peer, rig, stop };
    }

    /** Refused with DEVICE_OFFLINE before any timer could run: no fake time passes, a few event-loop turns. */
    async function refusedAtOnce(rig: Rig): Promise<void> {
      const t0 = rig.clock.now();
      let outcome: unknown = 'pending';
      void rig.invoke(spec.action.name, spec.action.params).then(
        () => {
          outcome = 'answered';
        },
        (e: unknown) => {
          outcome = e;
        },
      );
      for (let i = 0; i < 5 && outcome === 'pending'; i++) await new Promise((r) => setImmediate(r));
      expect(rig.clock.now()).toBe(t0);
      expect(outcome).toBeInstanceOf(AgentError);
      expect((outcome as AgentError).code).toBe('DEVICE_OFFLINE');
    }
    const alertRaised = (rig: Rig) => rig.alerts.some((a) => a.kind === 'device_offline' && a.state === 'raised');
    /**
     * Attempts the lifecycle made: each reports "connected to <origin>; handshake" (an HTTP link has nothing to
     * open). A status is published again, unchanged, when the driver reports an error meanwhile: repeats are one.
     */
    const attempts = (rig: Rig) =>
      rig.messages.filter((m, i) => /^connecting: connected to .*; handshake$/.test(m) && rig.messages[i - 1] !== m).length;
    function noSecrets(rig: Rig, device: D): void {
      const said = `${rig.messages.join('\n')}\n${JSON.stringify(rig.alerts)}`;
      for (const s of spec.secrets(device)) expect(said).not.toContain(s);
      // A device's garbage is never echoed raw into a status (no control bytes).
      expect(said).not.toMatch(/[\u0000-\u0008\u000e-\u001f\u00ff]/);
    }
    async function online(rig: Rig, what = 'online', budgetMs = 30_000): Promise<void> {
      await rig.pump(() => rig.status === 'online' && spec.ready(rig.state()), what, budgetMs);
    }

    it('refused from boot: offline with the reason, alert after the debounce, attempts held to the backoff, action refused at once; online once the server listens, without a restart', async () => {
      const { device, peer, rig, stop } = await setup({ refused: true });
      try {
        await rig.pump(() => rig.status === 'offline', 'offline');
        expect(rig.statuses.slice(0, 2)).toEqual(['connecting', 'offline']);
        expect(rig.message).toMatch(/ECONNREFUSED/);
        expect(rig.message).toMatch(/next attempt in/);
        await refusedAtOnce(rig);
        await rig.advance((DEBOUNCE_S - 1) * 1000, 250);
        expect(alertRaised(rig)).toBe(false);
        await rig.advance(2000, 250);
        expect(alertRaised(rig)).toBe(true);
        await rig.advance(WINDOW_MS - DEBOUNCE_S * 1000, 250);
        expect(rig.statuses).not.toContain('online');
        expect(attempts(rig)).toBeGreaterThanOrEqual(2);
        expect(attempts(rig)).toBeLessThanOrEqual(maxConnects(WINDOW_MS + 2000));
        expect(peer.requests).toBe(0);
        await peer.listen();
        await online(rig, 'online once the server listens', 80_000);
        expect(rig.alerts.at(-1)).toMatchObject({ kind: 'device_offline', state: 'cleared' });
        noSecrets(rig, device);
      } finally {
        await stop();
      }
    });

    for (const { mode, what } of [...ANSWERED, { mode: 'slow' as const, what: 'answers after the request timeout' }]) {
      // Silence (slow) is `offline`; an answer that is an error is `error` (reachable, not serving), both retried on the backoff.
      const down = mode === 'slow' ? 'offline' : 'error';
      it(`${what} from boot: never online, \`${down}\` saying why, requests held to the backoff, alert, action refused; heals without a restart`, async () => {
        const { device, peer, rig, stop } = await setup({ mode });
        try {
          await rig.pump(() => rig.status === down, down, 60_000, 100);
          expect(rig.statuses[0]).toBe('connecting');
          if (mode === 'slow') {
            // Silence: the request's own deadline (request_timeout_ms), not a longer one.
            expect(rig.message).toMatch(new RegExp(`no answer within ${spec.requestTimeoutMs} ms`));
          } else {
            expect(rig.message).toMatch(spec.reasons[mode]);
            // An answer is told apart from silence: the message says what came back, not that nothing did.
            expect(rig.message).not.toMatch(/ECONNREFUSED|no answer within|socket hang up/);
          }
          await refusedAtOnce(rig);
          await rig.advance(WINDOW_MS, 250);
          expect(rig.statuses).not.toContain('online');
          expect(rig.statuses).not.toContain(mode === 'slow' ? 'error' : 'offline');
          expect([down, 'connecting']).toContain(rig.status);
          expect(rig.messages.filter((m) => m.startsWith(`${down}:`)).every((m) => /next attempt in/.test(m))).toBe(true);
          expect(peer.requests).toBeGreaterThanOrEqual(2);
          expect(peer.requests).toBeLessThanOrEqual(maxConnects(WINDOW_MS + 60_000) * spec.requestsPerAttempt);
          expect(alertRaised(rig)).toBe(true);
          await refusedAtOnce(rig);
          noSecrets(rig, device);
          peer.mode = 'device';
          await online(rig, 'online once healed', 80_000);
          expect(rig.alerts.at(-1)).toMatchObject({ kind: 'device_offline', state: 'cleared' });
        } finally {
          await stop();
        }
      });
    }

    for (const { mode, what } of ANSWERED) {
      it(`${what} after online: \`error\` with its reason (not offline), polls held to the poll interval, alert after the debounce; online at the next good answer`, async () => {
        const { device, peer, rig, stop } = await setup();
        try {
          await online(rig);
          const from = rig.statuses.length;
          const n0 = peer.requests;
          peer.mode = mode;
          await rig.pump(() => rig.status === 'error', 'error', spec.pollIntervalMs + spec.requestTimeoutMs + 1000, 100);
          expect(rig.message).toMatch(spec.reasons[mode]);
          await refusedAtOnce(rig);
          await rig.advance(DEBOUNCE_S * 1000 + 1000, 250);
          expect(alertRaised(rig)).toBe(true);
          await rig.advance(WINDOW_MS - DEBOUNCE_S * 1000, 250);
          // The server answered: the connection stays, no reconnect (no `connecting`, no `offline`).
          expect(rig.statuses.slice(from)).toEqual(['error']);
          const window = DEBOUNCE_S * 1000 + 1000 + (WINDOW_MS - DEBOUNCE_S * 1000) + spec.pollIntervalMs;
          expect(peer.requests - n0).toBeGreaterThanOrEqual(2);
          expect(peer.requests - n0).toBeLessThanOrEqual((Math.floor(window / spec.pollIntervalMs) + 1) * spec.requestsPerPoll);
          noSecrets(rig, device);
          peer.mode = 'device';
          await online(rig, 'online at the next good answer', spec.pollIntervalMs + spec.requestTimeoutMs + 1000);
          expect(rig.alerts.at(-1)).toMatchObject({ kind: 'device_offline', state: 'cleared' });
        } finally {
          await stop();
        }
      });
    }

    it('answers slower than the request timeout after online: offline within one poll interval + one request timeout, with the reason; back once it answers in time', async () => {
      const { peer, rig, stop } = await setup();
      try {
        await online(rig);
        const t0 = rig.clock.now();
        peer.mode = 'slow';
        await rig.pump(() => rig.status === 'offline', 'offline', spec.pollIntervalMs + spec.requestTimeoutMs + 1000, 100);
        expect(rig.clock.now() - t0).toBeLessThanOrEqual(spec.pollIntervalMs + spec.requestTimeoutMs + 100);
        expect(rig.message).toMatch(/liveness probe/);
        await refusedAtOnce(rig);
        peer.mode = 'device';
        await online(rig, 'online again', 10_000);
      } finally {
        await stop();
      }
    });

    it('server gone after online: offline at the next poll, action refused at once; back after 1 s and after 30 s without a restart, showing what changed meanwhile', async () => {
      const { device, peer, rig, stop } = await setup();
      try {
        await online(rig);
        await peer.refuse();
        await rig.pump(() => rig.status === 'offline', 'offline', spec.pollIntervalMs + spec.requestTimeoutMs + 1000, 100);
        expect(rig.message).toMatch(/liveness probe.*ECONNREFUSED/);
        await refusedAtOnce(rig);
        await spec.change.make(device);
        await rig.advance(1000, 50);
        await peer.listen();
        await online(rig, 'online again', 10_000);
        // The handshake of the new connection reads the device afresh (HTTP's "subscriptions re-established").
        expect(spec.change.seen(rig.state())).toBe(true);
        await peer.refuse();
        await rig.pump(() => rig.status === 'offline', 'offline again', spec.pollIntervalMs + spec.requestTimeoutMs + 1000, 100);
        await rig.advance(30_000, 250);
        expect(rig.status).not.toBe('online');
        await peer.listen();
        await online(rig, 'online after 30 s away', 40_000);
        noSecrets(rig, device);
      } finally {
        await stop();
      }
    });

    it('100 drop/return cycles leave no timer and no socket behind', async () => {
      const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
      const base = sockets();
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const timersBase = timers();
      const { peer, rig, stop } = await setup({ extra: { reconnect_min_ms: 10, reconnect_max_ms: 40 } });
      await online(rig);
      for (let i = 0; i < 100; i++) {
        await peer.refuse();
        await rig.pump(() => rig.status !== 'online', `offline (cycle ${i})`, spec.pollIntervalMs + spec.requestTimeoutMs, 250);
        await peer.listen();
        await rig.pump(() => rig.status === 'online', `online (cycle ${i})`, 10_000, 50);
      }
      await stop();
      expect(rig.clock.pending()).toBe(0);
      // Real timers too: http-client's request deadlines, the peer's holds.
      await rig.pump(() => peer.open === 0 && sockets() <= base && timers() <= timersBase, 'sockets and timers closed', 1000, 10);
      // A bound, not a measurement: 100 polls that fail and reconnect, each a few real I/O turns.
    }, 120_000);
  });
}
