// End to end on real sockets: microphone simulator (Shure over TCP, SDC 8000
// over a binding-mock serial port) → agent → director → VISCA simulators over
// UDP (Sony VISCA over IP). Asserts the bytes the cameras received.
import { afterEach, describe, expect, it } from 'vitest';
import { startConferenceMicSimulator } from '../../drivers/conference-mic/index.js';
import { type ShureSimulator, startShureSimulator } from '../../drivers/shure-mic/index.js';
import { ViscaSimulator } from '../../drivers/visca/index.js';
import { setSerialBinding } from '../transport/index.js';
import { startTestAgent, type TestAgent, TOKENS } from '../../test/support/agent.js';
import type { DirectorStatus } from './types.js';
import { until } from '../../test/support/wait.js';

let agent: TestAgent | null = null;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await agent?.stop();
  agent = null;
  for (const s of stops.splice(0)) await s();
  setSerialBinding(null);
});

async function cameras(n: number): Promise<ViscaSimulator[]> {
  const sims: ViscaSimulator[] = [];
  for (let i = 0; i < n; i++) {
    const sim = await new ViscaSimulator({ framing: 'sony-udp', motionMs: 50 }).start();
    stops.push(() => sim.stop());
    sims.push(sim);
  }
  return sims;
}

function cameraToml(sims: ViscaSimulator[]): string {
  return sims
    .map(
      (s, i) => `[devices.cam-${i + 1}]\ndriver = "visca"\nframing = "sony-udp"\nhost = "127.0.0.1"\nport = ${s.endpoint.port}\n`,
    )
    .join('\n');
}

/** Sony VISCA preset recall for camera address 1: 81 01 04 3F 02 pp FF, pp = preset − 1 (Sony counts from 1). */
const recallHex = (preset: number) => `81 01 04 3F 02 ${(preset - 1).toString(16).padStart(2, '0').toUpperCase()} FF`;
/** Preset numbers whose recall packets the camera received, checking the bytes. */
const recallsOf = (sim: ViscaSimulator) =>
  sim.received.filter((r) => r.preset !== undefined && r.hex.endsWith(recallHex(r.preset))).map((r) => r.preset);

function directorToml(micDevice: string, overview: string, seats: [number, string, number][], extra = ''): string {
  return `
[director]
overview = ${overview}
trigger_s = 0
gap_s = 0
min_dwell_s = 0
silence_s = 0.3
${extra}
${seats.map(([ch, cam, p]) => `[[director.sources]]\ndevice = "${micDevice}"\nchannel = ${ch}\ncamera = "${cam}"\npreset = ${p}\n`).join('\n')}`;
}

describe('microphones → director → VISCA over UDP', () => {
  it('Shure gate over TCP recalls the seat preset on the right camera; silence returns to the overview', async () => {
    const cams = await cameras(3);
    const mic = await startShureSimulator();
    stops.push(() => mic.stop());
    agent = await startTestAgent(
      `[devices.mxa]\ndriver = "shure-mic"\nhost = "127.0.0.1"\nport = ${mic.port}\n\n${cameraToml(cams)}\n` +
        directorToml('mxa', '{ camera = "cam-3", preset = 20 }', [
          [1, 'cam-1', 1],
          [2, 'cam-2', 5],
        ]),
    );
    await until(() => recallsOf(cams[2]).length === 1, 'overview at start');
    mic.setGate(2, true);
    await until(() => recallsOf(cams[1]).length === 1, 'cam-2 recall');
    expect(cams[1].received.find((r) => r.preset === 5)?.hex).toContain(recallHex(5));
    mic.setGate(2, false);
    mic.setGate(1, true);
    await until(() => recallsOf(cams[0]).length === 1, 'cam-1 recall');
    expect(recallsOf(cams[0])).toEqual([1]);
    mic.setGate(1, false);
    const ws = await agent.connect(TOKENS.viewer);
    let st: DirectorStatus | null = null;
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      st = await ws.call<DirectorStatus>('director.status');
      if (st.shot?.kind === 'overview') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(st?.shot).toMatchObject({ kind: 'overview', camera: 'cam-3', rule: 'silence' });
    // cam-3 still sits at the overview preset: no second recall was needed.
    expect(recallsOf(cams[2])).toEqual([20]);
    expect(recallsOf(cams[1])).toEqual([5]);
  });

  it('SDC 8000 over a serial port drives the cameras; the chairman takes priority', async () => {
    const cams = await cameras(2);
    const path = `/dev/ROBOT-sdc-${process.pid}`;
    // The driver finds the simulator's binding-mock port by its path.
    const conf = await startConferenceMicSimulator({ protocol: 'sdc8000', transport: 'serial', path, chairman: [1] });
    stops.push(() => conf.stop());
    agent = await startTestAgent(
      `[devices.sdc]\ndriver = "conference-mic"\nprotocol = "sdc8000"\npath = "${path}"\n\n${cameraToml(cams)}\n` +
        directorToml(
          'sdc',
          '{ camera = "cam-2", preset = 20 }',
          [
            [1, 'cam-1', 10],
            [3, 'cam-1', 3],
            [4, 'cam-2', 4],
          ],
          'ping_pong_switches = 100',
        ),
    );
    await until(() => conf.serialOpen && recallsOf(cams[1]).length === 1, 'port open, overview');
    conf.micOn(4);
    await until(() => recallsOf(cams[1]).length === 2, 'delegate 4');
    conf.micOn(1); // chairman %P0001
    await until(() => recallsOf(cams[0]).length === 1, 'chairman');
    conf.micOn(3); // first-come and the chairman stay on seat 1
    await new Promise((r) => setTimeout(r, 100));
    expect(recallsOf(cams[0])).toEqual([10]);
    conf.micOff(1); // back to first-come: delegate 4 spoke before delegate 3 (cam-2 still sits at 4: no recall)
    conf.micOff(4);
    await until(() => recallsOf(cams[0]).length === 2, 'seat 3 once 4 stopped');
    expect(recallsOf(cams[0])).toEqual([10, 3]);
    expect(recallsOf(cams[1])).toEqual([20, 4]);
  });

  it('a burst of 500 gate changes in a second: no unbounded queue, the last state wins', async () => {
    const cams = await cameras(3);
    const mic = await startShureSimulator();
    stops.push(() => mic.stop());
    agent = await startTestAgent(
      `[devices.mxa]\ndriver = "shure-mic"\nhost = "127.0.0.1"\nport = ${mic.port}\n\n${cameraToml(cams)}\n` +
        directorToml(
          'mxa',
          '{ camera = "cam-3", preset = 20 }',
          [
            [1, 'cam-1', 1],
            [2, 'cam-2', 5],
            [3, 'cam-1', 3],
          ],
          // The burst is a ping-pong storm by design; no hold, so the last state decides.
          'ping_pong_switches = 100\nping_pong_hold_s = 0',
        ),
    );
    await until(() => recallsOf(cams[2]).length === 1, 'overview at start');
    for (let batch = 0; batch < 50; batch++) {
      for (let i = 0; i < 10; i++) {
        const n = batch * 10 + i;
        mic.setGate((n % 3) + 1, n % 2 === 0);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    mic.setGate(1, false);
    mic.setGate(3, false);
    mic.setGate(2, true);
    await until(() => cams[1].lastPreset === 5 && cams[1].received.length > 0, 'last state on cam-2');
    await new Promise((r) => setTimeout(r, 300));
    const sent = recallsOf(cams[0]).length + recallsOf(cams[1]).length;
    // One recall in flight per camera (50 ms moves) plus at most one pending: far fewer than 500.
    expect(sent).toBeLessThan(100);
    const st = await (await agent.connect(TOKENS.viewer)).call<DirectorStatus>('director.status');
    expect(st.shot).toMatchObject({ camera: 'cam-2', preset: 5 });
    expect(Object.values(st.cameras).every((c) => c.pending === null && !c.moving)).toBe(true);
    expect(recallsOf(cams[1]).at(-1)).toBe(5);
  });

  it('a microphone device that disconnects while a mic is on: overview after the silence timeout', async () => {
    const cams = await cameras(1);
    let mic: ShureSimulator | null = await startShureSimulator();
    agent = await startTestAgent(
      `[devices.mxa]\ndriver = "shure-mic"\nhost = "127.0.0.1"\nport = ${mic.port}\n\n${cameraToml(cams)}\n` +
        directorToml('mxa', '{ camera = "cam-1", preset = 9 }', [[1, 'cam-1', 1]]),
    );
    await until(() => recallsOf(cams[0]).length === 1, 'overview');
    mic.setGate(1, true);
    await until(() => recallsOf(cams[0]).length === 2, 'seat 1');
    await mic.stop(); // the device is gone for good: no reconnect brings the gate back
    mic = null;
    await until(() => recallsOf(cams[0]).length === 3, 'overview after link loss');
    expect(recallsOf(cams[0])).toEqual([9, 1, 9]);
    expect(agent.agent.devices.get('mxa')?.status.status).not.toBe('online');
  });
});
