// The video feature in a real agent with the go2rtc emulator: config
// generation, the token-guarded proxy (WS both ways, WebRTC POST, JPEG frame),
// forbidden paths, credential-free stream lists, camera changes and the
// "no binary" case.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { VideoFeature } from '../src/video/index.js';
import { startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { EMULATOR, freePort, waitUntil } from './video-helpers.js';

let t: TestAgent;
let apiPort: number;
const video = () => t.agent.ctx.feature<VideoFeature>('video')!;

beforeAll(async () => {
  apiPort = await freePort();
  const rtspPort = await freePort();
  t = await startTestAgent(`
[video]
go2rtc = "${EMULATOR}"
api_port = ${apiPort}
rtsp_port = ${rtspPort}
candidates = ["192.168.1.50:18555"]
health_interval_ms = 200
stop_grace_ms = 500
restart_min_ms = 50

[video.streams.cam-1]
main = "rtsp://admin:s3cret-pass@10.0.0.5:554/Streaming/Channels/101"
sub = "rtsp://10.0.0.5/sub?user=admin&password=s3cret-pass"
`);
  await waitUntil(() => video().status().state === 'running', 10_000, 'video running');
});
afterAll(async () => {
  await t?.stop();
});

const get = (p: string, token?: string, init: RequestInit = {}) =>
  fetch(`${t.url}${p}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });

function openWs(p: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}${p}`, { headers });
    inbox(ws);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

type Msg = { data: Buffer; binary: boolean };
const inboxes = new WeakMap<WebSocket, { queue: Msg[]; waiters: ((m: Msg) => void)[] }>();

/** Keeps messages in arrival order (several may arrive in one tick). */
function inbox(ws: WebSocket) {
  let box = inboxes.get(ws);
  if (!box) {
    const b = { queue: [] as Msg[], waiters: [] as ((m: Msg) => void)[] };
    ws.on('message', (data, binary) => {
      const m = { data: data as Buffer, binary };
      const w = b.waiters.shift();
      if (w) w(m);
      else b.queue.push(m);
    });
    inboxes.set(ws, b);
    box = b;
  }
  return box;
}

function nextMessage(ws: WebSocket): Promise<Msg> {
  const box = inbox(ws);
  const queued = box.queue.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => box.waiters.push(resolve));
}

describe('video feature with the go2rtc emulator', () => {
  it('writes a loopback-only config with allow_paths, owner-only', () => {
    const file = path.join(t.dir, 'data', 'video', 'go2rtc.yaml');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^#.*$/gm, ''));
    expect(cfg.api.listen).toBe(`127.0.0.1:${apiPort}`);
    expect(cfg.api.allow_paths).toEqual(['/api', '/api/ws', '/api/webrtc', '/api/frame.jpeg', '/api/streams']);
    expect(cfg.rtsp.listen).toMatch(/^127\.0\.0\.1:/);
    expect(cfg.log).toMatchObject({ format: 'text', output: 'stdout' });
    expect(cfg.webrtc.candidates).toEqual(['192.168.1.50:18555']);
    expect(Object.keys(cfg.streams)).toEqual(['cam-1_main', 'cam-1_sub']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('lists streams without credentials (RPC and topic)', async () => {
    const c = await t.connect(TOKENS.viewer);
    const list = await c.call<{ name: string; source: string; consumers?: number }[]>('video.streams');
    expect(list.map((s) => s.name)).toEqual(['cam-1_main', 'cam-1_sub']);
    expect(JSON.stringify(list)).not.toMatch(/s3cret|admin/);
    expect(list[0].source).toBe('rtsp://10.0.0.5:554/Streaming/Channels/101');
    expect(list[0].consumers).toBe(0);
    const sub = await c.call<{ snapshot: Record<string, { name: string }[]> }>('subscribe', {
      topics: ['video.streams', 'video.status'],
    });
    expect(sub.snapshot['video.streams'].map((s) => s.name)).toEqual(['cam-1_main', 'cam-1_sub']);
    expect(JSON.stringify(sub.snapshot)).not.toMatch(/s3cret/);
    const st = await c.call<{ state: string; version: string }>('video.status');
    expect(st).toMatchObject({ state: 'running', version: '1.9.14' });
  });

  it('proxies WS messages both ways, text and binary', async () => {
    const ws = await openWs(`/video/ws?src=cam-1_main&token=${TOKENS.viewer}`);
    ws.send(JSON.stringify({ type: 'webrtc/offer', value: 'v=0\r\n' }));
    const answer = JSON.parse((await nextMessage(ws)).data.toString());
    expect(answer.type).toBe('webrtc/answer');
    expect(JSON.parse((await nextMessage(ws)).data.toString()).type).toBe('webrtc/candidate');
    ws.send(JSON.stringify({ type: 'mse', value: 'avc1.640029' }));
    expect(JSON.parse((await nextMessage(ws)).data.toString())).toEqual({
      type: 'mse',
      value: 'video/mp4; codecs="avc1.64001F"',
    });
    const frame = await nextMessage(ws);
    expect(frame.binary).toBe(true);
    ws.send(Buffer.from([1, 2, 3, 250]), { binary: true });
    const echo = await nextMessage(ws);
    expect(echo.binary).toBe(true);
    expect([...echo.data]).toEqual([1, 2, 3, 250]);
    const live = await video().liveStreams();
    expect(live.find((s) => s.name === 'cam-1_main')?.consumers).toBe(1);
    ws.close();
  });

  it('closes a /video/ws client that sends a message over [api] max_frame_bytes with 1009; others go on', async () => {
    const other = await openWs(`/video/ws?src=cam-1_sub&token=${TOKENS.viewer}`);
    const big = await openWs(`/video/ws?src=cam-1_main&token=${TOKENS.viewer}`);
    const closed = new Promise<number>((resolve) => big.once('close', (code) => resolve(code)));
    big.on('error', () => undefined); // the close is the answer
    big.send(Buffer.alloc(1024 * 1024 + 1, 0x61), { binary: false });
    expect(await closed).toBe(1009);
    other.send(JSON.stringify({ type: 'mse', value: 'avc1.640029' }));
    expect(JSON.parse((await nextMessage(other)).data.toString()).type).toBe('mse');
    other.close();
  });

  it('passes a browser Origin check because the proxy is the same origin', async () => {
    const ws = await openWs(`/video/ws?src=cam-1_sub`, {
      authorization: `Bearer ${TOKENS.viewer}`,
      origin: 'http://coordinator.local:3000',
    });
    ws.send(JSON.stringify({ type: 'webrtc', value: { type: 'offer', sdp: 'v=0' } }));
    expect(JSON.parse((await nextMessage(ws)).data.toString()).value.type).toBe('answer');
    ws.close();
  });

  it('enforces the token on every route', async () => {
    await expect(openWs('/video/ws?src=cam-1_main')).rejects.toThrow('HTTP 401');
    await expect(openWs(`/video/ws?src=cam-1_main&token=${TOKENS.ingest}`)).rejects.toThrow('HTTP 403');
    await expect(openWs(`/video/ws?src=cam-1_main&token=wrong-token-wrong-token`)).rejects.toThrow('HTTP 401');
    expect((await get('/video/frame.jpeg?src=cam-1_main')).status).toBe(401);
    expect((await get('/video/webrtc?src=cam-1_main', undefined, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('refuses sources that are not our stream names (no on-the-fly URLs)', async () => {
    const url = encodeURIComponent('rtsp://10.9.9.9/x');
    expect((await get(`/video/frame.jpeg?src=${url}`, TOKENS.viewer)).status).toBe(404);
    await expect(openWs(`/video/ws?src=${url}&token=${TOKENS.viewer}`)).rejects.toThrow('HTTP 404');
  });

  it('proxies POST /video/webrtc (JSON and WHEP SDP) and GET /video/frame.jpeg', async () => {
    const j = await get('/video/webrtc?src=cam-1_main', TOKENS.viewer, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' }),
    });
    expect(j.status).toBe(200);
    expect(((await j.json()) as { type: string }).type).toBe('answer');
    const s = await get('/video/webrtc?src=cam-1_main', TOKENS.viewer, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    expect(s.status).toBe(201);
    expect(s.headers.get('content-type')).toBe('application/sdp');
    const f = await get('/video/frame.jpeg?src=cam-1_sub&width=320', TOKENS.viewer);
    expect(f.status).toBe(200);
    expect(f.headers.get('content-type')).toBe('image/jpeg');
    const b = Buffer.from(await f.arrayBuffer());
    expect([b[0], b[1]]).toEqual([0xff, 0xd8]);
  });

  it('exposes nothing else of go2rtc, and go2rtc itself serves only allow_paths', async () => {
    for (const p of [
      '/api/config',
      '/api/exit',
      '/api/restart',
      '/video/config',
      '/video/api/config',
      '/video/exit',
      '/video/streams',
    ]) {
      for (const method of ['GET', 'POST']) expect((await get(p, TOKENS.admin, { method })).status, `${method} ${p}`).toBe(404);
    }
    for (const p of ['/api/config', '/api/exit', '/api/restart', '/api/log']) {
      expect((await fetch(`http://127.0.0.1:${apiPort}${p}`, { method: 'POST' })).status, p).toBe(404);
    }
  });

  it('rewrites the config and restarts go2rtc when the cameras change (never PUT /api/streams)', async () => {
    const before = video().status();
    const changed = await video().setStreams({
      'cam-1': { main: 'rtsp://admin:s3cret-pass@10.0.0.5:554/Streaming/Channels/101' },
      'cam-2': { main: 'rtsp://10.0.0.6/main' },
    });
    expect(changed).toBe(true);
    await waitUntil(() => video().status().state === 'running' && video().status().pid !== before.pid, 10_000, 'restarted');
    const live = (await (await fetch(`http://127.0.0.1:${apiPort}/api/streams`)).json()) as Record<string, unknown>;
    expect(Object.keys(live).sort()).toEqual(['cam-1_main', 'cam-2_main']);
    expect(
      await video().setStreams({
        'cam-1': { main: 'rtsp://admin:s3cret-pass@10.0.0.5:554/Streaming/Channels/101' },
        'cam-2': { main: 'rtsp://10.0.0.6/main' },
      }),
    ).toBe(false);
  });
});

describe('video.reload', () => {
  it('re-reads [video.streams] from api.toml and restarts go2rtc only when they changed', async () => {
    const admin = await t.connect(TOKENS.admin);
    const file = path.join(t.dir, 'api.toml');
    fs.appendFileSync(file, '\n[video.streams.cam-3]\nmain = "rtsp://viewer:pw3@10.0.0.7/main"\n');
    const before = video().status().pid;
    const r = await admin.call<{ changed: boolean; streams: { name: string; source: string }[] }>('video.reload');
    expect(r.changed).toBe(true);
    expect(r.streams.map((s) => s.name)).toEqual(['cam-1_main', 'cam-1_sub', 'cam-3_main']);
    expect(JSON.stringify(r)).not.toContain('pw3');
    await waitUntil(() => video().status().state === 'running' && video().status().pid !== before, 10_000, 'restarted');
    const live = (await (await fetch(`http://127.0.0.1:${apiPort}/api/streams`)).json()) as Record<string, unknown>;
    expect(Object.keys(live).sort()).toEqual(['cam-1_main', 'cam-1_sub', 'cam-3_main']);
    expect((await admin.call<{ changed: boolean }>('video.reload')).changed).toBe(false);
    fs.appendFileSync(file, '\n[video.streams.cam-4]\nbogus = 1\n');
    await expect(admin.call('video.reload')).rejects.toThrow(/config not reloaded/);
    const viewer = await t.connect(TOKENS.viewer);
    await expect(viewer.call('video.reload')).rejects.toThrow(/needs role admin/);
  });
});

describe('video without the go2rtc binary', () => {
  it('reports unavailable with the path checked; the agent runs on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'video-missing-'));
    const a = await startTestAgent(
      `[video]\ngo2rtc = "/nonexistent/bin/go2rtc"\n[video.streams.cam-1]\nmain = "rtsp://10.0.0.5/main"\n`,
      { dir },
    );
    try {
      const c = await a.connect(TOKENS.viewer);
      const st = await c.call<{ state: string; message: string }>('video.status');
      expect(st.state).toBe('unavailable');
      expect(st.message).toContain('/nonexistent/bin/go2rtc');
      const r = await fetch(`${a.url}/video/frame.jpeg?src=cam-1_main&token=${TOKENS.viewer}`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/unavailable.*nonexistent/);
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      await a.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
