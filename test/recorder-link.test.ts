// Recording follows the meeting (room events meeting.start / meeting.end),
// the title layer shows the meeting's name and the lower third the director's
// current speaker — in a real agent with the real ffmpeg.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorderAgent } from './recorder-helpers.js';
import { type RpcTestClient, type TestAgent, TOKENS } from './support/agent.js';
import { waitUntil } from './video-helpers.js';

let t: TestAgent;
let c: RpcTestClient;
type Status = {
  recording: boolean;
  session: string | null;
  meeting_id: string | null;
  layers: Record<string, { text: string } | null>;
};
const status = () => c.call<Status>('device.action', { device: 'rec', action: 'status', params: {} });

beforeAll(async () => {
  ({ agent: t, client: c } = await startRecorderAgent(
    'rec',
    `
[devices.rec]
driver = "recorder"
input = "testsrc2=size=160x120:rate=10"
input_format = "lavfi"
segment_seconds = 2
preset = "ultrafast"
min_free_mb = 1
follow_meeting = true
`,
  ));
});
afterAll(async () => {
  await t?.stop();
});

describe('recorder follows the room', () => {
  it('starts on meeting.start with the title, shows the speaker, stops on meeting.end', async () => {
    const at = new Date().toISOString();
    t.agent.events.emit({ type: 'meeting.start', at, data: { meeting: { id: 'conf-77', title: 'Quarterly review' } } });
    const st = await waitUntil(async () => {
      const s = await status();
      return s.recording && s.layers.title ? s : null;
    });
    expect(st).toMatchObject({ session: 'conf-77', meeting_id: 'conf-77', layers: { title: { text: 'Quarterly review' } } });

    const talkers = [{ mic: 'mxa/1', name: 'Anna Petrova', on: true, chairman: false, since: null }];
    t.agent.bus.publish('director', { status: { shot: { camera: 'cam-1', preset: 4, mic: 'mxa/1' }, talkers } });
    await waitUntil(async () => (await status()).layers.lower_third?.text === 'Anna Petrova');
    t.agent.bus.publish('director', { decision: { rule: 'manual' } }); // says nothing about the speaker: layer kept
    t.agent.bus.publish('director', { status: { shot: { camera: 'cam-2', preset: 1, mic: null }, talkers } });
    await waitUntil(async () => (await status()).layers.lower_third === null);

    // An event for another meeting does not stop this one.
    t.agent.events.emit({ type: 'meeting.end', at, data: { id: 'other-meeting' } });
    t.agent.events.emit({ type: 'meeting.end', at, data: { id: 'conf-77' } });
    const end = await waitUntil(async () => {
      const s = await status();
      return !s.recording && s.layers.title === null ? s : null;
    });
    expect(end.session).toBeNull();
    const audit = await (await t.connect(TOKENS.admin)).call<{ action: string; cause: { kind: string } }[]>('audit.list', {
      device: 'rec',
    });
    expect(audit.some((a) => a.action === 'start' && a.cause.kind === 'calendar')).toBe(true);
    expect(audit.some((a) => a.action === 'graphic' && a.cause.kind === 'director')).toBe(true);
  });
});
