// Issue 19 item 7: video.status must not lie. `starting` (not `unavailable`,
// which means a missing binary) while the agent is still starting;
// `unresponsive` at the first missed liveness probe, with the proxy answering
// 503 until go2rtc answers again. Real agent, go2rtc emulator as a child.
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { FeatureFactory } from '../src/app-context.js';
import { createVideo, type VideoFeature } from '../src/video/index.js';
import { RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { EMULATOR, freePort, waitUntil } from './video-helpers.js';

const agents: TestAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop();
});

async function videoToml(extra = ''): Promise<string> {
  return `
[video]
go2rtc = "${EMULATOR}"
api_port = ${await freePort()}
rtsp_port = ${await freePort()}
restart_min_ms = 50
${extra}
[video.streams.cam-1]
main = "rtsp://10.0.0.5/main"
`;
}

describe('video.status', () => {
  it('says starting (not unavailable) when asked before the video feature has started', async () => {
    let early: { state: string; message: string } | null = null;
    // A feature ahead of video that asks over the API while the agent is still starting.
    const probe: FeatureFactory = (ctx) => ({
      name: 'probe',
      async start() {
        const { port } = ctx.http.server.address() as AddressInfo;
        const c = await RpcTestClient.open(`ws://127.0.0.1:${port}/ws?token=${TOKENS.viewer}`);
        early = await c.call('video.status');
        c.close();
      },
      async stop() {},
    });
    const t = await startTestAgent(await videoToml(), { features: [probe, createVideo] });
    agents.push(t);
    expect(early).toMatchObject({ state: 'starting' });
    const video = t.agent.ctx.feature<VideoFeature>('video')!;
    await waitUntil(() => video.status().state === 'running', 10_000, 'running');
  });

  it('says unresponsive at the first missed probe; the proxy answers 503 until go2rtc answers again', async () => {
    // 1.5 s per probe, not 300 ms: a loaded machine can answer one GET /api late, and a miss before the hang
    // would make the first frame below a 503 (the hung emulator never answers, so the first miss still comes).
    const toml = await videoToml('health_interval_ms = 100\nhealth_timeout_ms = 1500\nhealth_misses = 20\n');
    const apiPort = Number(/api_port = (\d+)/.exec(toml)![1]);
    const t = await startTestAgent(toml);
    agents.push(t);
    const video = t.agent.ctx.feature<VideoFeature>('video')!;
    const viewer = await t.connect(TOKENS.viewer);
    await waitUntil(() => video.status().state === 'running', 10_000, 'running');
    const frame = () =>
      fetch(`${t.url}/video/frame.jpeg?src=cam-1_main`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect((await frame()).status).toBe(200);

    await fetch(`http://127.0.0.1:${apiPort}/__emu/hang`, { method: 'POST' });
    const st = await waitUntil(async () => {
      const s = await viewer.call<{ state: string; message: string; restarts: number }>('video.status');
      return s.state === 'unresponsive' ? s : null;
    }, 10_000);
    expect(st.message).toMatch(/did not answer/);
    expect(st.restarts).toBe(0); // not restarted: 20 misses allowed
    const refused = await frame();
    expect(refused.status).toBe(503);
    expect(await refused.text()).toMatch(/unresponsive/);

    await fetch(`http://127.0.0.1:${apiPort}/__emu/unhang`, { method: 'POST' });
    await waitUntil(async () => (await viewer.call<{ state: string }>('video.status')).state === 'running', 10_000, 'back');
    expect((await frame()).status).toBe(200);
    expect(video.status().restarts).toBe(0);
  });
});
