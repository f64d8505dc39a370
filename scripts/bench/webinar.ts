// A 1,000-participant webinar: everyone joins, then people leave and come
// back, 50 events/s for WEBINAR_MINUTES (default 10) minutes, posted one per
// request to /hooks/conference. 20 WebSocket subscribers follow the meeting on
// topic `meetings` (snapshot + deltas) and MQTT sync is on (Mosquitto when
// found or MOSQUITTO_BIN, else aedes in the load process), with one MQTT
// subscriber on meetings/#. Figures: bytes each WS subscriber received per
// minute beside the raw event bytes the agent received per minute, the same
// for MQTT, insight freshness (event posted → the subscriber holds a delta
// reflecting it) p50/p99, and the agent's CPU.
// The agent runs in this process; the load, the subscribers (and aedes, when
// used) in a child, so process.cpuUsage() here is the agent's CPU alone.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent } from '../../src/app.js';
import { freePort, mosquittoBin, ROOT } from './support.js';
import type { BenchResult } from './types.js';

const PEOPLE = 1000;
const RATE = 50;
const SUBSCRIBERS = 20;
const INGEST = 'bench-ingest-token-0123456789';
const VIEWER = 'bench-viewer-token-0123456789';
const ROOM = 'bench';

async function startMosquitto(bin: string, dir: string, port: number): Promise<ChildProcess> {
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n`);
  const p = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  p.kill('SIGTERM');
  throw new Error(`mosquitto (${bin}) did not listen on ${port}`);
}

/**
 * The load: plain JavaScript run in a child process (-e, resolved from the
 * project root so `ws`, `mqtt` and `aedes` are found). Event times are the
 * child's clock; freshness of an event at a subscriber = the first time a
 * delta holding it (the call's join, or its quit) arrived, minus the post time.
 */
const LOAD_SCRIPT = `
const http = require('node:http');
const net = require('node:net');
const WebSocket = require('ws');
const mqtt = require('mqtt');
const job = JSON.parse(process.argv[1]);
let broker = null;
async function startAedes() {
  const { Aedes } = require('aedes');
  const b = await Aedes.createBroker();
  const server = net.createServer((s) => b.handle(s));
  await new Promise((r) => server.listen(job.aedesPort, '127.0.0.1', r));
  broker = { close: () => new Promise((r) => b.close(() => server.close(() => r()))) };
}
const sent = new Map(); // "<call>|j" or "<call>|q" -> post time
const samples = [];
const subs = [];
function watch(sub, d) {
  const rows = d.insight ? d.insight.participants : d.participants || [];
  const now = performance.now();
  for (const p of rows) for (const c of p.calls) {
    for (const k of c.quit_time === null ? [c.call_id + '|j'] : [c.call_id + '|j', c.call_id + '|q']) {
      if (sub.seen.has(k)) continue;
      const t = sent.get(k);
      if (t === undefined) continue;
      sub.seen.add(k);
      samples.push(now - t);
    }
  }
}
function subscriber(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(job.wsUrl, { headers: { authorization: 'Bearer ' + job.viewer } });
    const sub = { ws, bytes: 0, seen: new Set(), deltas: 0 };
    ws.on('message', (data) => {
      sub.bytes += data.length;
      const m = JSON.parse(data.toString());
      if (m.id === 1) { ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'meetings.snapshot', params: { id: 'WEBINAR' } })); return; }
      if (m.id === 2) { if (m.result) watch(sub, { insight: m.result.insight }); resolve(sub); return; }
      if (m.method === 'event' && m.params.topic === 'meetings') { sub.deltas++; watch(sub, m.params.data); }
    });
    ws.once('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { topics: ['meetings'] } })));
    ws.once('error', reject);
  });
}
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let rawBytes = 0;
let failures = 0;
function post(ev) {
  const body = Buffer.from(JSON.stringify(ev));
  rawBytes += body.length;
  return new Promise((resolve) => {
    const req = http.request(job.hookUrl, { method: 'POST', agent, headers: {
      'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer ' + job.ingest } }, (res) => {
      if (res.statusCode !== 200) failures++;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', () => { failures++; resolve(); });
    req.end(body);
  });
}
async function main() {
  if (job.aedesPort) await startAedes();
  process.send({ broker: 'up' });
  Object.assign(job, await new Promise((r) => process.once('message', r))); // the agent is up: its URLs
  const mq = await mqtt.connectAsync(job.mqttUrl, { clientId: 'bench-central', reconnectPeriod: 0 });
  let mqttBytes = 0;
  let mqttMessages = 0;
  mq.on('message', (_t, payload) => { mqttBytes += payload.length; mqttMessages++; });
  await mq.subscribeAsync(job.meetingsFilter, { qos: 1 });
  const conf = 'webinar-conf';
  const t0 = Date.now();
  await post({ event: 'conf.create.succ', id: conf, begin_time: t0, user_data: '{"meeting":"WEBINAR"}' });
  for (let i = 0; i < job.subscribers; i++) subs.push(await subscriber(i));
  const startBytes = subs.map((s) => s.bytes);
  const mqttStart = mqttBytes;
  rawBytes = 0;
  const open = new Map();
  let calls = 0;
  let rnd = 12345;
  const rand = (n) => { rnd = (rnd * 1103515245 + 12345) & 0x7fffffff; return rnd % n; };
  const total = Math.round(job.minutes * 60 * job.rate);
  const start = performance.now();
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / job.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const who = k < job.people ? k : rand(job.people);
    const at = Date.now();
    const common = { id: conf, part_uri: 'sip:p' + who + '@example.com', user_data: '{"person":"person-' + who + '"}' };
    const o = open.get(who);
    let ev;
    if (o) {
      open.delete(who);
      ev = { event: 'conf.quit', call_id: o.call, join_time: o.join, quit_time: at, ...common };
      sent.set(o.call + '|q', performance.now());
    } else {
      const call = 'c' + calls++;
      open.set(who, { call, join: at });
      ev = { event: 'conf.joined', call_id: call, join_time: at, ...common };
      sent.set(call + '|j', performance.now());
    }
    void post(ev);
  }
  const elapsedMin = (performance.now() - start) / 60000;
  await new Promise((r) => setTimeout(r, 2000)); // the last pushes
  const perSub = subs.map((s, i) => (s.bytes - startBytes[i]) / elapsedMin);
  const expected = sent.size * subs.length;
  samples.sort((a, b) => a - b);
  const pct = (p) => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil((p / 100) * samples.length) - 1))];
  const result = {
    minutes: elapsedMin,
    events: total,
    failures,
    rawPerMin: rawBytes / elapsedMin,
    wsPerSubPerMin: perSub.reduce((a, b) => a + b, 0) / perSub.length,
    wsMaxPerSubPerMin: Math.max(...perSub),
    deltasPerSub: subs.reduce((a, s) => a + s.deltas, 0) / subs.length,
    mqttPerMin: (mqttBytes - mqttStart) / elapsedMin,
    mqttMessages,
    freshnessP50: pct(50),
    freshnessP99: pct(99),
    freshnessMax: samples[samples.length - 1],
    missing: expected - samples.length,
    connectedAtEnd: open.size,
  };
  for (const s of subs) s.ws.close();
  await mq.endAsync();
  agent.destroy();
  if (broker) await broker.close();
  process.send(result, () => process.exit(0));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

interface LoadResult {
  minutes: number;
  events: number;
  failures: number;
  rawPerMin: number;
  wsPerSubPerMin: number;
  wsMaxPerSubPerMin: number;
  deltasPerSub: number;
  mqttPerMin: number;
  mqttMessages: number;
  freshnessP50: number;
  freshnessP99: number;
  freshnessMax: number;
  missing: number;
  connectedAtEnd: number;
}

export async function run(): Promise<BenchResult[]> {
  const minutes = Number(process.env.WEBINAR_MINUTES ?? 10);
  if (!(minutes > 0))
    throw new Error(`WEBINAR_MINUTES must be a positive number of minutes, got "${process.env.WEBINAR_MINUTES}"`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-webinar-'));
  const port = await freePort();
  const bin = mosquittoBin();
  const mosquitto = bin ? await startMosquitto(bin, dir, port) : null;
  const mqttUrl = `mqtt://127.0.0.1:${port}`;
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "${ROOM}"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n\n` +
      `[[agent.tokens]]\nname = "ingest"\ntoken = "${INGEST}"\nrole = "ingest"\n\n` +
      `[[agent.tokens]]\nname = "viewer"\ntoken = "${VIEWER}"\nrole = "viewer"\n\n` +
      `[tracking]\n\n[mqtt]\nurl = "${mqttUrl}"\n`,
  );
  const job = {
    minutes,
    rate: RATE,
    people: PEOPLE,
    subscribers: SUBSCRIBERS,
    ingest: INGEST,
    viewer: VIEWER,
    mqttUrl,
    meetingsFilter: `rooms/${ROOM}/meetings/#`,
    aedesPort: bin ? 0 : port,
    wsUrl: '',
    hookUrl: '',
  };
  let agent: Agent | null = null;
  const child = spawn(process.execPath, ['-e', LOAD_SCRIPT, JSON.stringify({ aedesPort: job.aedesPort })], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const result = await new Promise<{ load: LoadResult; cpuMs: number; wallMs: number }>((resolve, reject) => {
      let cpu0: NodeJS.CpuUsage | undefined;
      let wall0 = 0;
      child.on('message', (m: { broker?: string } | LoadResult) => {
        if ('broker' in m) {
          void (async () => {
            agent = new Agent({ configFile: file, logger: pino({ level: 'silent' }) });
            const url = await agent.start();
            job.wsUrl = `${url.replace(/^http/, 'ws')}/ws`;
            job.hookUrl = `${url}/hooks/conference`;
            cpu0 = process.cpuUsage();
            wall0 = performance.now();
            child.send(job);
          })().catch(reject);
          return;
        }
        const cpu = process.cpuUsage(cpu0);
        resolve({ load: m as LoadResult, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wall0 });
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`webinar load exited with ${code}`));
      });
    });
    const { load, cpuMs, wallMs } = result;
    if (load.failures) throw new Error(`${load.failures} webhook posts failed`);
    const broker = bin ? `mosquitto ${bin}` : 'aedes';
    const label = `${PEOPLE} people, ${RATE} ev/s, ${load.minutes.toFixed(1)} min, ${SUBSCRIBERS} WS subscribers, MQTT via ${broker}`;
    process.stdout.write(`${label}\n${JSON.stringify(load)}\n`);
    return [
      {
        name: `WS bytes per subscriber per minute (${label})`,
        value: load.wsPerSubPerMin,
        unit: 'B/min',
        baseline: { name: 'raw event bytes received per minute', value: load.rawPerMin },
        goal: '≤ 10× raw',
      },
      {
        name: 'WS bytes per subscriber ÷ raw event bytes',
        value: load.wsPerSubPerMin / load.rawPerMin,
        unit: '×',
        goal: '≤ 10',
      },
      {
        name: 'MQTT bytes on meetings/# per minute',
        value: load.mqttPerMin,
        unit: 'B/min',
        baseline: { name: 'raw event bytes received per minute', value: load.rawPerMin },
      },
      { name: 'insight freshness p50 (event posted → delta at subscriber)', value: load.freshnessP50, unit: 'ms' },
      { name: 'insight freshness p99', value: load.freshnessP99, unit: 'ms', goal: '≤ 1,000 ms' },
      { name: 'events never seen by a subscriber', value: load.missing, unit: 'events×subscribers', goal: '0' },
      { name: 'agent CPU', value: (cpuMs / wallMs) * 100, unit: '% of one core', goal: '≤ 20 %' },
    ];
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    if (agent) await (agent as Agent).stop().catch(() => undefined);
    mosquitto?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
