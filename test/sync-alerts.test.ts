// Alerts on a fake clock: debounced device offline, late meetings, recorder
// failure, low disk with hysteresis; Slack posts rate-limited per kind (to a
// real local HTTP server); alerts on MQTT `alerts` and in `events`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentContext } from '../src/app-context.js';
import { AlertsFeature, createSync } from '../src/sync/index.js';
import { createTracking, type DialRecord, type TrackingFeature } from '../src/tracking/index.js';
import type { AlertMessage, EventMessage } from '../src/sync/topics.js';
import { FakeClock } from '../src/util/clock.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { createAedes, mqttToml, Subscriber } from './sync-support.js';

interface Hook {
  url: string;
  posts: string[];
  close(): Promise<void>;
}
async function slackHook(): Promise<Hook> {
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      posts.push((JSON.parse(body) as { text: string }).text);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/secret`,
    posts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Setup {
  a: TestAgent;
  clock: FakeClock;
  disk: { freeMb: number };
  alerts: AlertMessage[];
  events: { type: string; data: Record<string, unknown> }[];
  feature: AlertsFeature;
}
async function setup(alertsToml: string): Promise<Setup> {
  const clock = new FakeClock(Date.UTC(2026, 2, 2, 9, 0, 0));
  const disk = { freeMb: 50_000 };
  let feature: AlertsFeature | null = null;
  const a = await startTestAgent(`[alerts]\n${alertsToml}\n`, {
    clock,
    features: [
      (ctx: AgentContext) => {
        feature = new AlertsFeature(ctx, ctx.config.alerts!, () => disk.freeMb * 1024 * 1024);
        return feature;
      },
      // Only with a [tracking] table (the dial_failed cases).
      createTracking,
    ],
  });
  cleanups.push(() => a.stop());
  const alerts: AlertMessage[] = [];
  const events: Setup['events'] = [];
  a.agent.bus.subscribe((m) => m.topic === 'alerts' && alerts.push(m.data as AlertMessage));
  a.agent.events.on((e) => e.type.startsWith('alert.') && events.push(e));
  return { a, clock, disk, alerts, events, feature: feature! };
}

describe('alerts', () => {
  it('device offline only after the debounce; cleared when it is back', async () => {
    const { a, clock, alerts, events } = await setup('device_offline_after_s = 60');
    const d = a.agent.devices;
    d.add({ id: 'cam1', name: 'Cam', driver: 'test', kind: 'camera', simulated: true });
    d.setStatus('cam1', 'online', 'ok');
    d.setStatus('cam1', 'offline', 'connection refused');
    clock.advance(59_000);
    d.setStatus('cam1', 'online', 'ok'); // a blip: no alert
    d.setStatus('cam1', 'offline', 'connection refused');
    clock.advance(59_000);
    expect(alerts).toEqual([]);
    clock.advance(2_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'device_offline', key: 'cam1', state: 'raised', data: { status: 'offline' } });
    expect(alerts[0].message).toContain('connection refused');
    clock.advance(600_000);
    expect(alerts).toHaveLength(1); // raised once, not repeated
    d.setStatus('cam1', 'online', 'ok');
    expect(alerts[1]).toMatchObject({ kind: 'device_offline', key: 'cam1', state: 'cleared', since: alerts[0].at });
    expect(events.map((e) => e.type)).toEqual(['alert.raised', 'alert.cleared']);
  });

  it('a reconnect attempt under way when the debounce ends is not recovery: the alert is raised', async () => {
    const { a, clock, alerts } = await setup('device_offline_after_s = 60');
    const d = a.agent.devices;
    d.add({ id: 'mx', name: 'Matrix', driver: 'test', kind: 'matrix', simulated: true });
    d.setStatus('mx', 'offline', 'connect ECONNREFUSED');
    clock.advance(59_000);
    d.setStatus('mx', 'connecting', 'connected; handshake'); // accepts, then fails the handshake again
    clock.advance(2_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'device_offline', key: 'mx', state: 'raised', data: { status: 'connecting' } });
  });

  it('a device disabled in the config (enabled = false, shown offline) never raises device_offline; an enabled one does', async () => {
    const { a, clock, alerts } = await setup(
      'device_offline_after_s = 60\n\n[devices.spare]\ndriver = "visca"\nsimulated = true\nenabled = false\n\n' +
        '[devices.cam1]\ndriver = "visca"\nsimulated = true\n',
    );
    const d = a.agent.devices;
    expect(d.get('spare')?.status).toMatchObject({ status: 'offline', message: 'disabled in config' });
    d.setStatus('cam1', 'offline', 'connection refused');
    d.setStatus('spare', 'offline', 'disabled in config'); // repeated, as a restart of the host would
    clock.advance(61_000);
    expect(alerts.map((x) => [x.kind, x.key, x.state])).toEqual([['device_offline', 'cam1', 'raised']]);
    clock.advance(600_000);
    expect(alerts.filter((x) => x.key === 'spare')).toEqual([]);
  });

  it('WS clients list active alerts and subscribe to their changes', async () => {
    const { a, feature } = await setup('');
    const ws = await a.connect(TOKENS.viewer);
    feature.raise('disk_low', '/data', 'low', {}, 'critical');
    expect(await ws.call('alerts.list')).toMatchObject([{ kind: 'disk_low', key: '/data', state: 'raised' }]);
    const sub = await ws.call<{ snapshot: { alerts: unknown[] } }>('subscribe', { topics: ['alerts'] });
    expect(JSON.stringify(sub)).toContain('disk_low');
    feature.clear('disk_low', '/data', 'ok again');
    const n = await ws.waitFor((m) => m.topic === 'alerts');
    expect(n.data).toMatchObject({ kind: 'disk_low', state: 'cleared', message: 'ok again' });
  });

  it('meeting not started N minutes after its scheduled start; cleared when it goes live', async () => {
    const { a, clock, alerts } = await setup('meeting_late_after_min = 5\ncheck_interval_s = 30');
    const start = new Date(clock.now() + 10 * 60_000).toISOString();
    a.agent.events.emit({
      type: 'meeting.upcoming',
      at: new Date(clock.now()).toISOString(),
      data: { id: 'm1', title: 'Board', start },
    });
    a.agent.events.emit({
      type: 'meeting.upcoming',
      at: new Date(clock.now()).toISOString(),
      data: { id: 'm2', title: 'On time', start },
    });
    clock.advance(11 * 60_000);
    a.agent.bus.publish('meetings', { id: 'm2', status: 'live', actual_start: new Date(clock.now()).toISOString() });
    clock.advance(4 * 60_000 - 31_000);
    expect(alerts).toEqual([]);
    clock.advance(31_000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'meeting_late', key: 'm1', state: 'raised', data: { scheduled_start: start } });
    expect(alerts[0].message).toContain('Board');
    a.agent.bus.publish('meetings', { insight: { meeting_id: 'm1', status: 'live' } });
    expect(alerts[1]).toMatchObject({ kind: 'meeting_late', key: 'm1', state: 'cleared' });
  });

  it('recorder failure from a failed action or an error status; cleared by success', async () => {
    const { a, alerts } = await setup('');
    a.agent.devices.add({ id: 'rec', name: 'Recorder', driver: 'test', kind: 'recorder', simulated: true });
    const action = (ok: boolean) =>
      a.agent.events.emit({
        type: 'device.action',
        at: new Date().toISOString(),
        data: { device: 'rec', action: 'start', ok, error: ok ? null : 'disk full' },
      });
    action(false);
    expect(alerts[0]).toMatchObject({ kind: 'recorder_failure', key: 'rec', severity: 'critical', state: 'raised' });
    expect(alerts[0].message).toContain('disk full');
    action(true);
    expect(alerts[1]).toMatchObject({ kind: 'recorder_failure', key: 'rec', state: 'cleared' });
    a.agent.devices.setStatus('rec', 'error', 'encoder crashed');
    expect(alerts[2]).toMatchObject({ kind: 'recorder_failure', state: 'raised' });
    a.agent.devices.setStatus('rec', 'online', 'ok');
    expect(alerts[3]).toMatchObject({ kind: 'recorder_failure', state: 'cleared' });
    // The recorder driver's own events: recorder.alert raises, recorder.started clears.
    const at = new Date().toISOString();
    a.agent.events.emit({ type: 'recorder.alert', at, data: { device: 'rec', reason: 'ffmpeg exited 1' } });
    expect(alerts[4]).toMatchObject({ kind: 'recorder_failure', state: 'raised' });
    expect(alerts[4].message).toContain('ffmpeg exited 1');
    a.agent.events.emit({ type: 'recorder.started', at, data: { device: 'rec', session: 's1' } });
    expect(alerts[5]).toMatchObject({ kind: 'recorder_failure', state: 'cleared' });
  });

  it('low disk with 10 % hysteresis', async () => {
    const { clock, disk, alerts } = await setup('disk_min_free_mb = 1000\ncheck_interval_s = 60\ndisk_path = "/srv/rec"');
    expect(alerts).toEqual([]);
    disk.freeMb = 900;
    clock.advance(60_000);
    expect(alerts[0]).toMatchObject({ kind: 'disk_low', key: '/srv/rec', severity: 'critical', data: { free_mb: 900 } });
    disk.freeMb = 1050; // above the bound, inside the hysteresis
    clock.advance(60_000);
    expect(alerts).toHaveLength(1);
    disk.freeMb = 1200;
    clock.advance(60_000);
    expect(alerts[1]).toMatchObject({ kind: 'disk_low', state: 'cleared' });
  });

  it('a failed dial-out to someone on the roster raises dial_failed (bus, events, Slack); a stranger does not; a connected redial clears', async () => {
    const hook = await slackHook();
    cleanups.push(() => hook.close());
    const { a, alerts, events } = await setup(`slack_webhook_url = "${hook.url}"\n\n[tracking]\npublish_delay_ms = 0\n`);
    const tracking = a.agent.feature<TrackingFeature>('tracking') as TrackingFeature;
    tracking.schedule({ id: 'M-7', title: 'Review', roster: [{ person: 'erin', role: 'expert', contacts: ['+15005550006'] }] });
    const at = Date.UTC(2026, 2, 2, 9, 5, 0);
    const dial = (call_sid: string, status: DialRecord['status'], over: Partial<DialRecord> = {}) =>
      tracking.recordDial({
        meeting: 'M-7',
        call_sid,
        status,
        sequence: 3,
        person: null,
        number: '+15005550006',
        reason: null,
        at,
        ...over,
      });
    dial('CA1', 'busy', { reason: '486' });
    dial('CA1', 'busy', { reason: '486' }); // Twilio's repeat: one alert
    dial('CA9', 'no-answer', { number: '+15005550009' }); // not on the roster
    expect(alerts.map((x) => [x.kind, x.key, x.state])).toEqual([['dial_failed', 'M-7/erin', 'raised']]);
    expect(alerts[0]).toMatchObject({ data: { meeting: 'M-7', person: 'erin', status: 'busy', reason: '486', call_sid: 'CA1' } });
    expect(alerts[0].message).toBe('dial-out to erin for meeting M-7 failed (busy: 486)');
    expect(events.map((e) => e.type)).toEqual(['alert.raised']);
    await vi.waitFor(() =>
      expect(hook.posts).toEqual([
        '[test-room] WARNING dial_failed (M-7/erin): dial-out to erin for meeting M-7 failed (busy: 486)',
      ]),
    );
    dial('CA2', 'in-progress', { person: 'erin', number: null, sequence: 2 });
    expect(alerts.map((x) => [x.kind, x.key, x.state])).toEqual([
      ['dial_failed', 'M-7/erin', 'raised'],
      ['dial_failed', 'M-7/erin', 'cleared'],
    ]);
    // Shown in the insight too.
    expect(tracking.insight('M-7', at + 1).interruptions).toEqual([
      {
        at: new Date(at).toISOString(),
        kind: 'dial_failed',
        participant: '+15005550009',
        reason: 'no-answer',
        duration_ms: null,
      },
      { at: new Date(at).toISOString(), kind: 'dial_failed', participant: 'erin', reason: 'busy: 486', duration_ms: null },
    ]);
  });

  it('the meeting ending clears its dial_failed alerts', async () => {
    const { a, alerts } = await setup('\n[tracking]\npublish_delay_ms = 0\n');
    const tracking = a.agent.feature<TrackingFeature>('tracking') as TrackingFeature;
    tracking.schedule({ id: 'M-8', roster: [{ person: 'erin' }] });
    const t = Date.UTC(2026, 2, 2, 9, 0, 0) / 1000;
    tracking.ingest({ event: 'conf.create.succ', id: 'c8', begin_time: t, user_data: '{"meeting":"M-8"}' }, 'test');
    tracking.recordDial({
      meeting: 'M-8',
      call_sid: 'CA1',
      status: 'failed',
      sequence: 1,
      person: 'erin',
      number: null,
      reason: null,
      at: t * 1000 + 5,
    });
    expect(alerts.map((x) => x.state)).toEqual(['raised']);
    tracking.ingest({ event: 'conf.end', id: 'c8', begin_time: t, end_time: t + 60, error: null }, 'test');
    expect(alerts.map((x) => [x.key, x.state])).toEqual([
      ['M-8/erin', 'raised'],
      ['M-8/erin', 'cleared'],
    ]);
  });

  it('posts to Slack, at most once per kind per interval, summing up the rest; never logs the URL', async () => {
    const hook = await slackHook();
    cleanups.push(() => hook.close());
    const { feature, clock } = await setup(`slack_webhook_url = "${hook.url}"\nslack_min_interval_s = 300`);
    feature.raise('device_offline', 'cam1', 'cam1 offline');
    feature.raise('device_offline', 'cam2', 'cam2 offline');
    feature.clear('device_offline', 'cam1', 'cam1 back');
    feature.raise('disk_low', '/', 'disk low', {}, 'critical'); // another kind: not held back
    await vi.waitFor(() => expect(hook.posts).toHaveLength(2));
    expect(hook.posts[0]).toBe('[test-room] WARNING device_offline (cam1): cam1 offline');
    expect(hook.posts[1]).toBe('[test-room] CRITICAL disk_low (/): disk low');
    clock.advance(299_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(hook.posts).toHaveLength(2);
    clock.advance(1_000);
    await vi.waitFor(() => expect(hook.posts).toHaveLength(3));
    expect(hook.posts[2]).toContain('2 device_offline alert changes (rate-limited)');
    expect(hook.posts[2]).toContain('RAISED cam2: cam2 offline');
    expect(hook.posts[2]).toContain('cleared cam1: cam1 back');
    clock.advance(300_000);
    feature.clear('device_offline', 'cam2', 'cam2 back');
    await vi.waitFor(() => expect(hook.posts).toHaveLength(4));
    expect(hook.posts[3]).toBe('[test-room] cleared device_offline (cam2): cam2 back');
    expect(feature.slackStats).toEqual({ posts: 4, failures: 0 });
  });

  it('a failing webhook is counted and logged without its URL', async () => {
    const logged: string[] = [];
    const clock = new FakeClock();
    const url = 'http://127.0.0.1:9/services/secret-part';
    const a = await startTestAgent(`[alerts]\nslack_webhook_url = "${url}"\n`, {
      clock,
      logLevel: 'warn',
      features: [
        (ctx: AgentContext) => {
          const log = ctx.logger;
          const spy = Object.assign(Object.create(log), {
            child: () => ({ ...log, warn: (o: unknown, m: string) => logged.push(JSON.stringify(o) + m) }),
          });
          return new AlertsFeature(
            { ...ctx, logger: spy },
            ctx.config.alerts!,
            () => 1e12,
            async (u) => {
              throw new Error(`connect ECONNREFUSED ${u}`);
            },
          );
        },
      ],
    });
    cleanups.push(() => a.stop());
    const f = a.agent.ctx.feature<AlertsFeature>('alerts')!;
    f.raise('disk_low', '/', 'low');
    await vi.waitFor(() => expect(f.slackStats.failures).toBe(1));
    expect(logged.join('\n')).toContain('slack post failed');
    expect(logged.join('\n')).not.toContain('secret-part');
  });

  it('alerts go out on MQTT `alerts` and in `events`, and the retained state lists the active ones', async () => {
    const broker = await createAedes();
    cleanups.push(() => broker.close());
    const sub = await Subscriber.connect(broker, ['rooms/test-room/#']);
    cleanups.push(() => sub.close());
    const a = await startTestAgent(`${mqttToml(broker)}\n[alerts]\ndisk_min_free_mb = 0\n`, {
      features: [(ctx: AgentContext) => new AlertsFeature(ctx, ctx.config.alerts!), createSync],
    });
    cleanups.push(() => a.stop());
    const f = a.agent.ctx.feature<AlertsFeature>('alerts')!;
    await sub.waitFor(() => sub.last('rooms/test-room/status')?.state === 'online', 10_000, 'online');
    f.raise('recorder_failure', 'rec', 'test raise', { device: 'rec' }, 'critical');
    await sub.waitFor(() => sub.json('rooms/test-room/alerts').length === 1, 10_000, 'alerts topic');
    await sub.waitFor(
      () => sub.json<EventMessage>('rooms/test-room/events').some((e) => e.type === 'alert.raised'),
      10_000,
      'alert event',
    );
    await sub.waitFor(
      () => (sub.last<{ alerts: unknown[] }>('rooms/test-room/state')?.alerts.length ?? 0) === 1,
      10_000,
      'state',
    );
    f.clear('recorder_failure', 'rec', 'test clear');
    await sub.waitFor(() => sub.json('rooms/test-room/alerts').length === 2, 10_000, 'cleared');
    expect(sub.json('rooms/test-room/alerts')[1]).toMatchObject({
      kind: 'recorder_failure',
      state: 'cleared',
      message: 'test clear',
    });
    await sub.waitFor(
      () => sub.last<{ alerts: unknown[] }>('rooms/test-room/state')?.alerts.length === 0,
      10_000,
      'state cleared',
    );
  });
});
