// Issue 21 (fleet-load finding): in the demo room every calendar meeting
// raised a critical recorder_failure, because the shipped `meeting-start`
// scenario starts the recorder that `follow_meeting` (api.toml) has already
// started for the meeting, and the recorder refused the second start
// (CONFLICT). A start for what is already recording is a no-op success; a
// start that really conflicts (another meeting) still fails and alerts.
// Real agent, real ffmpeg recording a test picture, the demo's recorder
// section and the recorder step the shipped scenario had, the alerts feature.
// (The shipped meeting-start no longer starts the recorder: the demo's
// follow_meeting does.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomEvent } from '../src/state/bus.js';
import { type RecorderAgent, startRecorderAgent } from './recorder-helpers.js';
import { type RpcTestClient, TOKENS } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '..');
type Toml = Record<string, unknown>;
type Alert = { kind: string; key: string; state: string; message: string };

let rec: RecorderAgent;
let admin: RpcTestClient;
let dir: string;
const events: RoomEvent[] = [];

/** The demo's [devices.recorder] (api.toml), on ffmpeg's test picture instead of its simulated input. */
function demoRecorder(): Toml {
  const demo = parse(fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8')) as { devices: Record<string, Toml> };
  const r = { ...demo.devices.recorder };
  expect(r.follow_meeting).toBe(true);
  return {
    ...r,
    simulated: false,
    input: 'testsrc2=size=320x240:rate=25',
    input_format: 'lavfi',
    segment_seconds: 2,
    preset: 'ultrafast',
    min_free_mb: 1,
    meeting_title: false,
  };
}

/**
 * The recorder step the shipped meeting-start scenario had (an integrator's
 * scenario for the room may still have it): it ran after follow_meeting had
 * started the meeting's recording.
 */
const MEETING_START_RECORDER = `name = "meeting-start-recorder"
mode = "single"

[[steps]]
name = "start recording"
device = "recorder"
action = "start"
on_error = "continue"
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-meeting-start-'));
  fs.writeFileSync(path.join(dir, 'meeting-start-recorder.toml'), MEETING_START_RECORDER);
  const toml = `${stringify({ devices: { recorder: demoRecorder() } })}
[alerts]
[scenarios]
shipped = false
folder = "${dir}"
automation = false
`;
  rec = await startRecorderAgent('recorder', toml, 15_000);
  rec.agent.agent.events.on((e) => events.push(e));
  admin = await rec.agent.connect(TOKENS.admin);
}, 60_000);
afterAll(async () => {
  await rec?.agent.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const recorderAlert = async () =>
  (await admin.call<Alert[]>('alerts.list')).find((a) => a.kind === 'recorder_failure' && a.key === 'recorder');
const startActions = () =>
  events.filter((e) => e.type === 'device.action' && e.data.device === 'recorder' && e.data.action === 'start');

describe('demo room: calendar meeting start with follow_meeting and the meeting-start scenario', () => {
  it('raises no recorder_failure; a start for another meeting still fails and alerts', async () => {
    rec.agent.agent.events.emit({
      type: 'meeting.start',
      at: new Date().toISOString(),
      data: { meeting_id: 'M-1', title: 'Weekly' },
    });
    await waitUntil(async () => (await rec.act<{ recording: boolean }>('status')).recording === true, 20_000, 'recording M-1');

    const before = startActions().length;
    await rec.client.call('scenarios.run', { name: 'meeting-start-recorder' });
    await waitUntil(async () => startActions().length > before, 20_000, "the scenario's recorder start");
    const scenarioStart = startActions()[startActions().length - 1]!;
    expect(scenarioStart.data.ok).toBe(true);
    expect(await recorderAlert()).toBeUndefined();
    const st = await rec.act<{ recording: boolean; session: string }>('status');
    expect(st.recording).toBe(true);
    expect(st.session).toContain('M-1');

    // A real conflict is still a failure and still alerts.
    await expect(rec.act('start', { meeting_id: 'M-2' })).rejects.toThrow(/already recording/);
    await waitUntil(async () => (await recorderAlert()) !== undefined, 10_000, 'recorder_failure for a real conflict');
    expect((await recorderAlert())!.state).toBe('raised');
  }, 60_000);
});
