// Issue 19 item 3: stream credentials in answers and logs. The userinfo ends
// at the LAST `@` of the authority (as go2rtc's net/url and ffmpeg read it),
// and every credential-like query parameter is removed, not masked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactCredentials } from '../drivers/recorder/protocol.js';
import { redactUrl } from '../src/video/go2rtc-config.js';
import { isSecretParam, redactUrlsInText } from '../src/video/redact.js';
import type { VideoFeature } from '../src/video/index.js';
import { startTestAgent, TOKENS } from './support/agent.js';

describe('stream URL redaction', () => {
  it.each([
    ['rtsp://admin:p1@p2@cam/live', 'rtsp://cam/live'],
    ['rtsp://admin:p1@p2@cam:554/live?channel=1', 'rtsp://cam:554/live?channel=1'],
    ['rtsp://admin:pa/ss@cam/live', 'rtsp://cam/live'],
    ['rtsp://admin:pa?ss@cam/live', 'rtsp://cam/live'],
    ['rtsp://admin:pa#ss@cam/live', 'rtsp://cam/live'],
    ['rtsp://admin:secretpw', 'rtsp://'],
    ['rtsp://cam:554/live', 'rtsp://cam:554/live'],
    ['rtsp://[::1]:554/live', 'rtsp://[::1]:554/live'],
    ['ffmpeg:rtsp://admin:pw@cam/x#video=h264', 'ffmpeg:rtsp://cam/x#video=h264'],
    ['ffmpeg:cam#video=h264', 'ffmpeg:cam#video=h264'],
    ['http://cam/snap.jpg?token=abcd', 'http://cam/snap.jpg'],
    ['rtsp://cam/live#access_token=abcd', 'rtsp://cam/live'],
  ])('userinfo: %s → %s', (url, out) => {
    expect(redactUrl(url)).toBe(out);
  });

  const NAMES = [
    'token',
    'access_token',
    'refresh_token',
    'apikey',
    'api_key',
    'api-key',
    'apiKey',
    'key',
    'password',
    'pass',
    'passwd',
    'pwd',
    'sessionid',
    'session_id',
    'sig',
    'signature',
    'auth',
    'authorization',
    'secret',
    'client_secret',
    'user',
    'username',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Amz-Security-Token',
    'streamKey',
    'accesstoken',
  ];

  it('removes every credential-like query parameter, whatever its case', () => {
    for (const name of NAMES) {
      for (const n of [name, name.toUpperCase(), name.toLowerCase()]) {
        expect(isSecretParam(n), n).toBe(true);
        const out = redactUrl(`rtsp://cam/live?channel=1&${n}=abcd1234&subtype=0`);
        expect(out, n).toBe('rtsp://cam/live?channel=1&subtype=0');
      }
    }
    expect(redactUrl('rtsp://cam/live?token=abcd1234')).toBe('rtsp://cam/live');
    for (const keep of ['channel', 'subtype', 'keyframe', 'stream', 'video', 'resolution'])
      expect(isSecretParam(keep), keep).toBe(false);
  });

  it('never shows any part of a password put in the userinfo, whatever its characters', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@/?#%-]{4,24}$/),
        fc.stringMatching(/^(\/[A-Za-z0-9._-]{1,10}){0,3}$/),
        fc.stringMatching(/^[A-Za-z0-9]{4,12}$/),
        (pw, p, token) => {
          // A secret that is a piece of what may be shown anyway (fast-check draws words like "call" for the
          // password and the path alike) proves nothing: about 1 run in 60 failed on seeds such as 35 ("call",
          // "/call") and 58 (token "call", path "/calla").
          const shownAnyway = `[rtsp @ 0x55] 'rtsp://***@10.0.0.5${p}?channel=1': Connection refused`;
          fc.pre(![pw, token, 'admin'].some((secret) => shownAnyway.includes(secret)));
          const url = `rtsp://admin:${pw}@10.0.0.5${p}?channel=1&access_token=${token}`;
          const shown = redactUrl(url);
          const logged = redactUrlsInText(`[rtsp @ 0x55] '${url}': Connection refused`);
          for (const out of [shown, logged]) {
            if (out.includes(pw) || out.includes(token) || out.includes('admin')) return false;
          }
          return shown.startsWith('rtsp://10.0.0.5') && logged.includes('***@10.0.0.5');
        },
      ),
    );
  });

  it('ffmpeg output lines keep a *** marker in place of the userinfo', () => {
    expect(redactCredentials("Input #0, rtsp, from 'rtsp://admin:p1@p2@cam/live?token=abcd1234':")).toBe(
      "Input #0, rtsp, from 'rtsp://***@cam/live",
    );
  });
});

describe('video.streams answers', () => {
  it('show the source without userinfo or credential params', async () => {
    const t = await startTestAgent(`
[video]
go2rtc = "/nonexistent/go2rtc"
[video.streams.cam-1]
main = "rtsp://admin:p1@p2@192.0.2.7/live?channel=1&access_token=Sekr3tTok"
sub = "rtsp://192.0.2.7/sub?apikey=Sekr3tKey&sig=Sekr3tSig&subtype=1"
`);
    try {
      const viewer = await t.connect(TOKENS.viewer);
      const streams = await viewer.call<{ name: string; source: string }[]>('video.streams');
      expect(streams.map((s) => [s.name, s.source])).toEqual([
        ['cam-1_main', 'rtsp://192.0.2.7/live?channel=1'],
        ['cam-1_sub', 'rtsp://192.0.2.7/sub?subtype=1'],
      ]);
    } finally {
      await t.stop();
    }
  });
});

describe('video proxy answers', () => {
  it("go2rtc's error frames quoting a source URL reach the viewer redacted", async () => {
    const { EMULATOR, freePort, waitUntil } = await import('./video-helpers.js');
    const WebSocket = (await import('ws')).default;
    const t = await startTestAgent(`
[video]
go2rtc = "${EMULATOR}"
api_port = ${await freePort()}
rtsp_port = ${await freePort()}
[video.streams.cam-9]
main = "rtps://admin:Sekr3t-typo@10.0.0.6/live?channel=1&token=Tok3nTok3n"
`);
    try {
      const video = t.agent.ctx.feature<VideoFeature>('video')!;
      await waitUntil(() => video.status().state === 'running', 10_000, 'video running');
      const ws = new WebSocket(`${t.url.replace('http', 'ws')}/video/ws?src=cam-9_main&token=${TOKENS.viewer}`);
      const first = new Promise<string>((resolve, reject) => {
        ws.once('message', (d) => resolve(d.toString()));
        ws.once('error', reject);
      });
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'webrtc/offer', value: 'v=0\r\n' }));
      const text = await first;
      ws.close();
      const msg = JSON.parse(text) as { type: string; value: string };
      expect(msg.type).toBe('error');
      expect(msg.value).toBe('webrtc/offer: streams: unsupported scheme: rtps://***@10.0.0.6/live?channel=1');
      for (const s of ['Sekr3t', 'Tok3n', 'admin']) expect(text).not.toContain(s);
    } finally {
      await t.stop();
    }
  });
});
