// Fleet load (issue 21): one room's MQTT traffic over an accelerated day
// (fleet-profile.ts: the demo room on its simulators, a real agent, a real
// Mosquitto), then that profile replayed by FLEET_ROOMS simulated rooms — one
// MQTT connection each, in FLEET_WORKERS processes — against a fresh
// Mosquitto, with a central subscriber on `rooms/#` (persistent session,
// QoS 1, as the agent publishes) that checks every room's sequence.
//
// Per room count: broker CPU (from /proc/<pid>/stat) while the rooms publish,
// beside the same connections idle; the central subscriber's lag p50/p99,
// beside one connection publishing the same total rate; losses. Then the fleet
// is stepped up (FLEET_SPEEDUPS: the rate per room multiplied, at the largest
// room count) until the broker saturates one core, the lag grows, or a message
// is lost: the largest step that held is the fleet one broker core carries.
//
// Knobs (defaults): FLEET_ROOMS=100,1000,5000  FLEET_RATE=meeting-hour
// (average | meeting-hour | peak | msgs/s per room)  FLEET_STEP_S=15
// FLEET_IDLE_S=3  FLEET_BASE_S=5  FLEET_WORKERS=2  FLEET_SPEEDUPS=2,4,8,16
// FLEET_DRAIN_S=30, FLEET_CENTRAL_AWAY_S=3 (0: no session check), FLEET_BROKER_INFLIGHT=1000 (Mosquitto max_inflight_messages), FLEET_PROFILE_OUT / FLEET_PROFILE_FILE (save a measured
// profile / replay a saved one without measuring), and the profile's (fleet-profile.ts): FLEET_PROFILE_MEETINGS=2
// FLEET_PROFILE_TURNS=10 FLEET_PROFILE_SLOT_S=45 FLEET_PROFILE_IDLE_S=10 and the
// day model FLEET_DAY_MEETINGS=8 FLEET_DAY_MEETING_MIN=60 FLEET_DAY_PEOPLE=6
// FLEET_DAY_TURNS_PER_H=120 FLEET_DAY_DROPS=2 FLEET_DAY_OUTAGES=1.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLASSES, profileRoom, RETAINED, type RoomProfile, total } from './fleet-profile.js';
import type { CentralReport, MixEntry, RoomsJob } from './fleet-replay-child.js';
import { freePort, mosquittoBin, processCpuMs, procStatus } from './support.js';
import type { BenchResult } from './types.js';

const CHILD = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  `fleet-replay-child${path.extname(fileURLToPath(import.meta.url))}`,
);

function knob(name: string, def: string): string {
  return process.env[name] ?? def;
}
function list(name: string, def: string): number[] {
  const v = knob(name, def)
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(Number);
  if (v.some((x) => !(x > 0)))
    throw new Error(`${name} must be a comma-separated list of positive numbers, got "${process.env[name]}"`);
  return v;
}
function seconds(name: string, def: number): number {
  const v = Number(knob(name, String(def)));
  if (!(v > 0)) throw new Error(`${name} must be a positive number of seconds, got "${process.env[name]}"`);
  return v;
}

/** FLEET_BROKER_INFLIGHT: Mosquitto's max_inflight_messages for the replay broker (default 1000; Mosquitto's own is 20). */
function inflight(): number {
  const v = Number(knob('FLEET_BROKER_INFLIGHT', '1000'));
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`FLEET_BROKER_INFLIGHT must be an integer ≥ 0, got "${process.env.FLEET_BROKER_INFLIGHT}"`);
  return v;
}

interface Broker {
  url: string;
  pid: number;
  cpuMs(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

/** Mosquitto with its file limit raised to the hard limit, no connection cap, and no queue cap for the central session. */
async function startBroker(bin: string, dir: string): Promise<Broker> {
  const port = await freePort();
  const conf = path.join(dir, `mosquitto-${port}.conf`);
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_connections -1',
      // The default (1000) drops QoS 1 messages for a subscriber that falls further behind.
      'max_queued_messages 0',
      // QoS 1 messages the broker sends before their PUBACKs: Mosquitto's default 20
      // holds the central subscriber to 20 per round trip (docs/fleet.md, "Fleet load").
      `max_inflight_messages ${inflight()}`,
      'persistence false',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const p = spawn('sh', ['-c', `ulimit -n "$(ulimit -Hn)" && exec "$0" -c "$1"`, bin, conf], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) break;
    if (i > 200 || p.exitCode !== null) throw new Error(`mosquitto (${bin}) did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = p.pid as number;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    cpuMs: () => processCpuMs(pid),
    rssMb: () => (procStatus(pid)?.('VmRSS') ?? 0) / 1024,
    stop: () =>
      new Promise<void>((r) => {
        if (p.exitCode !== null) return r();
        p.once('exit', () => r());
        p.kill('SIGTERM');
      }),
  };
}

type Msg = Record<string, unknown>;
/** A forked child and a way to wait for its next message that satisfies `ok`. */
function child(role: string): { p: ChildProcess; next(ok: (m: Msg) => boolean, ms: number, what: string): Promise<Msg> } {
  const p = fork(CHILD, [], { env: { ...process.env, FLEET_CHILD: role }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Msg[] = [];
  const waiters: { ok: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void; what: string }[] = [];
  p.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`fleet-load: ${role} child exited (${code}) before ${w.what}`));
  });
  p.on('message', (m: Msg) => {
    const w = waiters.findIndex((x) => x.ok(m));
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m);
    else inbox.push(m);
  });
  return {
    p,
    next(ok, ms, what) {
      const i = inbox.findIndex(ok);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      return new Promise((resolve, reject) => {
        if (p.exitCode !== null) return reject(new Error(`fleet-load: ${role} child exited (${p.exitCode}) before ${what}`));
        const t = setTimeout(() => reject(new Error(`fleet-load: ${what} not within ${ms / 1000} s`)), ms);
        waiters.push({
          ok,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
          reject: (e) => {
            clearTimeout(t);
            reject(e);
          },
          what,
        });
      });
    },
  };
}

interface StepResult {
  rooms: number;
  perRoomRate: number;
  connectS: number;
  /** Broker CPU while the rooms connected and republished their retained topics. */
  brokerConnectPct: number;
  connectFailures: number;
  brokerIdlePct: number;
  brokerPct: number;
  brokerRssMb: number;
  publishersPct: number;
  publishersLateMs: number;
  central: CentralReport;
  saturated: string | null;
}

/** N rooms in W processes: connect, idle, publish for stepS; the central subscriber's view of it. */
async function step(
  broker: Broker,
  central: ReturnType<typeof child>,
  rooms: string[],
  rate: number,
  base: Omit<RoomsJob, 'url' | 'rooms' | 'rate' | 'connectConcurrency'>,
  o: { workers: number; idleS: number; stepS: number; drainS: number; blipS?: number },
): Promise<StepResult> {
  const w = Math.min(o.workers, rooms.length);
  const kids = Array.from({ length: w }, () => child('rooms'));
  try {
    const c0 = performance.now();
    const bCpu0 = broker.cpuMs();
    for (const [i, k] of kids.entries()) {
      const mine = rooms.filter((_, j) => j % w === i);
      k.p.send({ ...base, url: broker.url, rooms: mine, rate, connectConcurrency: 50 } satisfies RoomsJob);
    }
    const connected = await Promise.all(kids.map((k) => k.next((m) => 'connected' in m, 600_000, 'rooms connected')));
    const connectS = (performance.now() - c0) / 1000;
    const brokerConnectPct = ((broker.cpuMs() - bCpu0) / (connectS * 1000)) * 100;
    const i0 = broker.cpuMs();
    await new Promise((r) => setTimeout(r, o.idleS * 1000));
    const brokerIdlePct = ((broker.cpuMs() - i0) / (o.idleS * 1000)) * 100;
    central.p.send({ reset: true });
    await central.next((m) => 'ready' in m, 30_000, 'central reset');
    const at = performance.timeOrigin + performance.now() + 200;
    for (const k of kids) k.p.send({ at });
    await new Promise((r) => setTimeout(r, 200));
    const a0 = broker.cpuMs();
    const t0 = performance.now();
    const blipMs = (o.blipS ?? 0) * 1000;
    if (blipMs > 0) {
      // The central subscriber goes away mid-step and comes back on its persistent session.
      await new Promise((r) => setTimeout(r, (o.stepS * 1000 - blipMs) / 2));
      central.p.send({ blipMs });
      await central.next((m) => 'back' in m, 60_000, 'central back');
    }
    await new Promise((r) => setTimeout(r, Math.max(0, o.stepS * 1000 - (performance.now() - t0))));
    const brokerPct = ((broker.cpuMs() - a0) / (performance.now() - t0)) * 100;
    for (const k of kids) k.p.send({ stop: true });
    const done = await Promise.all(kids.map((k) => k.next((m) => 'sent' in m, 120_000, 'rooms stopped')));
    const expect: Record<string, number> = Object.assign({}, ...done.map((d) => d.sent as Record<string, number>));
    central.p.send({ expect, drainMs: o.drainS * 1000 });
    const report = (await central.next(
      (m) => 'received' in m,
      o.drainS * 1000 + 60_000,
      'central report',
    )) as unknown as CentralReport;
    const publishersPct = done.reduce((a, d) => a + (d.cpuPct as number), 0);
    const publishersLateMs = Math.max(...done.map((d) => d.lateMaxMs as number));
    const growing = report.lagLastQuarter > 2 * report.lagFirstQuarter && report.lagLastQuarter > 250;
    // Publishers more than a second behind their schedule: the harness, not the broker, is the limit.
    const saturated =
      publishersLateMs > 1000
        ? `the publishing processes fell ${(publishersLateMs / 1000).toFixed(1)} s behind (harness limit, not the broker's)`
        : report.lost > 0
          ? `${report.lost} messages lost`
          : brokerPct >= 90
            ? `broker at ${brokerPct.toFixed(0)} % of a core`
            : growing
              ? `lag grows (${report.lagFirstQuarter.toFixed(0)} → ${report.lagLastQuarter.toFixed(0)} ms)`
              : null;
    return {
      rooms: rooms.length,
      perRoomRate: rate,
      connectS,
      brokerConnectPct,
      connectFailures: connected.reduce((a, m) => a + (m.failures as number), 0),
      brokerIdlePct,
      brokerPct,
      brokerRssMb: broker.rssMb(),
      publishersPct,
      publishersLateMs,
      central: report,
      saturated,
    };
  } finally {
    for (const k of kids) if (k.p.exitCode === null) k.p.kill('SIGTERM');
  }
}

function rateOf(profile: RoomProfile): { perRoom: number; label: string } {
  const r = knob('FLEET_RATE', 'meeting-hour');
  if (r === 'average') return { perRoom: profile.rates.average.messages, label: 'day average' };
  if (r === 'meeting-hour') return { perRoom: profile.rates.meetingHour.messages, label: 'meeting-hour' };
  if (r === 'peak') return { perRoom: profile.rates.peak.messages, label: 'busiest minute' };
  const n = Number(r);
  if (!(n > 0)) throw new Error(`FLEET_RATE must be average, meeting-hour, peak or messages/s per room, got "${r}"`);
  return { perRoom: n, label: `${n} msg/s` };
}

const f1 = (v: number) => (Number.isFinite(v) ? (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)) : '—');

function printProfile(p: RoomProfile): void {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const d = p.day;
  out(
    `day model: ${d.meetings} meetings × ${d.meetingMinutes} min, ${d.people} people (${d.joinLeaves} joins+leaves each), ` +
      `${d.turnsPerMeeting} talk turns each, ${d.drops} link drops, ${d.outages} outage (alerted), ${d.calendarPolls} calendar polls; measured on ` +
      `${Object.entries(p.executed)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')} in ${p.wallS.toFixed(0)} s`,
  );
  out(
    '| topic class | retained | messages/day | bytes/day | per meeting | per join+leave | per talk turn | per link drop | per outage | per calendar poll | per connect |',
  );
  out('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of CLASSES) {
    if (!p.perDay[c].messages) continue;
    const u = p.perUnit;
    out(
      `| ${c} | ${RETAINED.has(c) ? 'yes' : 'no'} | ${f1(p.perDay[c].messages)} | ${f1(p.perDay[c].bytes)} | ${f1(u.meeting[c].messages)} | ${f1(u.join_leave[c].messages)} | ${f1(u.turn[c].messages)} | ${f1(u.drop[c].messages)} | ${f1(u.outage[c].messages)} | ${f1(u.poll[c].messages)} | ${f1(u.start[c].messages)} |`,
    );
  }
  const t = total(p.perDay);
  out(`| all | | ${f1(t.messages)} | ${f1(t.bytes)} | | | | | | | |`);
  out(
    `background per minute: idle ${f1(total(p.idlePerMin).messages)} msgs, in a meeting ${f1(total(p.meetingIdlePerMin).messages)} msgs; ` +
      `retained: ${p.retained.topics} topics, ${f1(p.retained.bytes)} B; room events in the run ${p.roomEvents}, MQTT messages ${p.totalMessages}`,
  );
  out(
    `rates per room: day average ${p.rates.average.messages.toFixed(3)} msg/s (${f1(p.rates.average.bytes)} B/s), meeting hour ` +
      `${p.rates.meetingHour.messages.toFixed(3)} msg/s (${f1(p.rates.meetingHour.bytes)} B/s), busiest minute ${p.rates.peak.messages.toFixed(2)} msg/s (${f1(p.rates.peak.bytes)} B/s)`,
  );
}

export async function run(): Promise<BenchResult[]> {
  const bin = mosquittoBin();
  if (!bin) throw new Error('fleet-load needs Mosquitto: apt-get install mosquitto (or set MOSQUITTO_BIN)');
  const roomCounts = list('FLEET_ROOMS', '100,1000,5000');
  const speedups = list('FLEET_SPEEDUPS', '2,4,8,16');
  const workers = list('FLEET_WORKERS', '2')[0];
  const o = {
    workers,
    idleS: seconds('FLEET_IDLE_S', 3),
    stepS: seconds('FLEET_STEP_S', 15),
    drainS: seconds('FLEET_DRAIN_S', 30),
  };
  const baseS = seconds('FLEET_BASE_S', 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fleet-'));
  const loadAt = () => os.loadavg()[0].toFixed(1);
  try {
    // FLEET_PROFILE_FILE: replay a profile saved by an earlier run (FLEET_PROFILE_OUT) instead of measuring one.
    let profile: RoomProfile;
    if (process.env.FLEET_PROFILE_FILE) {
      profile = JSON.parse(fs.readFileSync(process.env.FLEET_PROFILE_FILE, 'utf8')) as RoomProfile;
    } else {
      const pb = await startBroker(bin, dir);
      try {
        profile = await profileRoom(pb.url);
      } finally {
        await pb.stop();
      }
    }
    if (process.env.FLEET_PROFILE_OUT) fs.writeFileSync(process.env.FLEET_PROFILE_OUT, JSON.stringify(profile, null, 1));
    printProfile(profile);
    const { perRoom, label } = rateOf(profile);
    const mix: MixEntry[] = CLASSES.filter((c) => profile.perDay[c].messages > 0).map((c) => {
      const t = profile.perDay[c];
      return {
        cls: c,
        weight: t.messages,
        payloadBytes: Math.round((t.bytes - t.topicBytes) / t.messages),
        retained: RETAINED.has(c),
      };
    });
    const base = {
      mix,
      retainedTopics: profile.retained.topics,
      retainedPayloadBytes: Math.round(profile.retained.bytes / Math.max(1, profile.retained.topics)),
    };
    const broker = await startBroker(bin, dir);
    const central = child('central');
    try {
      central.p.send({ url: broker.url });
      await central.next((m) => 'subscribed' in m, 60_000, 'central subscribed');
      const steps: StepResult[] = [];
      const baselines: StepResult[] = [];
      let away: StepResult | null = null;
      const run1 = async (n: number, speedup: number) => {
        const rooms = Array.from({ length: n }, (_, i) => `fleet-${n}x${speedup}-${i}`);
        process.stdout.write(`step: ${n} rooms × ${speedup} (${f1(n * perRoom * speedup)} msg/s), load ${loadAt()}\n`);
        const s = await step(broker, central, rooms, perRoom * speedup, base, o);
        // Baseline: one connection publishing the same total rate.
        const b = await step(broker, central, [`fleet-base-${n}x${speedup}`], n * perRoom * speedup, base, {
          ...o,
          idleS: 0.5,
          stepS: baseS,
        });
        steps.push(s);
        baselines.push(b);
        process.stdout.write(
          `  connect ${s.connectS.toFixed(1)} s (broker ${s.brokerConnectPct.toFixed(0)} %, ${s.connectFailures} errors); broker ${s.brokerPct.toFixed(1)} % (idle ${s.brokerIdlePct.toFixed(1)} %, one connection ${b.brokerPct.toFixed(1)} %), RSS ${s.brokerRssMb.toFixed(0)} MB; ` +
            `lag p50 ${f1(s.central.lagP50)} / p99 ${f1(s.central.lagP99)} ms (one connection ${f1(b.central.lagP50)} / ${f1(b.central.lagP99)}); ` +
            `received ${s.central.received}, lost ${s.central.lost}, dup ${s.central.duplicates}; publishers ${s.publishersPct.toFixed(0)} % CPU (late ≤ ${f1(s.publishersLateMs)} ms), central ${s.central.cpuPct.toFixed(0)} %` +
            `${s.saturated ? `; SATURATED: ${s.saturated}` : ''}\n`,
        );
        return s;
      };
      for (const n of roomCounts) await run1(n, 1);
      // The persistent session: the central subscriber away for FLEET_CENTRAL_AWAY_S in the
      // middle of a step at the first room count; everything sent meanwhile must still come.
      const awayS = Number(knob('FLEET_CENTRAL_AWAY_S', '3'));
      if (awayS > 0) {
        const n = roomCounts[Math.min(1, roomCounts.length - 1)];
        process.stdout.write(`session check: ${n} rooms, the central subscriber away for ${awayS} s, load ${loadAt()}\n`);
        const rooms = Array.from({ length: n }, (_, i) => `fleet-away-${i}`);
        away = await step(broker, central, rooms, perRoom, base, { ...o, stepS: Math.max(o.stepS, awayS * 3), blipS: awayS });
        process.stdout.write(
          `  received ${away.central.received}, lost ${away.central.lost} (${away.central.roomsShort} rooms short), dup ${away.central.duplicates}; lag max ${f1(away.central.lagMax)} ms, drained ${f1(away.central.drainMs)} ms after the rooms stopped\n`,
        );
      }
      const top = roomCounts[roomCounts.length - 1];
      if (!steps[steps.length - 1].saturated) {
        for (const k of speedups) if ((await run1(top, k)).saturated) break;
      }
      return results(profile, label, perRoom, steps, baselines, away);
    } finally {
      central.p.disconnect();
      if (central.p.exitCode === null) central.p.kill('SIGTERM');
      await broker.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function results(
  profile: RoomProfile,
  label: string,
  perRoom: number,
  steps: StepResult[],
  baselines: StepResult[],
  away: StepResult | null,
): BenchResult[] {
  const out: BenchResult[] = [];
  const day = total(profile.perDay);
  out.push(
    {
      name: 'one room: MQTT messages per day (demo room, day model in the log)',
      value: day.messages,
      unit: 'msgs',
      baseline: { name: 'room events per day (topic events)', value: profile.perDay.events.messages },
    },
    { name: 'one room: MQTT bytes per day (topic + payload)', value: day.bytes, unit: 'B' },
    { name: 'one room: retained on the broker', value: profile.retained.bytes, unit: `B in ${profile.retained.topics} topics` },
    {
      name: 'one room: busiest minute',
      value: profile.rates.peak.messages,
      unit: 'msg/s',
      baseline: { name: 'meeting-hour average', value: profile.rates.meetingHour.messages },
    },
  );
  const f = (v: number) => Number(v.toFixed(v < 10 ? 2 : 0));
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const b = baselines[i];
    const k = s.perRoomRate / perRoom;
    const tag = `${s.rooms.toLocaleString('en-US')} rooms${k === 1 ? '' : ` × ${k}`} at ${label} (${f(s.rooms * s.perRoomRate)} msg/s)`;
    out.push(
      {
        name: `broker CPU, ${tag}`,
        value: f(s.brokerPct),
        unit: '% of a core',
        baseline: { name: 'same connections idle', value: f(s.brokerIdlePct) },
      },
      { name: `broker CPU, one connection at the same total rate`, value: f(b.brokerPct), unit: '% of a core' },
      {
        name: `central lag p50, ${tag}`,
        value: f(s.central.lagP50),
        unit: 'ms',
        baseline: { name: 'one connection, same rate', value: f(b.central.lagP50) },
      },
      {
        name: `central lag p99, ${tag}`,
        value: f(s.central.lagP99),
        unit: 'ms',
        baseline: { name: 'one connection, same rate', value: f(b.central.lagP99) },
      },
      { name: `messages lost, ${tag}`, value: s.central.lost, unit: `of ${s.central.received + s.central.lost}`, goal: '0' },
      { name: `connect + retained republish, ${tag}`, value: f(s.connectS), unit: 's' },
    );
  }
  if (away) {
    out.push({
      name: `messages lost with the central subscriber away ${knob('FLEET_CENTRAL_AWAY_S', '3')} s mid-step (persistent session), ${away.rooms.toLocaleString('en-US')} rooms`,
      value: away.central.lost,
      unit: `of ${away.central.received + away.central.lost}`,
      baseline: { name: 'duplicates delivered', value: away.central.duplicates },
      goal: '0',
    });
  }
  const held = steps.filter((s) => !s.saturated);
  const best = held.reduce((a, s) => (s.rooms * s.perRoomRate > a.rooms * a.perRoomRate ? s : a), held[0] ?? steps[0]);
  const limit = steps.find((s) => s.saturated);
  // Rooms at the chosen rate that the largest step that held equals.
  const carried = held.length ? (best.rooms * best.perRoomRate) / perRoom : 0;
  const perCore =
    held.length && best.brokerPct > 0 ? (best.rooms * best.perRoomRate * 100) / best.brokerPct / perRoom : Number.NaN;
  out.push({
    name: `largest fleet carried (${label} rate; ${limit ? `next step: ${limit.saturated}` : 'no step saturated up to the last of FLEET_SPEEDUPS'})`,
    value: Math.round(carried),
    unit: 'rooms',
    baseline: { name: 'linear extrapolation of that step to 100 % of one broker core', value: Math.round(perCore) },
  });
  return out;
}
