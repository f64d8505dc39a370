// End to end: the mixer and audio drivers inside a real agent, driven over the
// WebSocket JSON-RPC API; audit log, state attribution and reconnect checked.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QrcSimulator } from '../drivers/qsys/simulator.js';
import { TesiraSimulator } from '../drivers/tesira/simulator.js';
import { VmixSimulator } from '../drivers/vmix/simulator.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { type AuditRow, type DeviceRecord, waitAllOnline } from './support/device-api.js';

let agent: TestAgent;
let op: RpcTestClient;
let admin: RpcTestClient;
let ext: VmixSimulator;
let extDsp: TesiraSimulator;
let extCore: QrcSimulator;

beforeAll(async () => {
  // One vMix runs outside the agent so the test can kill it and bring it back.
  ext = new VmixSimulator();
  const port = await ext.start();
  // A Tesira and a Q-SYS Core outside the agent too, to kill them mid-session.
  extDsp = new TesiraSimulator({ blocks: { Room: { kind: 'level', channels: { 1: -15 } } } });
  const dspPort = await extDsp.start();
  extCore = new QrcSimulator({ named: { Gain: { value: -8, kind: 'gain' } } });
  const corePort = await extCore.start();
  agent = await startTestAgent(`
[devices.mixer]
driver = "vmix"
simulated = true
host = "192.0.2.10"

[devices.ext-mixer]
driver = "vmix"
host = "127.0.0.1"
port = ${port}

[devices.audio]
driver = "qsys"
simulated = true
host = "192.0.2.11"
user = "room-agent"
password = "e2e-qrc-secret"
snapshot_bank = "Snapshots"
poll_rate_s = 0.05

[devices.audio.controls.program-level]
control = "ProgramGain"
type = "level"

[devices.audio.controls.mic-mute]
control = "MicMute"
type = "mute"

[devices.ext-dsp]
driver = "tesira"
host = "127.0.0.1"
port = ${dspPort}
controls = { room-level = { instance = "Room", type = "level" } }

[devices.ext-core]
driver = "qsys"
host = "127.0.0.1"
port = ${corePort}
poll_rate_s = 0.05
controls = { gain = { control = "Gain", type = "level" } }

[devices.dsp]
driver = "tesira"
simulated = true
host = "192.0.2.12"

[devices.dsp.controls.program-level]
instance = "ProgramLevel"
type = "level"

[devices.dsp.controls.mic-mute]
instance = "MicMutes"
type = "mute"
channel = 2
`);
  op = await agent.connect(TOKENS.operator);
  admin = await agent.connect(TOKENS.admin);
  await waitAllOnline(op, ['mixer', 'ext-mixer', 'audio', 'dsp', 'ext-dsp', 'ext-core']);
});

afterAll(async () => {
  await agent?.stop();
  await ext?.stop();
  await extDsp?.stop();
  await extCore?.stop();
});

const device = (id: string) => op.call<DeviceRecord>('devices.get', { device: id });
const action = (id: string, name: string, params: Record<string, unknown> = {}) =>
  op.call('device.action', { device: id, action: name, params });
const audit = (id: string) => admin.call<AuditRow[]>('audit.list', { device: id });

describe('mixer and audio drivers through the WS API', () => {
  it('lists the common mixer and audio actions', async () => {
    const names = async (id: string) => (await op.call<{ name: string }[]>('actions.list', { device: id })).map((a) => a.name);
    expect(await names('mixer')).toEqual(expect.arrayContaining(['program', 'preview', 'cut', 'auto', 'aux']));
    expect(await names('audio')).toEqual(expect.arrayContaining(['level', 'mute', 'preset.recall']));
    expect(await names('dsp')).toEqual(expect.arrayContaining(['level', 'mute', 'preset.recall', 'mute.toggle']));
  });

  it('a mixer cut is reachable from the API, audited with its cause, and state is attributed to it', async () => {
    const before = await device('mixer');
    expect(before.state.program.value).toBe(1);
    expect((before.state.inputs.value as { title: string }[]).length).toBe(4);
    await action('mixer', 'cut');
    await vi.waitFor(async () => expect((await device('mixer')).state.program.value).toBe(2), { timeout: 5000 });
    const after = await device('mixer');
    expect(after.state.program.cause).toMatchObject({ kind: 'api', name: 'operator-client' });
    const [row] = await audit('mixer');
    expect(row).toMatchObject({ device: 'mixer', action: 'cut', ok: true, cause: { kind: 'api', name: 'operator-client' } });
  });

  it('a refused mixer request is an error for the caller and an audit row with ok = false', async () => {
    await expect(action('mixer', 'preview', { input: 99 })).rejects.toThrow(/Input not found/);
    const [row] = await audit('mixer');
    expect(row).toMatchObject({ action: 'preview', ok: false, params: { input: 99 } });
    expect(row.error).toMatch(/vMix refused FUNCTION/);
  });

  it('an audio mute (Q-SYS) is reachable from the API, audited, and the Core reports it back', async () => {
    expect((await device('audio')).state['mic-mute'].value).toBe(false);
    await action('audio', 'mute', { control: 'mic-mute', on: true });
    await vi.waitFor(async () => expect((await device('audio')).state['mic-mute'].value).toBe(true), { timeout: 5000 });
    expect((await device('audio')).state['mic-mute'].cause).toMatchObject({ kind: 'api', name: 'operator-client' });
    const [row] = await audit('audio');
    expect(row).toMatchObject({ action: 'mute', ok: true, params: { control: 'mic-mute', on: true }, cause: { kind: 'api' } });
    // The QRC password never leaves the agent.
    expect(JSON.stringify(await op.call('devices.list'))).not.toContain('e2e-qrc-secret');
  });

  it('an audio mute (Tesira) is reachable from the API and audited', async () => {
    await action('dsp', 'mute', { control: 'mic-mute', on: true });
    await vi.waitFor(async () => expect((await device('dsp')).state['mic-mute'].value).toBe(true), { timeout: 5000 });
    await action('dsp', 'level', { control: 'program-level', db: -7 });
    await vi.waitFor(async () => expect((await device('dsp')).state['program-level'].value).toBe(-7), { timeout: 5000 });
    const rows = await audit('dsp');
    expect(rows.map((r) => r.action)).toEqual(['level', 'mute']);
  });

  it('a viewer cannot cut', async () => {
    const viewer = await agent.connect(TOKENS.viewer);
    const r = await viewer.request('device.action', { device: 'mixer', action: 'cut', params: {} });
    expect(r.error).toBeTruthy();
  });

  it('a vMix killed mid-session comes back online without a restart, re-subscribed and re-read', async () => {
    const port = ext.listeningPort;
    await ext.stop();
    await vi.waitFor(async () => expect((await device('ext-mixer')).status.status).toBe('offline'), { timeout: 5000 });
    await expect(action('ext-mixer', 'cut')).rejects.toThrow(/offline/);
    ext.program = 3;
    await ext.start(port);
    await vi.waitFor(
      async () => {
        const d = await device('ext-mixer');
        expect(d.status.status).toBe('online');
        expect(d.state.program.value).toBe(3);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(ext.received.filter((l) => l === 'SUBSCRIBE TALLY').length).toBe(2);
    ext.setProgram(4);
    await vi.waitFor(async () => expect((await device('ext-mixer')).state.program.value).toBe(4), { timeout: 5000 });
    expect((await device('ext-mixer')).state.program.cause).toMatchObject({ kind: 'device' });
  });

  it('a Tesira and a Q-SYS Core killed mid-session come back online, re-subscribed, with values re-read', async () => {
    const dspPort = extDsp.listeningPort;
    const corePort = extCore.listeningPort;
    await extDsp.stop();
    await extCore.stop();
    await vi.waitFor(
      async () => {
        expect((await device('ext-dsp')).status.status).toBe('offline');
        expect((await device('ext-core')).status.status).toBe('offline');
      },
      { timeout: 5000 },
    );
    extDsp.blocks.get('Room')!.channels[1] = -4;
    extCore.setControl('Gain', -2);
    await extDsp.start(dspPort);
    await extCore.start(corePort);
    await vi.waitFor(
      async () => {
        const dsp = await device('ext-dsp');
        const core = await device('ext-core');
        expect([dsp.status.status, dsp.state['room-level'].value]).toEqual(['online', -4]);
        expect([core.status.status, core.state.gain.value]).toEqual(['online', -2]);
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(extDsp.received.filter((l) => l.startsWith('Room subscribe')).length).toBe(2);
    expect(extCore.received.filter((r) => r.method === 'ChangeGroup.AutoPoll').length).toBe(2);
    extDsp.setValue('Room', 1, -9);
    extCore.setControl('Gain', -1);
    await vi.waitFor(
      async () => {
        expect((await device('ext-dsp')).state['room-level'].value).toBe(-9);
        expect((await device('ext-core')).state.gain.value).toBe(-1);
      },
      { timeout: 5000 },
    );
  });
});

describe('atem in config', () => {
  it('simulated = true is refused with a clear message (no ATEM simulator exists)', async () => {
    await expect(startTestAgent('[devices.sw]\ndriver = "atem"\nsimulated = true\nhost = "192.0.2.20"\n')).rejects.toThrow(
      /driver atem has no simulator/,
    );
  });
});
