// The commissioning console in a real browser (Debian's chromium through
// playwright-core) against a real agent with simulated devices.
// Screenshots are kept in test-results/console/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningViscaSimulators } from '../drivers/visca/index.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { buildConsoleToTemp, featuresServing, launchChromium, SCREENSHOTS, until } from './console-helpers.js';

const scenarioDir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-scenarios-'));
fs.writeFileSync(
  path.join(scenarioDir, 'walk.toml'),
  `name = "walk"
description = "Camera 1 to preset 2, pause, camera 2 to preset 1"
[[steps]]
name = "cam-1 to table"
device = "cam-1"
action = "preset.recall"
params = { preset = 2 }
[[steps]]
name = "hold"
wait_ms = 1500
[[steps]]
name = "cam-2 to overview"
device = "cam-2"
action = "preset.recall"
params = { preset = 1 }
`,
);

const ROOM = `
[devices.cam-1]
driver = "visca"
name = "Camera 1 (VISCA over IP)"
simulated = true
framing = "sony-udp"
host = "192.168.10.21"

[devices.cam-2]
driver = "visca"
name = "Camera 2 (VISCA over TCP)"
simulated = true
framing = "raw-tcp"
host = "192.168.10.22"
profile = "ptzoptics"

[devices.matrix]
driver = "videohub"
name = "Video matrix"
simulated = true
host = "192.168.10.40"

[devices.mixer]
driver = "vmix"
name = "Video mixer"
simulated = true
host = "192.168.10.60"

[devices.audio]
driver = "qsys"
name = "Audio processor"
simulated = true
host = "192.168.10.61"

[devices.audio.controls.program-level]
control = "ProgramGain"
type = "level"

[devices.audio.controls.mic-mute]
control = "MicMute"
type = "mute"

[tracking]

[scenarios]
shipped = false
folder = "${scenarioDir}"

[video]
go2rtc = "${path.join(scenarioDir, 'no-go2rtc-here')}"
api_port = 11984
rtsp_port = 18554
webrtc_port = 18555

[video.streams.cam-1]
main = "rtsp://192.168.10.21/Streaming/Channels/101"
`;

let t: TestAgent;
let browser: Browser;
let buildDir: string;

beforeAll(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  buildDir = await buildConsoleToTemp();
  t = await startTestAgent(ROOM, { features: featuresServing(buildDir) });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.rmSync(scenarioDir, { recursive: true, force: true });
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(t.url);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(15_000);
  return page;
}

describe('commissioning console in chromium', () => {
  it('a wrong token shows the login again with the reason, never the room', async () => {
    const page = await newPage();
    await signIn(page, 'not-a-valid-token');
    await page.waitForSelector('#login-error');
    expect(await page.textContent('#login-error')).toContain('refused this token');
    expect(await page.$('#room')).toBeNull();
    expect(await page.$('[data-device]')).toBeNull();
    expect(await page.evaluate("sessionStorage.getItem('room-agent.token')")).toBeNull();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-refused.png') });
    // A refused token saved earlier (e.g. revoked) does not open the room on reload either.
    await page.evaluate("sessionStorage.setItem('room-agent.token', 'revoked-token')");
    await page.reload();
    await page.waitForSelector('#login-error');
    expect(await page.$('#room')).toBeNull();
    await page.close();
  });

  it('signs in, shows the simulated devices online and keeps the token out of the URL', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.operator);
    for (const id of ['cam-1', 'cam-2', 'matrix', 'mixer', 'audio']) {
      await page.waitForSelector(`tr[data-device="${id}"][data-status="online"]`);
    }
    expect(page.url()).not.toContain(TOKENS.operator);
    expect(await page.textContent('#room h1')).toContain('test-room');
    // The same session survives a reload (sessionStorage), still without the token in the URL.
    await page.reload();
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    expect(page.url()).not.toContain(TOKENS.operator);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'room-overview.png'), fullPage: true });
    await page.close();
  });

  it('a camera preset button makes the VISCA simulator receive the recall; video shows why it is unavailable', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.operator);
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    const sim = runningViscaSimulators.get('cam-1')!;
    const before = sim.presetRecalls().length;
    await page.click('[data-testid="preset-cam-1-4"]');
    await until(() => sim.presetRecalls().slice(before).includes(4), 'cam-1 simulator to receive preset 4');
    // The camera reports the preset back; the button lights up from the live state.
    await page.waitForSelector('[data-testid="preset-cam-1-4"].active');
    const tile = await page.textContent('[data-testid="video-unavailable-cam-1"]');
    expect(tile).toMatch(/^video unavailable: go2rtc binary not found at .*no-go2rtc-here/);
    expect(await page.textContent('[data-testid="video-unavailable-cam-2"]')).toContain('video unavailable');
    await page.locator('#cameras').screenshot({ path: path.join(SCREENSHOTS, 'cameras.png') });
    await page.close();
  });

  it('runs a scenario and shows its steps progressing to the end', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.operator);
    await page.waitForSelector('[data-testid="run-walk"]');
    await page.click('[data-testid="run-walk"]');
    const run = page.locator('[data-run-scenario="walk"]').first();
    // Mid-run: the first step done, the wait running.
    await run.locator('[data-step-status="ok"]').first().waitFor();
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="running"] [data-step-status="running"]');
    await page.locator('#scenarios').screenshot({ path: path.join(SCREENSHOTS, 'scenario-running.png') });
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="succeeded"]');
    expect(await run.locator('[data-step-status="ok"]').count()).toBe(3);
    expect(runningViscaSimulators.get('cam-2')!.presetRecalls()).toContain(1);
    await page.close();
  });

  it("shows a tracked meeting's participants and its timer ticking live", async () => {
    const page = await newPage();
    await signIn(page, TOKENS.viewer);
    await page.waitForSelector('tr[data-device="cam-1"]');
    const now = Date.now();
    const events = [
      { event: 'conf.create.succ', id: 'conf-1', begin_time: now - 65_000, user_data: { meeting: 'M-42' } },
      { event: 'conf.joined', id: 'conf-1', call_id: 'c1', part_uri: 'alice@example.com', join_time: now - 60_000 },
      { event: 'conf.joined', id: 'conf-1', call_id: 'c2', part_uri: 'bob@example.com', join_time: now - 60_000 },
    ];
    const res = await fetch(`${t.url}/hooks/conference`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(200);
    await page.waitForSelector('[data-meeting="M-42"] #meeting-timer[data-running="true"]');
    await page.waitForSelector('[data-participant]');
    expect(await page.locator('[data-participant]').count()).toBe(2);
    const first = await page.textContent('#meeting-timer');
    // The clock ticks in the page between pushes (no new event is sent).
    // (Polled from here: the page's CSP forbids the string evaluation waitForFunction would need.)
    let second = first;
    const end = Date.now() + 5000;
    while (second === first && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      second = await page.textContent('#meeting-timer');
    }
    const secs = (s: string | null) => (s ?? '').split(':').reduce((n, p) => n * 60 + Number(p), 0);
    expect(secs(second)).toBeGreaterThan(secs(first));
    expect(secs(first)).toBeGreaterThanOrEqual(59);
    expect(await page.textContent('[data-meeting="M-42"] .events')).toContain('conf.joined');
    await page.locator('#meeting').screenshot({ path: path.join(SCREENSHOTS, 'meeting-timer.png') });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'room-full.png'), fullPage: true });
    await page.close();
  });

  it('an action the token may not run shows the refusal with its code', async () => {
    const page = await newPage();
    await signIn(page, TOKENS.viewer);
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    await page.click('[data-testid="preset-cam-1-2"]');
    await page.waitForSelector('.notice-error');
    expect(await page.textContent('.notice-error')).toMatch(/needs role operator.*FORBIDDEN 4003/);
    await page.close();
  });
});
