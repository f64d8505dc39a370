// The processes of scripts/bench/fleet-load.ts's replay: FLEET_CHILD=rooms
// holds one MQTT connection per simulated room and publishes the measured
// room profile; FLEET_CHILD=central is the central subscriber on `rooms/#`
// (persistent session, QoS 1) that checks every room's sequence and measures
// lag. Both talk to the parent over IPC. Does nothing unless FLEET_CHILD is set
// (scripts/bench/run.ts imports every file of this folder).
import mqtt from 'mqtt';

/** One kind of message a room sends: where, how often (weight), how big, retained or not. */
export interface MixEntry {
  cls: string;
  weight: number;
  payloadBytes: number;
  retained: boolean;
}

export interface RoomsJob {
  url: string;
  rooms: string[];
  /** Messages per second per room while publishing. */
  rate: number;
  mix: MixEntry[];
  /** Retained topics a room republishes on every connect (as the agent does), and their payload size. */
  retainedTopics: number;
  retainedPayloadBytes: number;
  connectConcurrency: number;
}

/** Wall-clock time in ms with sub-ms precision, comparable between processes on one host. */
const now = () => performance.timeOrigin + performance.now();

function topicFor(room: string, cls: string, i: number): string {
  switch (cls) {
    case 'devices':
      return `rooms/${room}/devices/dev-${i % 10}`;
    case 'meetings':
      return `rooms/${room}/meetings/M-${i % 3}`;
    case 'deltas':
      return `rooms/${room}/meetings/M-${i % 3}/deltas`;
    default:
      return `rooms/${room}/${cls}`;
  }
}

/** `{"seq":n,"t":ms,"pad":"xxx"}` of about `bytes` bytes: the central side reads seq and t. */
function payload(seq: number, bytes: number): string {
  const head = `{"seq":${seq},"t":${now().toFixed(3)},"pad":"`;
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - 2))}"}`;
}

async function roomsChild(): Promise<void> {
  const job = await new Promise<RoomsJob>((r) => process.once('message', (m) => r(m as RoomsJob)));
  const clients: mqtt.MqttClient[] = [];
  const seq = new Array<number>(job.rooms.length).fill(0);
  let failures = 0;
  const t0 = performance.now();
  // Connect (and republish the retained picture, as the agent's onUp does), a window at a time.
  let next = 0;
  const connectOne = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= job.rooms.length) return;
      const room = job.rooms[i];
      const c = await mqtt.connectAsync(job.url, {
        clientId: room,
        protocolVersion: 5,
        keepalive: 30,
        reconnectPeriod: 0,
        connectTimeout: 120_000,
        will: {
          topic: `rooms/${room}/status`,
          payload: Buffer.from(`{"state":"offline","room":"${room}"}`),
          qos: 1,
          retain: true,
        },
      });
      c.on('error', () => failures++);
      clients[i] = c;
      const acks: Promise<unknown>[] = [];
      for (let k = 0; k < job.retainedTopics; k++) {
        const topic = k === 0 ? `rooms/${room}/status` : k === 1 ? `rooms/${room}/state` : `rooms/${room}/devices/dev-${k}`;
        acks.push(c.publishAsync(topic, payload(0, job.retainedPayloadBytes), { qos: 1, retain: true }));
      }
      await Promise.all(acks);
    }
  };
  await Promise.all(Array.from({ length: job.connectConcurrency }, connectOne));
  const connectMs = performance.now() - t0;
  process.send?.({ connected: job.rooms.length, connectMs, failures });
  // Publish until told to stop: each room on its own phase, a message every 1/rate s.
  const go = await new Promise<{ at: number }>((r) => process.once('message', (m) => r(m as { at: number })));
  const period = 1000 / job.rate;
  const due = job.rooms.map((_, i) => go.at + (period * i) / job.rooms.length);
  const cumulative: number[] = [];
  let sum = 0;
  for (const m of job.mix) cumulative.push((sum += m.weight));
  let pick = 0;
  let stopping = false;
  let published = 0;
  let acked = 0;
  let lateMaxMs = 0;
  process.once('message', () => {
    stopping = true;
  });
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  while (!stopping) {
    const t = now();
    for (let i = 0; i < clients.length; i++) {
      while (due[i] <= t) {
        // A deterministic walk through the mix, weighted by each class's share.
        pick = (pick + 0.6180339887) % 1;
        const m = job.mix[cumulative.findIndex((c) => pick * sum < c)] ?? job.mix[0];
        const s = ++seq[i];
        lateMaxMs = Math.max(lateMaxMs, t - due[i]);
        clients[i].publish(
          topicFor(job.rooms[i], m.cls, s),
          payload(s, m.payloadBytes),
          { qos: 1, retain: m.retained },
          (err) => {
            if (err) failures++;
            else acked++;
          },
        );
        published++;
        due[i] += period;
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - w0;
  // Let the last PUBACKs come, then leave cleanly (no Last Will).
  const until = performance.now() + 10_000;
  while (acked + failures < published && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  process.send?.(
    {
      sent: Object.fromEntries(job.rooms.map((r, i) => [r, seq[i]])),
      published,
      acked,
      failures,
      lateMaxMs,
      cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    },
    () => process.exit(0),
  );
}

export interface CentralReport {
  received: number;
  duplicates: number;
  lost: number;
  roomsShort: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** Mean lag of the first and last quarter of the window: growth means the subscriber falls behind. */
  lagFirstQuarter: number;
  lagLastQuarter: number;
  drainMs: number;
  cpuPct: number;
}

async function centralChild(): Promise<void> {
  const { url } = await new Promise<{ url: string }>((r) => process.once('message', (m) => r(m as { url: string })));
  // A persistent session: MQTT 5 clean start false, kept an hour after a disconnect.
  const connect = () =>
    mqtt.connectAsync(url, {
      clientId: 'fleet-central',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 1000,
    });
  let c = await connect();
  await c.subscribeAsync('rooms/#', { qos: 1 });
  // Per room: the next expected seq and the ones that came early (out of order).
  const rooms = new Map<string, { next: number; early: Set<number>; got: number }>();
  let lags = new Float64Array(1 << 20);
  let n = 0;
  let received = 0;
  let duplicates = 0;
  let lastAt = now();
  const onMessage = (topic: string, buf: Buffer, packet: mqtt.IPublishPacket) => {
    if (packet.retain) return; // the retained picture of a (re)subscription, not live traffic
    const t = now();
    const s = buf.toString('latin1', 0, 64);
    const seq = Number(/"seq":(\d+)/.exec(s)?.[1]);
    const sent = Number(/"t":([\d.]+)/.exec(s)?.[1]);
    if (!(seq > 0)) return; // a retained republish on connect (seq 0)
    const room = topic.split('/', 2)[1];
    let r = rooms.get(room);
    if (!r) rooms.set(room, (r = { next: 1, early: new Set(), got: 0 }));
    if (seq < r.next || r.early.has(seq)) {
      duplicates++;
      return;
    }
    r.got++;
    received++;
    if (seq === r.next) {
      r.next++;
      while (r.early.delete(r.next)) r.next++;
    } else r.early.add(seq);
    if (n === lags.length) {
      const bigger = new Float64Array(lags.length * 2);
      bigger.set(lags);
      lags = bigger;
    }
    lags[n++] = t - sent;
    lastAt = t;
  };
  c.on('message', onMessage);
  process.send?.({ subscribed: true });
  let cpu0 = process.cpuUsage();
  let w0 = performance.now();
  process.on('message', async (m: { reset?: boolean; blipMs?: number; expect?: Record<string, number>; drainMs?: number }) => {
    if (m.blipMs) {
      // Away for blipMs, then back on the same session without subscribing again:
      // the broker must have kept the subscription and queued what came meanwhile.
      await c.endAsync(true);
      await new Promise((r) => setTimeout(r, m.blipMs));
      c = await connect();
      c.on('message', onMessage);
      process.send?.({ back: true });
      return;
    }
    if (m.reset) {
      rooms.clear();
      n = 0;
      received = 0;
      duplicates = 0;
      cpu0 = process.cpuUsage();
      w0 = performance.now();
      process.send?.({ ready: true });
      return;
    }
    if (!m.expect) return;
    const expect = m.expect;
    const want = Object.values(expect).reduce((a, b) => a + b, 0);
    const d0 = performance.now();
    while (received < want && performance.now() - d0 < (m.drainMs ?? 30_000)) await new Promise((r) => setTimeout(r, 20));
    const drainMs = Math.max(0, lastAt - (performance.timeOrigin + d0));
    const cpu = process.cpuUsage(cpu0);
    let roomsShort = 0;
    for (const [room, sent] of Object.entries(expect)) if ((rooms.get(room)?.got ?? 0) < sent) roomsShort++;
    const sorted = lags.slice(0, n).sort();
    const pct = (p: number) => (n ? sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : Number.NaN);
    const mean = (a: number, b: number) => {
      let s = 0;
      for (let i = a; i < b; i++) s += lags[i];
      return b > a ? s / (b - a) : Number.NaN;
    };
    const q = Math.floor(n / 4);
    const report: CentralReport = {
      received,
      duplicates,
      lost: want - received,
      roomsShort,
      lagP50: pct(50),
      lagP99: pct(99),
      lagMax: n ? sorted[n - 1] : Number.NaN,
      lagFirstQuarter: mean(0, q),
      lagLastQuarter: mean(n - q, n),
      drainMs,
      cpuPct: ((cpu.user + cpu.system) / 1000 / (performance.now() - w0)) * 100,
    };
    process.send?.(report);
  });
  process.once('disconnect', () => void c.endAsync().finally(() => process.exit(0)));
}

if (process.env.FLEET_CHILD === 'rooms') await roomsChild();
else if (process.env.FLEET_CHILD === 'central') await centralChild();
