// Issue 16 findings 4, 6 and 7 (HTTP half), each reproduced on a real agent
// with the shipped logger: tokens never reach the log, a video refusal logs
// nothing, nested webhook bodies and odd-but-valid Zoom event names get a
// 4xx with the reason (never a 5xx a sender would retry forever), and a 5xx
// stays for our own faults (a storage failure).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoomSignature } from '../src/tracking/zoom.js';
import { TOKENS } from './support/agent.js';
import { type LoggedAgent, startLoggedAgent } from './support/logged-agent.js';

const ZOOM_SECRET = 'zoom-doors-secret-42';
let t: LoggedAgent;

beforeAll(async () => {
  t = await startLoggedAgent(`
[tracking]
zoom_secret_token = "${ZOOM_SECRET}"
publish_delay_ms = 0

[video]
go2rtc = "/nonexistent/go2rtc"
[video.streams.cam-1]
main = "rtsp://10.0.0.5/main"
`);
});
afterAll(async () => {
  await t?.stop();
});

const hook = (body: string, query = `?token=${TOKENS.ingest}`) =>
  fetch(`${t.url}/hooks/conference${query}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

function zoom(body: unknown) {
  const raw = Buffer.from(JSON.stringify(body));
  const ts = String(Math.floor(Date.now() / 1000));
  return fetch(`${t.url}/hooks/zoom`, {
    method: 'POST',
    body: raw,
    headers: {
      'content-type': 'application/json',
      'x-zm-request-timestamp': ts,
      'x-zm-signature': zoomSignature(ZOOM_SECRET, ts, raw),
    },
  });
}

const nestObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const nestArray = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);

describe('finding 4: tokens in the log', () => {
  it('a webhook 5xx (storage fault) logs the path without the ?token= query', async () => {
    const db = t.agent.store.db;
    db.pragma('query_only = ON');
    try {
      const r = await hook(JSON.stringify({ event: 'conf.mute', id: 'storage-fault-conf', call_id: 'c' }));
      expect(r.status).toBe(500);
      expect(JSON.stringify(await r.json())).not.toContain('SQLITE');
    } finally {
      db.pragma('query_only = OFF');
    }
    const log = t.log();
    expect(log).toContain('/hooks/conference');
    expect(log).not.toContain(TOKENS.ingest);
  });

  it('401 and 403 under /video/* log nothing (no "Reply was already sent", no URL, no token)', async () => {
    const before = t.log().length;
    const wrong = 'wrong-video-guess-7f3a9c';
    expect((await fetch(`${t.url}/video/frame.jpeg?src=cam-1&token=${wrong}`)).status).toBe(401);
    expect((await fetch(`${t.url}/video/frame.jpeg?src=cam-1&token=${TOKENS.ingest}`)).status).toBe(403);
    expect((await fetch(`${t.url}/video/webrtc?src=cam-1&token=${wrong}`, { method: 'POST', body: 'v=0' })).status).toBe(401);
    // Past the token check the guard still answers (404 unknown stream, 503 no go2rtc) without a log line.
    expect((await fetch(`${t.url}/video/frame.jpeg?src=nope&token=${TOKENS.viewer}`)).status).toBe(404);
    expect((await fetch(`${t.url}/video/frame.jpeg?src=cam-1_main&token=${TOKENS.viewer}`)).status).toBe(503);
    const after = t.log().slice(before);
    expect(after).not.toContain('already sent');
    expect(after).not.toContain(wrong);
    expect(after).not.toContain(TOKENS.ingest);
    expect(after).not.toContain(TOKENS.viewer);
  });
});

describe('finding 6: nested webhook bodies', () => {
  it('user_data nested 4,100 deep and an array 3,000 deep get 400 with the reason', async () => {
    for (const body of [
      `{"event":"conf.mute","id":"deep-conf","user_data":${nestObject(4100)}}`,
      `{"event":"conf.mute","id":"deep-conf","x":${nestArray(3000)}}`,
      `[{"event":"conf.mute","id":"deep-conf","x":1}, ${nestArray(3000)}]`,
      nestArray(100_000),
    ]) {
      const r = await hook(body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/nested deeper than 64 levels.*max_json_depth/);
    }
    // Nothing of a refused batch is stored.
    expect(t.agent.store.db.prepare("SELECT count(*) FROM tracking_events WHERE conference = 'deep-conf'").pluck().get()).toBe(0);
  });

  it('nesting within the limit is stored; brackets inside strings do not count', async () => {
    const r = await hook(`{"event":"conf.mute","id":"ok-depth-conf","x":${nestArray(60)},"s":"${'['.repeat(500)}"}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('a deep Zoom body is refused with 400 too', async () => {
    const r = await fetch(`${t.url}/hooks/zoom`, {
      method: 'POST',
      body: `{"event":"meeting.started","payload":${nestObject(5000)}}`,
      headers: (() => {
        const raw = Buffer.from(`{"event":"meeting.started","payload":${nestObject(5000)}}`);
        const ts = String(Math.floor(Date.now() / 1000));
        return {
          'content-type': 'application/json',
          'x-zm-request-timestamp': ts,
          'x-zm-signature': zoomSignature(ZOOM_SECRET, ts, raw),
        };
      })(),
    });
    expect(r.status).toBe(400);
  });
});

describe('finding 7 (HTTP): signed Zoom events named like Object.prototype members', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    '"%s" is ignored (200), not a 500',
    async (name) => {
      const now = Math.floor(Date.now() / 1000);
      const r = await zoom({
        event: name,
        event_ts: now * 1000,
        payload: {
          object: {
            uuid: `proto-${name}`,
            id: 42,
            start_time: new Date(now * 1000).toISOString(),
            participant: { email: 'a@example.com', join_time: new Date(now * 1000).toISOString() },
          },
        },
      });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ accepted: 0, duplicates: 0, ignored: name });
    },
  );
});

describe('a request that trickles in', () => {
  it('is answered 408 and closed after [agent] http_request_timeout_ms', async () => {
    const slow = await startLoggedAgent('[tracking]\n', { agentToml: 'http_request_timeout_ms = 1000\n' });
    try {
      const { port } = new URL(slow.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(Number(port), '127.0.0.1', () => {
          sock.write(
            `POST /hooks/conference HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.ingest}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ev`,
          );
        });
        let got = '';
        sock.on('data', (d) => {
          got += d.toString();
        });
        sock.on('close', () => resolve(got));
        sock.on('error', reject);
        setTimeout(() => reject(new Error(`still open after 15 s: ${got}`)), 15_000).unref();
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await slow.stop();
    }
  });
});

describe('a path that is not valid percent-encoding', () => {
  it('gets 400 naming no URL: the ?token= never comes back (found by the HTTP fuzz: fastify echoed the whole URL)', async () => {
    const before = t.log().length;
    for (const p of ['/console/..%2f%', '/console/%E0%A4%A', '/api/meetings/%zz']) {
      const r = await fetch(`${t.url}${p}?token=${TOKENS.admin}`);
      const text = await r.text();
      expect(r.status, p).toBe(400);
      expect(text).not.toContain(TOKENS.admin);
      expect(JSON.parse(text)).toEqual({ error: expect.stringMatching(/^bad URL/) });
    }
    expect(t.log().slice(before)).not.toContain(TOKENS.admin);
  });
});
