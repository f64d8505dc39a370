// Issue 21 items 4 and 5: /metrics exports what ops/prometheus/room-agent.rules.yml
// reads (build and config info, outbox backlog, free disk against the bound,
// recorder state against a running meeting), and the retained MQTT status and
// system.info carry package, runtime and config version. Real agent, real
// aedes broker on loopback, real recorder with ffmpeg.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { configVersion } from '../src/config/load.js';
import { createAlerts, createSync } from '../src/sync/index.js';
import { VERSION } from '../src/version.js';
import { startRecorderAgent } from './recorder-helpers.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { createAedes, freePort, mqttToml, Subscriber, type TestBroker } from './sync-support.js';
import { waitUntil } from './video-helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function metrics(t: TestAgent): Promise<string> {
  const r = await fetch(`${t.url}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('fleet metrics and versions', () => {
  let broker: TestBroker;
  let t: TestAgent;

  it('exports build, config, outbox and disk metrics, and the same versions in system.info and the retained status', async () => {
    broker = await createAedes();
    cleanups.push(() => broker.close());
    // A bound no disk here meets: the rule's two series must show free < min.
    t = await startTestAgent(`${mqttToml(broker)}\n[alerts]\ndisk_min_free_mb = 1073741824\n`, {
      features: [createAlerts, createSync],
    });
    cleanups.push(() => t.stop());
    const expectedConfig = configVersion(fs.readFileSync(`${t.dir}/api.toml`, 'utf8'));
    expect(expectedConfig).toMatch(/^sha256:[0-9a-f]{16}$/);

    const sub = await Subscriber.connect(broker, ['rooms/test-room/status']);
    cleanups.push(() => sub.close());
    await sub.waitFor(() => sub.last('rooms/test-room/status')?.state === 'online', 10_000, 'status online');
    expect(sub.last('rooms/test-room/status')).toMatchObject({
      state: 'online',
      version: VERSION,
      node: process.version,
      config_version: expectedConfig,
    });

    const c = await t.connect(TOKENS.viewer);
    expect(await c.call('system.info')).toMatchObject({
      version: VERSION,
      node: process.version,
      config_version: expectedConfig,
    });

    const m = await metrics(t);
    expect(sample(m, `room_agent_build_info{version="${VERSION}",node="${process.version}"}`)).toBe(1);
    expect(sample(m, `room_agent_config_info{config_version="${expectedConfig}"}`)).toBe(1);
    expect(sample(m, 'room_agent_outbox_rows')).toBeGreaterThanOrEqual(0);
    expect(sample(m, 'room_agent_outbox_dropped_total')).toBe(0);
    expect(sample(m, 'room_agent_mqtt_connected')).toBe(1);
    const dataDir = t.agent.ctx.dataDir;
    const free = sample(m, `room_agent_disk_free_bytes{path="${dataDir}"}`);
    const min = sample(m, `room_agent_disk_min_free_bytes{path="${dataDir}"}`);
    expect(free).toBeGreaterThan(0);
    expect(min).toBe(1073741824 * 1024 * 1024);
    expect(free!).toBeLessThan(min!);
    // Versioned config's health gate counts its rollbacks (test/config-rollback.test.ts): none yet.
    expect(sample(m, 'room_agent_config_rollbacks_total')).toBe(0);
  });

  it('the outbox backlog shows in room_agent_outbox_rows while the broker is down', async () => {
    await broker.stop();
    await waitUntil(async () => sample(await metrics(t), 'room_agent_mqtt_connected') === 0, 10_000, 'link down');
    for (let i = 0; i < 25; i++) t.agent.events.emit({ type: 'test.backlog', at: new Date().toISOString(), data: { i } });
    expect(sample(await metrics(t), 'room_agent_outbox_rows')).toBeGreaterThanOrEqual(25);
    await broker.start();
    await waitUntil(async () => sample(await metrics(t), 'room_agent_outbox_rows') === 0, 15_000, 'outbox drained');
  });

  it('without [mqtt] and [alerts] the outbox and disk series are absent, not zero; a disabled device has enabled 0', async () => {
    const bare = await startTestAgent(
      '[devices.cam1]\ndriver = "visca"\nsimulated = true\n\n[devices.spare]\ndriver = "visca"\nsimulated = true\nenabled = false\n',
    );
    cleanups.push(() => bare.stop());
    const m = await metrics(bare);
    expect(sample(m, 'room_agent_device_enabled{device="cam1"}')).toBe(1);
    expect(sample(m, 'room_agent_device_enabled{device="spare"}')).toBe(0);
    expect(sample(m, 'room_agent_device_status{device="spare",driver="visca",status="online"}')).toBe(0);
    expect(m).not.toMatch(/^room_agent_outbox_rows /m);
    expect(m).not.toMatch(/^room_agent_disk_free_bytes\{/m);
    expect(m).toMatch(/^room_agent_build_info\{/m);
  });
});

describe('recorder metrics against a running meeting', () => {
  it('a followed meeting whose recording cannot start: meeting_running 1, recording 0; after the end both 0', async () => {
    // The input is a closed port on loopback: the recorder is online, every start fails.
    const port = await freePort();
    const { agent: t } = await startRecorderAgent(
      'rec',
      `[devices.rec]\ndriver = "recorder"\ninput = "http://127.0.0.1:${port}/cam.ts"\nmin_free_mb = 1\nstart_timeout_ms = 3000\nfollow_meeting = true\nmeeting_title = false\nfollow_retry_min_ms = 200\nfollow_retry_max_ms = 400\n`,
    );
    cleanups.push(() => t.stop());
    let m = await metrics(t);
    expect(sample(m, 'room_agent_recorder_meeting_running{device="rec"}')).toBe(0);
    expect(sample(m, 'room_agent_recorder_recording{device="rec"}')).toBe(0);
    t.agent.events.emit({ type: 'meeting.start', at: new Date().toISOString(), data: { id: 'M-7', title: 'Board' } });
    await waitUntil(
      async () => sample(await metrics(t), 'room_agent_recorder_meeting_running{device="rec"}') === 1,
      10_000,
      'meeting running',
    );
    m = await metrics(t);
    expect(sample(m, 'room_agent_recorder_recording{device="rec"}')).toBe(0);
    t.agent.events.emit({ type: 'meeting.end', at: new Date().toISOString(), data: { id: 'M-7' } });
    await waitUntil(
      async () => sample(await metrics(t), 'room_agent_recorder_meeting_running{device="rec"}') === 0,
      10_000,
      'meeting ended',
    );
  });
});
