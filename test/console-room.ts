// A room for the browser tests: simulated cameras, matrix, mixer, audio, a
// microphone and the director (off), a TrueConf calendar, tracking, a scenario folder and video without go2rtc;
// the console built into a temp folder, and Debian's chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestAgent, type TestAgent } from './support/agent.js';
import { buildConsoleToTemp, featuresServing, launchChromium, SCREENSHOTS } from './console-helpers.js';

export interface ConsoleRoom {
  t: TestAgent;
  browser: Browser;
  /** A fresh page, 1400×1000. */
  newPage(): Promise<Page>;
  /** Opens the console and submits the token in the login form. */
  signIn(page: Page, token: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsoleRoom(): Promise<ConsoleRoom> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
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

[devices.tcs]
driver = "tcs"
name = "TrueConf Server"
simulated = true
connectionString = "server=https://tcs.example.com; user=room101; password=console-test-secret"
user_id = "room101"

[calendar]
sources = ["tcs"]

[devices.mxa]
driver = "shure-mic"
name = "Ceiling microphone"
simulated = true
host = "192.168.10.50"
gates = "lobes"

# Off at start, so the director never moves the cameras other tests point.
[director]
mode = "off"
overview = { camera = "cam-2", preset = 1 }

[[director.sources]]
device = "mxa"
channel = 1
camera = "cam-1"
preset = 2
name = "table left"

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

  const buildDir = await buildConsoleToTemp();
  const t = await startTestAgent(ROOM, { features: featuresServing(buildDir) });
  const browser = await launchChromium();
  return {
    t,
    browser,
    async newPage() {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(15_000);
      return page;
    },
    async signIn(page, token) {
      await page.goto(t.url);
      await page.fill('input[name=token]', token);
      await page.click('button[type=submit]');
    },
    async stop() {
      await browser.close();
      await t.stop();
      fs.rmSync(buildDir, { recursive: true, force: true });
      fs.rmSync(scenarioDir, { recursive: true, force: true });
    },
  };
}
