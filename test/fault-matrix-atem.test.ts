// The fault matrix (issue 17) for the ATEM driver. atem-connection keeps the
// switcher's UDP session (there is no JavaScript ATEM simulator, and
// Blackmagic publishes no protocol document to write one from: docs/drivers/atem.md),
// so the peer here is the fake of the library's class (drivers/atem/fake-atem.ts),
// which behaves as the library does: connect() returns once HELLO is sent,
// `connected` after the state dump, `disconnected` after 5 s of silence, then
// its own retry loop until disconnect(). The real host, state store and alerts
// run on a fake clock (test/support/fault-rig.ts). The cases that need a wire
// (garbage, split replies, a handshake the switcher refuses) are the library's,
// not the driver's, and are listed as skipped.
import { afterEach, describe, expect, it } from 'vitest';
import { setAtemFactory } from '../drivers/atem/backend.js';
import { FakeAtem } from '../drivers/atem/fake-atem.js';
import { atemDriver } from '../drivers/atem/index.js';
import { expectRefusedOffline, offlineAlertRaised } from './support/fault-checks.js';
import { DEBOUNCE_S, type Rig, startRig } from './support/fault-rig.js';

const CONNECT_TIMEOUT = 10_000;
const PROBE = 2000;

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.stop();
  rig = null;
  setAtemFactory(null);
});

/** `onCreate`: called each time the driver asks the factory for a library instance. */
async function setup(fake: FakeAtem, extra: Record<string, unknown> = {}, onCreate = () => {}): Promise<Rig> {
  setAtemFactory(async () => {
    onCreate();
    return fake;
  });
  rig = await startRig(atemDriver, {
    host: '10.0.0.20',
    port: 9910,
    me: 0,
    worker_thread: true,
    connect_timeout_ms: CONNECT_TIMEOUT,
    probe_interval_ms: PROBE,
    ...extra,
  });
  return rig;
}

const connects = (fake: FakeAtem) => fake.calls.filter((c) => c.method === 'connect').length;
const refusedWhileOffline = (r: Rig) => expectRefusedOffline(r, 'cut');

describe('fault matrix: atem (through atem-connection)', { timeout: 60_000 }, () => {
  it('unreachable from boot: offline (not connecting forever) with the reason, attempts held to the backoff, alert after the debounce; online once it answers', async () => {
    const fake = new FakeAtem();
    fake.reachable = false;
    const r = await setup(fake);
    await r.pump(() => r.status === 'offline', 'offline', CONNECT_TIMEOUT + 1000);
    expect(r.statuses.slice(0, 2)).toEqual(['connecting', 'offline']);
    expect(r.message).toMatch(/^ATEM at 10\.0\.0\.20:9910: no answer within 10000 ms; next attempt in /);
    // Each failed attempt closed the library's session, so its own 1 s retry loop is not running.
    expect(fake.status).toBe(0);
    await refusedWhileOffline(r);
    // 120 s: attempts of 10 s each with waits of 1, 2, 4, 8, 16, 32, 60 s between them — at most 8, not 120.
    await r.advance(120_000, 250);
    expect(connects(fake)).toBeLessThanOrEqual(8);
    expect(connects(fake)).toBeGreaterThanOrEqual(5);
    expect(offlineAlertRaised(r)).toBe(true);
    fake.comeBack();
    await r.pump(() => r.status === 'online', 'online', 120_000);
    expect(r.state()).toMatchObject({ program: 1, preview: 2 });
    await r.invoke('cut');
    expect(r.state()).toMatchObject({ program: 2, preview: 1 });
  });

  it('drops after online: offline at once, the library session closed, reconnects on the backoff, state re-read on return', async () => {
    const fake = new FakeAtem();
    const r = await setup(fake);
    await r.pump(() => r.status === 'online', 'online', 5000);
    fake.drop();
    await r.pump(() => r.status === 'offline', 'offline', 100, 10);
    expect(r.message).toMatch(/no packet from the switcher for 5 s/);
    await refusedWhileOffline(r);
    await r.advance(10);
    expect(fake.status).toBe(0);
    expect(fake.calls.at(-1)?.method).toBe('disconnect');
    const before = connects(fake);
    await r.advance(30_000, 250);
    // Away 30 s: attempts after 1, 2 and 4 s waits plus their 10 s timeouts — never the library's 1 s loop.
    expect(connects(fake) - before).toBeLessThanOrEqual(3);
    expect(connects(fake) - before).toBeGreaterThanOrEqual(2);
    fake.switcher.video.mixEffects[0].programInput = 3;
    fake.comeBack();
    await r.pump(() => r.status === 'online', 'online again', 120_000);
    expect(r.state()).toMatchObject({ program: 3 });
    expect(r.statuses.slice(0, 3)).toEqual(['connecting', 'online', 'offline']);
    expect(r.statuses.at(-1)).toBe('online');
  });

  it('the session dies without a `disconnected` event: the probe sees it within probe interval + timeout', async () => {
    const fake = new FakeAtem();
    const r = await setup(fake);
    await r.pump(() => r.status === 'online', 'online', 5000);
    const t0 = r.clock.now();
    fake.status = 1;
    await r.pump(() => r.status === 'offline', 'offline', PROBE + 5000 + 1000, 50);
    expect(r.clock.now() - t0).toBeLessThanOrEqual(PROBE + 5000);
  });

  it('100 drop/return cycles leave no timer behind, and one library instance serves them all', async () => {
    const fake = new FakeAtem();
    let instances = 0;
    const r = await setup(fake, { reconnect_min_ms: 10, reconnect_max_ms: 40 }, () => instances++);
    await r.pump(() => r.status === 'online', 'online', 5000);
    for (let i = 0; i < 100; i++) {
      fake.drop();
      await r.pump(() => r.status !== 'online', `offline (cycle ${i})`, 2000, 10);
      fake.comeBack();
      await r.pump(() => r.status === 'online', `online (cycle ${i})`, 10_000, 10);
    }
    await r.stop();
    rig = null;
    expect(r.clock.pending()).toBe(0);
    expect(instances).toBe(1);
    expect(fake.destroyed).toBe(true);
    expect(fake.listenerCount('disconnected')).toBe(0);
  });

  it.skip('garbage, replies split or merged, a handshake the switcher refuses — not the driver’s: atem-connection parses the UDP packets and keeps the session; the driver sees its events only', () =>
    undefined);
  it.skip(`a config error the switcher reports — not applicable: the driver's only addressing is host and port; a wrong M/E shows as state that never changes (DEBOUNCE ${DEBOUNCE_S} s unaffected)`, () =>
    undefined);
});
