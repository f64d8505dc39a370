// Pure go2rtc helpers: stream naming, config content, ready/listen-error log
// lines (go2rtc text format), version support and credential redaction.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildGo2rtcConfig,
  isApiListenError,
  isApiListenLine,
  isSupportedVersion,
  redactUrl,
  renderGo2rtcYaml,
  streamsFromConfig,
} from '../src/video/go2rtc-config.js';
import { meetingFromEvent, speakerFromDirector } from '../src/video/recorder-link.js';

describe('go2rtc config', () => {
  it('names streams <camera>_main / <camera>_sub and skips disabled cameras', () => {
    const s = streamsFromConfig(
      { 'cam-2': { sub: 'rtsp://b' }, 'cam-1': { main: 'rtsp://a', sub: 'rtsp://c' }, off: { main: 'rtsp://x' } },
      (id) => id !== 'off',
    );
    expect(s.map((x) => x.name)).toEqual(['cam-1_main', 'cam-1_sub', 'cam-2_sub']);
  });

  it('builds a loopback API with allow_paths, loopback RTSP, text logs on stdout', () => {
    const cfg = buildGo2rtcConfig({
      video: { api_port: 11984, rtsp_port: 18554, webrtc_port: 18555, candidates: ['10.1.1.1:18555'], ffmpeg: '/usr/bin/ffmpeg' },
      streams: [{ name: 'c_main', camera: 'c', kind: 'main', url: 'rtsp://u:"p#@x/1' }],
    });
    expect(cfg).toMatchObject({
      api: { listen: '127.0.0.1:11984', origin: '' },
      rtsp: { listen: '127.0.0.1:18554' },
      webrtc: { listen: ':18555', candidates: ['10.1.1.1:18555'] },
      log: { format: 'text', output: 'stdout' },
      ffmpeg: { bin: '/usr/bin/ffmpeg' },
      streams: { c_main: ['rtsp://u:"p#@x/1'] },
    });
    expect((cfg.api as { allow_paths: string[] }).allow_paths).not.toContain('/api/config');
    // The YAML (JSON subset) round-trips quotes and # in passwords.
    const yaml = renderGo2rtcYaml(cfg);
    expect(JSON.parse(yaml.replace(/^#.*$/gm, '')).streams.c_main[0]).toBe('rtsp://u:"p#@x/1');
  });

  it.each([
    ['12:00:00.000 INF [api] listen addr=127.0.0.1:1984', true, false],
    ['1700000000000 INF [api] listen addr=127.0.0.1:11984', true, false],
    ['12:00:00.000 ERR [api] listen error="listen tcp 127.0.0.1:1984: bind: address already in use"', false, true],
    ['12:00:00.000 INF [rtsp] listen addr=127.0.0.1:8554', false, false],
    ['12:00:00.000 ERR [rtsp] listen error="address already in use"', false, false],
  ])('log line %s → ready %s, api error %s', (line, ready, err) => {
    expect(isApiListenLine(line)).toBe(ready);
    expect(isApiListenError(line)).toBe(err);
  });

  it.each([
    ['1.9.14', true],
    ['1.9.12', true],
    ['1.9.15+dev.abc123', true],
    ['1.9.11', false],
    ['1.8.5', false],
    ['2.0.0', false],
    ['', false],
    [undefined, false],
  ])('version %s supported: %s', (v, ok) => {
    expect(isSupportedVersion(v)).toBe(ok);
  });

  it.each([
    ['rtsp://admin:pw@10.0.0.5:554/a', 'rtsp://10.0.0.5:554/a'],
    ['rtsp://10.0.0.5/a?user=admin&password=pw&channel=1', 'rtsp://10.0.0.5/a?channel=1'],
    ['ffmpeg:cam#video=h264', 'ffmpeg:cam#video=h264'],
  ])('redacts %s', (url, out) => {
    expect(redactUrl(url)).toBe(out);
  });

  it('never leaks a password put in the userinfo, whatever the URL', () => {
    fc.assert(
      // No `@` in the path: after a userinfo, `/x@y` cannot be told from a
      // password holding `/`, and redaction then hides up to the last `@`.
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._~-]{4,20}$/),
        fc.webPath().filter((p) => !p.includes('@')),
        (pw, p) => {
          const out = redactUrl(`rtsp://user:${pw}@10.0.0.5${p}`);
          return !out.includes(`:${pw}@`) && out.startsWith('rtsp://10.0.0.5');
        },
      ),
    );
  });
});

describe('recorder link inputs are read tolerantly', () => {
  it.each([
    [
      { id: 'm1', title: 'Budget' },
      { id: 'm1', title: 'Budget' },
    ],
    [{ meeting: { id: 'm2', name: 'Board' } }, { id: 'm2', title: 'Board' }],
    [
      { meeting_id: 'm3', subject: 'Sync' },
      { id: 'm3', title: 'Sync' },
    ],
    [{}, { id: undefined, title: undefined }],
  ])('meeting event %j', (data, out) => {
    expect(meetingFromEvent(data)).toEqual(out);
  });

  const talkers = [
    { mic: 'mxa/1', name: 'Anna Petrova', on: true, chairman: false, since: null },
    { mic: 'mxa/2', name: 'Seat 4', on: false, chairman: false, since: null },
  ];
  it.each([
    [{ status: { shot: { camera: 'cam-1', preset: 4, mic: 'mxa/1' }, talkers } }, 'Anna Petrova'],
    [{ status: { shot: { camera: 'cam-3', preset: 2, mic: 'mxa/2' }, talkers } }, 'Seat 4'],
    [{ status: { shot: { camera: 'cam-2', preset: 1, mic: null }, talkers } }, null],
    [{ status: { shot: null, talkers: [] } }, null],
    [{ status: { shot: { camera: 'cam-1', preset: 4, mic: 'mxa/9' }, talkers } }, null],
    [{ decision: { rule: 'talker', mic: 'mxa/1' } }, undefined],
    [null, undefined],
    ['x', undefined],
  ])('director message %j → %s', (data, out) => {
    expect(speakerFromDirector(data)).toBe(out);
  });
});
