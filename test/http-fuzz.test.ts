// Fuzz of every HTTP route (issue 16): random and malformed bodies, nesting
// depths, sizes past the limits, headers and every token form (header, query,
// wrong, empty, repeated), against a real agent with the go2rtc emulator and
// a calendar. Asserts: no 5xx from client input, every request answered, the
// agent keeps answering (HTTP and WS), no token in the log, no stack logged.
// FUZZ_RUNS=<n> for a longer (nightly) run; the default stays under ~40 s.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { zoomSignature } from '../src/tracking/zoom.js';
import { TOKENS } from './support/agent.js';
import { twilioSignature } from './support/twilio-standin.js';
import { type LoggedAgent, startLoggedAgent } from './support/logged-agent.js';
import { EMULATOR, freePort } from './video-helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 800);
const ZOOM_SECRET = 'zoom-fuzz-secret-9d8c7b';
const TWILIO_TOKEN = 'twilio-fuzz-token-4f3e2d1c0b';
const TWILIO_PUBLIC = 'https://room.example.com:8443';
const ICS = path.resolve(import.meta.dirname, '../drivers/ics/sample/room.ics');
const WEBHOOK_LIMIT = 65_536;
const VIDEO_LIMIT = 16_384;
const IDENTITY_LIMIT = 4096;
let t: LoggedAgent;

beforeAll(async () => {
  expect(fs.existsSync(ICS)).toBe(true);
  t = await startLoggedAgent(
    `
[tracking]
zoom_secret_token = "${ZOOM_SECRET}"
max_body_bytes = ${WEBHOOK_LIMIT}
max_batch = 50
publish_delay_ms = 0

[identity]
max_body_bytes = ${IDENTITY_LIMIT}

[twilio]
account_sid = "AC${'0f'.repeat(16)}"
auth_token = "${TWILIO_TOKEN}"
from = "+15005550006"
api_base_url = "http://127.0.0.1:9"
public_url = "${TWILIO_PUBLIC}"
max_body_bytes = ${WEBHOOK_LIMIT}

[devices.outlook]
driver = "ics"
simulated = true
url = "${ICS}"

[calendar]
sources = ["outlook"]

[video]
go2rtc = "${EMULATOR}"
api_port = ${await freePort()}
rtsp_port = ${await freePort()}
max_body_bytes = ${VIDEO_LIMIT}
[video.streams.cam-1]
main = "rtsp://10.0.0.5/main"
`,
    { level: 'debug' },
  );
  // The proxy answers 503 until go2rtc (the emulator) is up; fuzz the running proxy (waited for up to 20 s of
  // time, not a count of polls).
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    const r = await fetch(`${t.url}/video/frame.jpeg?src=cam-1_main`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    await r.arrayBuffer();
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 50));
  }
}, 30_000);
afterAll(async () => {
  await t?.stop();
});

const WRONG = 'wrong-token-fuzz-5e4d3c2b1a';
const tokenForm = fc.constantFrom<{ header?: string; query?: string }>(
  ...Object.values(TOKENS).flatMap((tok) => [
    { header: `Bearer ${tok}` },
    { query: `token=${encodeURIComponent(tok)}` },
    { header: `Bearer ${tok}`, query: `token=${WRONG}` },
  ]),
  { header: `Bearer ${WRONG}` },
  { query: `token=${WRONG}` },
  { header: 'Bearer ' },
  { header: 'Bearer' },
  { query: 'token=' },
  { query: `token=${WRONG}&token=${TOKENS.admin}` },
  { header: `Basic ${Buffer.from(`x:${TOKENS.admin}`).toString('base64')}` },
  { header: `bearer ${TOKENS.admin}` },
  { query: 'token=%ZZ%' },
  {},
);

const nested = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":', '{"user_data":'))
  .map(([depth, open]) => open.repeat(depth) + '1' + (open === '[' ? ']' : '}').repeat(depth));

const oddEvent = fc.record(
  {
    event: fc.oneof(
      fc.constantFrom('conf.create.succ', 'conf.end', 'conf.joined', 'conf.quit', 'conf.play_end', 'conf.record_end'),
      fc.constantFrom('toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'),
      fc.string(),
    ),
    id: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
    begin_time: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(1763900000)),
    end_time: fc.oneof(fc.integer(), fc.constant(1763900100), fc.string()),
    join_time: fc.oneof(
      fc.integer(),
      fc.constant(1763900010),
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
    ),
    quit_time: fc.oneof(fc.integer(), fc.constant(1763900050)),
    call_id: fc.string({ maxLength: 300 }),
    part_uri: fc.string({ maxLength: 300 }),
    user_data: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 6 }), fc.constant(null)),
    error: fc.oneof(fc.string(), fc.integer()),
  },
  { requiredKeys: [] },
);

/** POST /identity/verify bodies: right shape, wrong types, extra keys, prototype names. */
const verifyBody = fc.record(
  {
    meeting: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('__proto__', 'constructor'), fc.integer()),
    code: fc.oneof(fc.stringMatching(/^\d{6}$/), fc.string({ maxLength: 40 }), fc.integer()),
    participant: fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue({ maxDepth: 3 })),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['meeting', 'code', 'participant'] },
);

const zoomEvent = fc.record({
  event: fc.oneof(
    fc.constantFrom(
      'meeting.started',
      'meeting.ended',
      'meeting.participant_joined',
      'meeting.participant_left',
      'endpoint.url_validation',
    ),
    fc.constantFrom('toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'),
    fc.string(),
  ),
  event_ts: fc.oneof(fc.integer(), fc.constant(Date.now())),
  payload: fc.oneof(
    fc.jsonValue({ maxDepth: 5 }),
    fc.record({
      plainToken: fc.oneof(fc.string(), fc.integer()),
      object: fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.record(
          {
            uuid: fc.oneof(fc.string(), fc.integer()),
            id: fc.oneof(fc.string(), fc.integer()),
            start_time: fc.oneof(fc.string(), fc.constant(new Date().toISOString())),
            end_time: fc.string(),
            participant: fc.oneof(
              fc.jsonValue({ maxDepth: 3 }),
              fc.record({ email: fc.string(), join_time: fc.string(), leave_time: fc.string() }),
            ),
          },
          { requiredKeys: [] },
        ),
      ),
    }),
  ),
});

// Twilio status callbacks (form-encoded): valid, odd statuses, huge or missing fields
const twilioForm = fc
  .record({
    CallSid: fc.oneof(fc.constant(`CA${'1a'.repeat(16)}`), fc.string({ maxLength: 300 })),
    CallStatus: fc.constantFrom('busy', 'completed', 'in-progress', 'no-answer', 'exploded', ''),
    SequenceNumber: fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '1e9', 'x', '99999999999999999999')),
    Timestamp: fc.constantFrom('Tue, 01 Jan 2030 09:00:05 +0000', 'yesterday', ''),
    To: fc.constantFrom('+15005550199', '%00', ''),
  })
  .map((f) => new URLSearchParams(f).toString());

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v)),
  oddEvent.map((e) => JSON.stringify(e)),
  fc.array(oddEvent, { maxLength: 60 }).map((e) => JSON.stringify(e)),
  zoomEvent.map((e) => JSON.stringify(e)),
  nested,
  fc.string({ unit: 'binary' }),
  fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
  fc.constantFrom(Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('{"event":"\udc00"}'), ''),
  fc.integer({ min: 1, max: 4 }).map((k) => 'x'.repeat(WEBHOOK_LIMIT * k + 1)),
  fc.constantFrom('v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n', '{"type":"offer","sdp":"v=0\\r\\n"}', 'data=djA9MA=='),
  verifyBody.map((v) => JSON.stringify(v)),
  twilioForm,
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/sdp',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
  'application/json; x="',
  '*/*',
  ';;;',
  undefined,
);

const queryValue = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom('2026-12-06', '2026-12-06T10:00:00Z', '1763900000', '-1', '0', '10001', 'NaN', '1e400', '%00', '%ZZ'),
);

const route = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom('/hooks/conference', '/hooks/zoom', '/hooks/twilio', '/hooks/twilio?meeting=M-1&person=x'),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constantFrom('/video/webrtc?src=cam-1_main', '/video/webrtc?src=nope', '/video/webrtc'),
  }),
  fc.record({ method: fc.constant('POST'), path: fc.constant('/identity/verify') }),
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
    path: fc.oneof(
      fc.constantFrom(
        '/api/meetings',
        '/api/calendar',
        '/video/frame.jpeg',
        '/healthz',
        '/metrics',
        '/ws',
        '/video/ws',
        '/favicon.ico',
        '/nope',
      ),
      fc
        .tuple(fc.constantFrom('/api/meetings/', '/api/meetings/x/events', '/api/meetings/'), fc.string({ maxLength: 40 }))
        .map(([p, id]) => (p.endsWith('/') ? `${p}${encodeURIComponent(id)}` : p)),
      fc
        .tuple(
          fc.constantFrom('/console/', '/console/app.', '/console/..%2f'),
          fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('js', 'constructor', '__proto__', '..%2f..%2fetc%2fpasswd')),
        )
        .map(([p, f]) => `${p}${p.endsWith('/') ? encodeURIComponent(f) : f}`),
    ),
  }),
);

const request = fc.record({
  route,
  body,
  contentType,
  token: tokenForm,
  params: fc.dictionary(fc.constantFrom('from', 'to', 'at', 'limit', 'offset', 'src', 'width', 'h', 'rotate', 'x'), queryValue, {
    maxKeys: 4,
  }),
  signZoom: fc.boolean(),
  extraHeaders: fc.dictionary(
    fc.constantFrom(
      'x-zm-signature',
      'x-zm-request-timestamp',
      'accept',
      'content-encoding',
      'x-forwarded-for',
      'x-twilio-signature',
      'transfer-encoding',
    ),
    fc.oneof(
      fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      fc.constantFrom('gzip', 'chunked', 'v0=00'),
    ),
    { maxKeys: 3 },
  ),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** Mostly well-formed Twilio callbacks (signed, form-encoded, naming a meeting), so the fuzz also reaches the store. */
const twilioRequest: fc.Arbitrary<Req> = fc.record({
  route: fc.constantFrom(
    { method: 'POST', path: '/hooks/twilio?meeting=M-1&person=x' },
    { method: 'POST', path: '/hooks/twilio' },
  ),
  body: fc.oneof({ weight: 4, arbitrary: twilioForm }, { weight: 1, arbitrary: body }),
  contentType: fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'text/plain',
  ),
  token: fc.constant({}),
  params: fc.constant({}),
  signZoom: fc.boolean(),
  extraHeaders: fc.constantFrom({}, { 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }),
}) as fc.Arbitrary<Req>;

async function send(r: Req): Promise<{ status: number; text: string }> {
  const q = new URLSearchParams(r.params).toString();
  const parts = [r.route.path.includes('?') ? r.route.path.split('?')[1] : '', q, r.token.query ?? ''].filter(Boolean);
  const url = `${t.url}${r.route.path.split('?')[0]}${parts.length ? `?${parts.join('&')}` : ''}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.extraHeaders)) if (k !== 'transfer-encoding' && k !== 'content-encoding') headers[k] = v;
  if (r.token.header !== undefined) headers.authorization = r.token.header;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  const hasBody = !['GET', 'HEAD'].includes(r.route.method);
  const raw = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  if (hasBody && r.route.path === '/hooks/zoom' && r.signZoom) {
    const ts = String(Math.floor(Date.now() / 1000));
    headers['x-zm-request-timestamp'] = ts;
    headers['x-zm-signature'] = zoomSignature(ZOOM_SECRET, ts, raw);
  }
  if (hasBody && r.route.path.startsWith('/hooks/twilio') && r.signZoom) {
    // Signed as Twilio signs: the public URL with the query as sent, plus the form parameters when the body is a form.
    const form = (r.contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
    const params = form ? [...new URLSearchParams(raw.toString('utf8'))] : [];
    headers['x-twilio-signature'] = twilioSignature(
      TWILIO_TOKEN,
      `${TWILIO_PUBLIC}${new URL(url).pathname}${new URL(url).search}`,
      params,
    );
  }
  const res = await fetch(url, { method: r.route.method, headers, body: hasBody ? raw : undefined });
  return { status: res.status, text: await res.text() };
}

async function stillServing(): Promise<void> {
  const h = await fetch(`${t.url}/healthz`);
  expect(h.status).toBe(200);
  await h.arrayBuffer();
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?token=${TOKENS.viewer}`);
  const reply = await new Promise<{ result?: { room_id?: string } }>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.info' })));
    ws.once('message', (m) => resolve(JSON.parse(m.toString())));
    ws.once('error', reject);
  });
  ws.close();
  expect(reply.result?.room_id).toBe('test-room');
}

describe('HTTP fuzz (every route)', () => {
  it(`${RUNS} random requests: no 5xx, every one answered, the agent keeps serving`, async () => {
    const statuses = new Map<number, number>();
    const twilioStatuses = new Set<number>();
    await fc.assert(
      // Twilio callbacks weigh 3 in 9: at 1 in 7 a run stored ~6 callbacks (200) on average and none at all
      // about once in 400 runs, failing the check below by chance; now ~12 (none: about once in 160,000).
      fc.asyncProperty(fc.oneof({ weight: 6, arbitrary: request }, { weight: 3, arbitrary: twilioRequest }), async (r) => {
        const { status, text } = await send(r);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (r.route.path.startsWith('/hooks/twilio')) twilioStatuses.add(status);
        if (status >= 500) throw new Error(`${r.route.method} ${r.route.path} → ${status}: ${text.slice(0, 300)}`);
        for (const tok of [...Object.values(TOKENS), ZOOM_SECRET, TWILIO_TOKEN]) expect(text).not.toContain(tok);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 60_000 * Math.max(1, RUNS / 800) },
    );
    await stillServing();
    // Every kind of answer was reached: success, refusals and the limits.
    for (const s of [200, 400, 401, 403, 404, 413]) expect(statuses.get(s) ?? 0, `status ${s} seen`).toBeGreaterThan(0);
    // Twilio callbacks: stored, refused for their signature, bad fields, too large
    for (const s of [200, 400, 403, 413]) expect(twilioStatuses.has(s), `/hooks/twilio answered ${s}`).toBe(true);
    const log = t.log();
    for (const tok of [...Object.values(TOKENS), WRONG, ZOOM_SECRET, TWILIO_TOKEN]) expect(log).not.toContain(tok);
    expect(log).not.toContain('"stack"');
    expect(log).not.toMatch(/"level":(50|60)/);
  }, 120_000);

  it('raw garbage and broken HTTP framing on the socket: a 4xx or a close, never a hang or a log line', async () => {
    const before = t.log().length;
    const { port } = new URL(t.url);
    const framing = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)),
      fc
        .tuple(
          fc.constantFrom('GET', 'POST', 'G\u0000T', 'PRI'),
          fc.string({ maxLength: 40 }),
          fc.constantFrom('HTTP/1.1', 'HTTP/9', 'HTTP/1.1\n', ''),
        )
        .map(([m, p, v]) => Buffer.from(`${m} /${p}?token=${TOKENS.admin} ${v}\r\nHost: x\r\nContent-Length: -1\r\n\r\n`)),
      fc.constant(
        Buffer.from(
          `POST /hooks/conference?token=${TOKENS.ingest} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(framing, async (bytes) => {
        const answer = await new Promise<string>((resolve, reject) => {
          const sock = net.connect(Number(port), '127.0.0.1', () => sock.end(bytes));
          let got = '';
          sock.on('data', (d) => {
            got += d.toString('latin1');
          });
          sock.on('close', () => resolve(got));
          sock.on('error', () => resolve(got));
          setTimeout(() => reject(new Error('no answer and no close within 10 s')), 10_000).unref();
        });
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
        if (status) expect(Number(status)).toBeLessThan(500);
      }),
      { numRuns: Math.max(30, Math.round(RUNS / 10)) },
    );
    await stillServing();
    const after = t.log().slice(before);
    for (const tok of Object.values(TOKENS)) expect(after).not.toContain(tok);
    expect(after).not.toContain('"stack"');
  }, 60_000);

  it('sizes past every body limit get 413, the deepest nesting 400, and the agent keeps serving', async () => {
    const auth = { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' };
    for (const size of [WEBHOOK_LIMIT + 1, 1024 * 1024, 8 * 1024 * 1024]) {
      const r = await fetch(`${t.url}/hooks/conference`, { method: 'POST', headers: auth, body: 'x'.repeat(size) });
      expect(r.status).toBe(413);
      const v = await fetch(`${t.url}/video/webrtc?src=cam-1_main`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.viewer}`, 'content-type': 'application/sdp' },
        body: `v=0${'x'.repeat(size)}`,
      });
      expect(v.status).toBe(413);
    }
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    expect((await fetch(`${t.url}/hooks/conference`, { method: 'POST', headers: auth, body: deep })).status).toBe(400);
    // Headers past Node's limit: 431, connection closed.
    const big = await fetch(`${t.url}/api/meetings`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}`, 'x-pad': 'p'.repeat(20_000) },
    });
    expect(big.status).toBe(431);
    await stillServing();
  });
});
