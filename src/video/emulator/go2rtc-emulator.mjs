#!/usr/bin/env node
// A go2rtc stand-in for tests (no network, no real go2rtc here). It is run as
// a real child process, reads the config room-agent writes (`-c <file>`), and
// answers the API go2rtc documents (website/api/openapi.yaml, WebSocket API): GET /api, /api/streams,
// /api/frame.jpeg, POST /api/webrtc, WS /api/ws, with allow_paths and the WS
// Origin rule. Extra `/__emu/*` routes let tests make it hang (and answer again), crash, spawn a
// child (to prove the process-group kill) or grow its memory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';

const VERSION = process.env.GO2RTC_EMU_VERSION ?? '1.9.14';
const args = process.argv.slice(2);
if (args.includes('-v') || args.includes('-version')) {
  process.stdout.write(`go2rtc version ${VERSION} (emulator) linux/amd64\n`);
  process.exit(0);
}
const ci = Math.max(args.indexOf('-c'), args.indexOf('-config'));
const configPath = ci >= 0 ? args[ci + 1] : 'go2rtc.yaml';
// room-agent writes JSON-flavoured YAML; strip the leading comment lines.
const config = JSON.parse(
  fs
    .readFileSync(configPath, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n'),
);
const apiListen = config.api?.listen ?? ':1984';
const allowPaths = Array.isArray(config.api?.allow_paths) && config.api.allow_paths.length > 0 ? config.api.allow_paths : null;
const streams = new Map(Object.entries(config.streams ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
const consumers = new Map();
let hanging = false;
const ballast = [];
const children = [];

// Source schemes go2rtc registers handlers for (the README's source list).
const KNOWN_SCHEMES = new Set([
  'rtsp',
  'rtsps',
  'rtspx',
  'rtmp',
  'rtmps',
  'http',
  'https',
  'ffmpeg',
  'exec',
  'onvif',
  'tcp',
  'webrtc',
]);
const log = (level, msg) => process.stdout.write(`${Date.now()} ${level} ${msg}\n`);
const mask = (u) => u.replace(/:\/\/[^/@]*@/, '://***@');
// A valid 1x1 JPEG (SOI … EOI).
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k=',
  'base64',
);

function allowed(path) {
  if (path.startsWith('/__emu/')) return true;
  return allowPaths === null || allowPaths.includes(path);
}

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

function streamInfo(name) {
  return {
    producers: (streams.get(name) ?? []).map((url) => ({ url: mask(url) })),
    consumers: [...Array(consumers.get(name) ?? 0)].map((_, i) => ({ id: i + 1, format_name: 'webrtc' })),
  };
}

const answerSdp = (offer) => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=go2rtc-emulator\r\na=answer-to:${offer.length}\r\n`;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (hanging && !p.startsWith('/__emu/')) return; // never answers: a hung go2rtc
  if (!allowed(p)) return send(res, 404, '404 page not found');
  const src = url.searchParams.get('src') ?? '';
  switch (`${req.method} ${p}`) {
    case 'GET /api':
      return send(
        res,
        200,
        JSON.stringify({
          config_path: configPath,
          host: req.headers.host,
          revision: 'emulator',
          rtsp: { listen: config.rtsp?.listen ?? ':8554', default_query: 'video&audio' },
          version: VERSION,
        }),
        'application/json',
      );
    case 'GET /api/streams':
      if (src)
        return streams.has(src)
          ? send(res, 200, JSON.stringify(streamInfo(src), null, 2), 'application/json')
          : send(res, 404, '');
      return send(
        res,
        200,
        JSON.stringify(Object.fromEntries([...streams.keys()].map((n) => [n, streamInfo(n)]))),
        'application/json',
      );
    case 'PUT /api/streams': {
      const srcs = url.searchParams.getAll('src');
      if (srcs.some((s) => /^(exec|echo|expr):/.test(s))) return send(res, 400, 'streams: source from insecure producer');
      if (srcs.some((s) => /\s/.test(s))) return send(res, 400, 'streams: source with spaces may be insecure');
      streams.set(url.searchParams.get('name') ?? srcs[0], srcs);
      return send(res, 200, '');
    }
    case 'DELETE /api/streams':
      streams.delete(src);
      return send(res, 200, '');
    case 'GET /api/frame.jpeg':
      if (!streams.has(src)) return send(res, 404, 'stream not found');
      return send(res, 200, JPEG, 'image/jpeg');
    case 'POST /api/webrtc': {
      if (!streams.has(src)) return send(res, 404, 'stream not found');
      const body = (await readBody(req)).toString();
      const ct = (req.headers['content-type'] ?? '').split(';')[0];
      if (ct === 'application/json') {
        const offer = JSON.parse(body);
        return send(res, 200, JSON.stringify({ type: 'answer', sdp: answerSdp(offer.sdp ?? '') }), 'application/json');
      }
      if (ct === 'application/sdp') return send(res, 201, answerSdp(body), 'application/sdp');
      return send(res, 200, answerSdp(body));
    }
    case 'GET /api/config':
      return send(res, 200, fs.readFileSync(configPath), 'application/yaml');
    case 'POST /api/exit':
      send(res, 200, '');
      return process.exit(Number(url.searchParams.get('code') ?? 0));
    case 'POST /api/restart':
      return send(res, 200, '');
    case 'POST /__emu/hang':
      hanging = true;
      return send(res, 200, 'hanging');
    case 'POST /__emu/unhang':
      hanging = false;
      return send(res, 200, 'answering');
    case 'POST /__emu/crash':
      send(res, 200, 'crashing');
      return setTimeout(() => process.exit(2), 20);
    case 'POST /__emu/spawn': {
      // Like go2rtc starting ffmpeg: a child in the same process group.
      const child = spawn('sleep', ['600'], { stdio: 'ignore' });
      children.push(child.pid);
      return send(res, 200, JSON.stringify({ pid: child.pid }), 'application/json');
    }
    case 'POST /__emu/grow': {
      const mb = Number(url.searchParams.get('mb') ?? 100);
      const b = Buffer.alloc(mb * 1024 * 1024, 1);
      ballast.push(b);
      return send(res, 200, JSON.stringify({ rss: process.memoryUsage().rss }), 'application/json');
    }
    case 'GET /__emu/state':
      return send(res, 200, JSON.stringify({ pid: process.pid, children, hanging }), 'application/json');
    default:
      return send(res, 404, '404 page not found');
  }
});

// WebSocket /api/ws with go2rtc's Origin rule (B.5).
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://x');
  if (hanging || url.pathname !== '/api/ws' || !allowed('/api/ws')) return socket.destroy();
  const origin = req.headers.origin;
  if (origin && config.api?.origin !== '*') {
    const o = new URL(origin);
    if (o.host !== req.headers.host && o.hostname !== req.headers.host) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      return socket.destroy();
    }
  }
  const src = url.searchParams.get('src') ?? '';
  wss.handleUpgrade(req, socket, head, (ws) => {
    consumers.set(src, (consumers.get(src) ?? 0) + 1);
    ws.on('close', () => consumers.set(src, Math.max(0, (consumers.get(src) ?? 1) - 1)));
    ws.on('message', (raw, binary) => {
      if (binary) return ws.send(raw, { binary: true }); // echo binary (two-way audio path)
      let msg;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        return ws.send(JSON.stringify({ type: 'error', value: 'ws: invalid JSON' }));
      }
      if (!streams.has(src)) return ws.send(JSON.stringify({ type: 'error', value: `${msg.type}: stream not found` }));
      // go2rtc internal/streams/handlers.go GetProducer: a source whose scheme
      // has no handler fails with "streams: unsupported scheme: " + the raw
      // source URL (credentials included); B.5: errors reach the WS client as
      // {"type":"error","value":"<msgtype>: <err>"}.
      const bad = (streams.get(src) ?? []).find((u) => !KNOWN_SCHEMES.has(String(u).split(':')[0]));
      if (bad && msg.type !== 'webrtc/candidate')
        return ws.send(JSON.stringify({ type: 'error', value: `${msg.type}: streams: unsupported scheme: ${bad}` }));
      switch (msg.type) {
        case 'webrtc/offer':
          ws.send(JSON.stringify({ type: 'webrtc/answer', value: answerSdp(String(msg.value)) }));
          return ws.send(
            JSON.stringify({ type: 'webrtc/candidate', value: 'candidate:1 1 udp 2130706431 127.0.0.1 8555 typ host' }),
          );
        case 'webrtc':
          return ws.send(JSON.stringify({ type: 'webrtc', value: { type: 'answer', sdp: answerSdp(String(msg.value?.sdp)) } }));
        case 'webrtc/candidate':
          return;
        case 'mse':
          ws.send(JSON.stringify({ type: 'mse', value: 'video/mp4; codecs="avc1.64001F"' }));
          return ws.send(Buffer.from([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70]), { binary: true });
        case 'mjpeg':
          return ws.send(JPEG, { binary: true });
        default:
          return ws.send(JSON.stringify({ type: 'error', value: `${msg.type}: unsupported` }));
      }
    });
  });
});

function hostPort(listen, defPort) {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '0.0.0.0', port: Number(listen.slice(i + 1) || defPort) };
}

const api = hostPort(apiListen, 1984);
server.once('error', (e) => log('ERR', `[api] listen error="${e.message}"`)); // logged, not fatal (B.8, v1.8.3+)
server.listen(api.port, api.host, () => log('INF', `[api] listen addr=${api.host}:${server.address().port}`));
if (config.rtsp?.listen) {
  const r = hostPort(config.rtsp.listen, 8554);
  const rtsp = net.createServer((s) => s.destroy());
  rtsp.once('error', (e) => log('ERR', `[rtsp] listen error="${e.message}"`));
  rtsp.listen(r.port, r.host, () => log('INF', `[rtsp] listen addr=${r.host}:${r.port}`));
}
log('INF', `go2rtc version ${VERSION} linux/amd64 (emulator)`);

const ignoreTerm = process.env.GO2RTC_EMU_IGNORE_TERM === '1';
process.on('SIGTERM', () => {
  if (ignoreTerm) return log('INF', 'SIGTERM ignored');
  log('INF', 'exiting on SIGTERM');
  process.exit(0);
});
