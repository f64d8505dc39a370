// The go2rtc emulator itself answers like go2rtc (go2rtc's website/api/openapi.yaml and its WebSocket API), so
// the supervisor and proxy tests exercise the real contract.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildGo2rtcConfig, renderGo2rtcYaml } from '../src/video/go2rtc-config.js';
import { EMULATOR, freePort } from './video-helpers.js';

let proc: ChildProcess;
let port: number;
let dir: string;
let listenLine = '';
// The stream's camera password: a text no path, port or version holds. (A 2-letter "pw" was also a
// chance pair of the random temporary folder names in config_path: about 1 run in 400.)
const CAM_PASSWORD = 'Emu-s3cret-pw';
const api = (p: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${p}`, init);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'go2rtc-emu-'));
  port = await freePort();
  const file = path.join(dir, 'go2rtc.yaml');
  const cfg = buildGo2rtcConfig({
    video: { api_port: port, rtsp_port: await freePort(), webrtc_port: 18555, candidates: [] },
    streams: [{ name: 'cam_main', camera: 'cam', kind: 'main', url: `rtsp://admin:${CAM_PASSWORD}@10.0.0.5/1` }],
  });
  fs.writeFileSync(file, renderGo2rtcYaml(cfg));
  proc = spawn(EMULATOR, ['-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  listenLine = await new Promise<string>((resolve) => {
    readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
      if (l.includes('[api] listen')) resolve(l);
    });
  });
});
afterAll(() => {
  proc?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function ws(p: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(`ws://127.0.0.1:${port}${p}`, { headers });
    s.once('open', () => resolve(s));
    s.once('unexpected-response', (_q, r) => reject(new Error(`HTTP ${r.statusCode}`)));
    s.once('error', reject);
  });
}

describe('go2rtc emulator (B.4–B.5)', () => {
  it('logs the text-format listen line and answers GET /api with app info', async () => {
    expect(listenLine).toMatch(new RegExp(`^\\d+ INF \\[api\\] listen addr=127\\.0\\.0\\.1:${port}$`));
    const info = (await (await api('/api')).json()) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(['config_path', 'host', 'revision', 'rtsp', 'version']);
    expect(info.version).toBe('1.9.14');
    expect(JSON.stringify(info)).not.toContain(CAM_PASSWORD);
    expect(JSON.stringify(info)).not.toContain('admin:');
  });

  it('GET /api/streams masks credentials; one stream by src, 404 with empty body otherwise', async () => {
    const all = (await (await api('/api/streams')).json()) as Record<
      string,
      { producers: { url: string }[]; consumers: unknown[] }
    >;
    expect(all.cam_main).toEqual({ producers: [{ url: 'rtsp://***@10.0.0.5/1' }], consumers: [] });
    const none = await api('/api/streams?src=nope');
    expect(none.status).toBe(404);
    expect(await none.text()).toBe('');
  });

  it('PUT /api/streams refuses exec/echo/expr and whitespace with 400 text; accepts rtsp with empty 200', async () => {
    const bad = await api(`/api/streams?name=x&src=${encodeURIComponent('exec:ffmpeg -i x')}`, { method: 'PUT' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('streams: source from insecure producer');
    const spaces = await api(`/api/streams?name=x&src=${encodeURIComponent('rtsp://a b')}`, { method: 'PUT' });
    expect(await spaces.text()).toBe('streams: source with spaces may be insecure');
    const ok = await api(`/api/streams?name=x&src=${encodeURIComponent('rtsp://10.0.0.9/1')}`, { method: 'PUT' });
    expect([ok.status, await ok.text()]).toEqual([200, '']);
    expect((await api('/api/streams?src=x', { method: 'DELETE' })).status).toBe(200);
  });

  it('frame.jpeg and webrtc: 404 "stream not found" for unknown streams', async () => {
    const f = await api('/api/frame.jpeg?src=nope');
    expect([f.status, await f.text()]).toEqual([404, 'stream not found']);
    const w = await api('/api/webrtc?src=nope', { method: 'POST', body: 'v=0' });
    expect([w.status, await w.text()]).toEqual([404, 'stream not found']);
    const raw = await api('/api/webrtc?src=cam_main', { method: 'POST', body: 'v=0\r\n' });
    expect(raw.status).toBe(200);
    expect(await raw.text()).toMatch(/^v=0/);
  });

  it('paths outside allow_paths are not registered', async () => {
    for (const p of ['/api/config', '/api/exit', '/api/restart', '/api/log', '/api/streams.dot']) {
      expect((await api(p, { method: 'POST' })).status, p).toBe(404);
    }
  });

  it('WS: errors as {"type":"error","value":"<type>: <err>"}; foreign Origin refused', async () => {
    const s = await ws('/api/ws?src=nope');
    const msg = new Promise<string>((r) => s.once('message', (d) => r(d.toString())));
    s.send(JSON.stringify({ type: 'webrtc/offer', value: 'v=0' }));
    expect(JSON.parse(await msg)).toEqual({ type: 'error', value: 'webrtc/offer: stream not found' });
    s.close();
    await expect(ws('/api/ws?src=cam_main', { origin: 'http://other.host:3000' })).rejects.toThrow('HTTP 403');
    const same = await ws('/api/ws?src=cam_main', { origin: `http://127.0.0.1:${port}` });
    same.close();
  });
});
