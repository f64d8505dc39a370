// One room's MQTT traffic over an accelerated day, for scripts/bench/fleet-load.ts.
//
// The shipped demo room (api.toml: cameras, matrix, mixer, audio DSP,
// delegate mics and recorder on their simulators) runs in this process with
// [mqtt] on a real Mosquitto. Changed for the bench: the ceiling microphone is
// a Shure simulator the bench holds (so it can talk, drop and vanish), the
// calendar is an .ics file the bench books each meeting in (and ends it) when
// it is ready, refreshing the calendar device, scenario
// automation is off (the bench runs meeting-start / meeting-end when the
// calendar says so, as the triggers would), and the director's timings and
// the device_offline debounce are divided by 10 so a talk turn or an outage
// takes under a second. Every other timing is the shipped one.
//
// A capture subscriber on `rooms/#` counts every message by topic class and
// by the phase the driver was in. A phase's cost per unit is its messages
// minus the in-meeting background rate over its duration, divided by its
// units; a day is the day model's count of each unit times that cost, plus
// the background rates over the day's meeting and idle minutes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { parse, stringify } from 'smol-toml';
import { startShureSimulator, type ShureSimulator } from '../../drivers/shure-mic/index.js';
import { Agent } from '../../src/app.js';
import { ROOT } from './support.js';

export const CLASSES = ['status', 'state', 'devices', 'meetings', 'deltas', 'events', 'alerts', 'other'] as const;
export type TopicClass = (typeof CLASSES)[number];
/** Retained classes: the broker keeps the last message of each topic. */
export const RETAINED: ReadonlySet<TopicClass> = new Set(['status', 'state', 'devices', 'meetings']);
/** Per class: messages, bytes (topic + payload) and of those the topic's bytes. */
export type Traffic = Record<TopicClass, { messages: number; bytes: number; topicBytes: number }>;

const UNITS = ['start', 'meeting', 'join_leave', 'turn', 'drop', 'outage', 'poll'] as const;
type Unit = (typeof UNITS)[number];

/** What a room does in a day (knobs: FLEET_DAY_*). */
export interface DayModel {
  meetings: number;
  meetingMinutes: number;
  people: number;
  /** Joins and leaves per meeting: every participant once, a third of them twice. */
  joinLeaves: number;
  turnsPerMeeting: number;
  drops: number;
  outages: number;
  /** Calendar reads a day: the ics source polls every poll_interval_s (300 s) and republishes its snapshot. */
  calendarPolls: number;
}

export interface RoomProfile {
  day: DayModel;
  /** Traffic of one unit of each activity (bytes = topic + payload). */
  perUnit: Record<Unit, Traffic>;
  executed: Record<Unit, number>;
  /** Background per minute, outside and inside a meeting (recording). */
  idlePerMin: Traffic;
  meetingIdlePerMin: Traffic;
  perDay: Traffic;
  /** The busiest minute of the day model: a meeting's start and end, everyone joining and leaving, four talkers. */
  busiestMinute: { messages: number; bytes: number };
  /** Per second: over the day, over a meeting hour, in the busiest minute. */
  rates: Record<'average' | 'meetingHour' | 'peak', { messages: number; bytes: number }>;
  retained: { topics: number; bytes: number };
  /** Room events the agent wrote in the run (the outbox's seq), beside the MQTT messages. */
  roomEvents: number;
  totalMessages: number;
  wallS: number;
}

const ROOM = 'fleet-room';
const INGEST = 'fleet-bench-ingest-token-0123456789';
const OPERATOR = 'fleet-bench-operator-token-0123456789';
const QUIET_MS = 400;
/**
 * Quiet before a background window: longer than a camera's probe interval
 * (visca poll_interval_ms, 5 s), whose first reading after a move publishes
 * the new position; it belongs to the move, not to the background.
 */
const SETTLE_MS = 6000;

function num(name: string, def: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? def : Number(raw);
  if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${name} must be a number ≥ 0, got "${raw}"`);
  return v;
}

export function dayModel(): DayModel {
  const people = num('FLEET_DAY_PEOPLE', 6);
  const meetingMinutes = num('FLEET_DAY_MEETING_MIN', 60);
  return {
    meetings: num('FLEET_DAY_MEETINGS', 8),
    meetingMinutes,
    people,
    joinLeaves: people + Math.round(people / 3),
    turnsPerMeeting: Math.round((num('FLEET_DAY_TURNS_PER_H', 120) * meetingMinutes) / 60),
    drops: num('FLEET_DAY_DROPS', 2),
    outages: num('FLEET_DAY_OUTAGES', 1),
    calendarPolls: 86_400 / 300,
  };
}

export function emptyTraffic(): Traffic {
  return Object.fromEntries(CLASSES.map((c) => [c, { messages: 0, bytes: 0, topicBytes: 0 }])) as Traffic;
}

export function topicClass(topic: string): TopicClass {
  const rest = topic.split('/').slice(2);
  if (rest[0] === 'meetings') return rest[2] === 'deltas' ? 'deltas' : 'meetings';
  if ((CLASSES as readonly string[]).includes(rest[0] ?? '')) return rest[0] as TopicClass;
  return 'other';
}

export function total(t: Traffic): { messages: number; bytes: number } {
  return CLASSES.reduce((a, c) => ({ messages: a.messages + t[c].messages, bytes: a.bytes + t[c].bytes }), {
    messages: 0,
    bytes: 0,
  });
}

function scaled(t: Traffic, k: number, into: Traffic = emptyTraffic()): Traffic {
  for (const c of CLASSES) {
    into[c].messages += t[c].messages * k;
    into[c].bytes += t[c].bytes * k;
    into[c].topicBytes += t[c].topicBytes * k;
  }
  return into;
}

/** The room's calendar as an iCalendar file: the bench adds each meeting when it is due and ends it when done. */
function icsText(meetings: { k: number; start: number; end: number }[]): string {
  const fmt = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
  const events = meetings.map((m) =>
    [
      'BEGIN:VEVENT',
      `UID:fleet-bench-${m.k}`,
      `DTSTAMP:${fmt(m.start)}`,
      `DTSTART:${fmt(m.start)}`,
      `DTEND:${fmt(m.end)}`,
      `SUMMARY:Fleet bench meeting ${m.k}`,
      'END:VEVENT',
    ].join('\r\n'),
  );
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//room-agent//fleet-bench//EN', ...events, 'END:VCALENDAR', ''].join('\r\n');
}

/** The shipped demo config with the bench's changes (see the head of this file). */
function benchConfig(dir: string, mqttUrl: string, shurePort: number, icsFile: string): string {
  const cfg = parse(fs.readFileSync(path.join(ROOT, 'api.toml'), 'utf8')) as Record<string, Record<string, unknown>>;
  Object.assign(cfg.agent, { room_id: ROOM, listen: '127.0.0.1:0', data_dir: path.join(dir, 'data'), log_level: 'warn' });
  (cfg.agent.tokens as unknown[]).push(
    { name: 'fleet-ingest', token: INGEST, role: 'ingest' },
    { name: 'fleet-operator', token: OPERATOR, role: 'operator' },
  );
  const devices = cfg.devices as Record<string, Record<string, unknown>>;
  delete devices.tcs;
  devices.outlook = { driver: 'ics', name: 'Room calendar (bench day)', simulated: false, url: icsFile };
  cfg.calendar.sources = ['outlook'];
  devices.mxa = { ...devices.mxa, simulated: false, host: '127.0.0.1', port: shurePort, reconnect_max_ms: 500 };
  const d = cfg.director;
  for (const k of ['trigger_s', 'gap_s', 'min_dwell_s', 'silence_s']) d[k] = (d[k] as number) / 10;
  cfg.scenarios.automation = false;
  // [mqtt] state_coalesce_ms is not divided: the changes it coalesces (one
  // talk turn's decision, camera move and matrix cut) keep their real pace.
  cfg.mqtt = { url: mqttUrl, protocol_version: 5, state_coalesce_ms: STATE_COALESCE_MS };
  cfg.alerts = { device_offline_after_s: 2 };
  return stringify(cfg);
}

interface Capture {
  phase: string;
  byPhase: Map<string, Traffic>;
  lastAt: number;
  messages: { topic: string; payload: Buffer; phase: string }[];
  client: mqtt.MqttClient;
}

async function capture(url: string): Promise<Capture> {
  const client = await mqtt.connectAsync(url, { clientId: 'fleet-profile-capture', protocolVersion: 5, reconnectPeriod: 0 });
  const cap: Capture = { phase: 'start', byPhase: new Map(), lastAt: performance.now(), messages: [], client };
  client.on('message', (topic, payload) => {
    let t = cap.byPhase.get(cap.phase);
    if (!t) cap.byPhase.set(cap.phase, (t = emptyTraffic()));
    const c = t[topicClass(topic)];
    c.messages++;
    c.bytes += Buffer.byteLength(topic) + payload.length;
    c.topicBytes += Buffer.byteLength(topic);
    cap.lastAt = performance.now();
    cap.messages.push({ topic, payload, phase: cap.phase });
  });
  await client.subscribeAsync(`rooms/${ROOM}/#`, { qos: 1 });
  return cap;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `[mqtt] state_coalesce_ms` of the room (FLEET_STATE_COALESCE_MS; 0 = the
 * room before coalescing, every change published).
 */
const STATE_COALESCE_MS = num('FLEET_STATE_COALESCE_MS', 1000);
/** FLEET_QUIET_MS: the quiet wait (to compare runs with different coalescing at the same pace). */
const QUIET_AFTER_MS = num('FLEET_QUIET_MS', Math.max(QUIET_MS, STATE_COALESCE_MS + 200));

/**
 * Waits until no message came for QUIET_MS, and at least for one coalescing
 * interval, so a state held back by it counts for the phase that caused it
 * (at most maxMs).
 */
async function quiet(cap: Capture, quietMs = QUIET_AFTER_MS, maxMs = 10_000): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - cap.lastAt < quietMs && performance.now() - t0 < maxMs) await sleep(50);
}

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const t0 = performance.now();
  while (!ok()) {
    if (performance.now() - t0 > ms) throw new Error(`fleet profile: ${what} not within ${ms} ms`);
    await sleep(50);
  }
}

/** Runs the accelerated day and returns the room's profile. */
export async function profileRoom(mqttUrl: string): Promise<RoomProfile> {
  const day = dayModel();
  const meetings = num('FLEET_PROFILE_MEETINGS', 2);
  const turns = num('FLEET_PROFILE_TURNS', 10);
  const idleS = num('FLEET_PROFILE_IDLE_S', 20);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-fleet-profile-'));
  let shure: ShureSimulator = await startShureSimulator({ channels: 8 });
  const shurePort = shure.port;
  const icsFile = path.join(dir, 'day.ics');
  const cfgFile = path.join(dir, 'api.toml');
  const cap = await capture(mqttUrl);
  const spans = new Map<string, number>(); // phase → ms spent
  const executed = Object.fromEntries(UNITS.map((u) => [u, 0])) as Record<Unit, number>;
  const timed = async (phase: string, fn: () => Promise<void>, quietMs = QUIET_MS) => {
    cap.phase = phase;
    const t0 = performance.now();
    await fn();
    await quiet(cap, quietMs);
    spans.set(phase, (spans.get(phase) ?? 0) + performance.now() - t0);
  };
  let agent: Agent | null = null;
  const wall0 = performance.now();
  try {
    // An empty calendar: each meeting is booked (the file rewritten and the
    // calendar refreshed) when the bench is ready for it, and ended the same way.
    const booked: { k: number; start: number; end: number }[] = [];
    fs.writeFileSync(icsFile, icsText(booked));
    fs.writeFileSync(cfgFile, benchConfig(dir, mqttUrl, shurePort, icsFile));
    agent = new Agent({ configFile: cfgFile, logger: pino({ level: 'silent' }) });
    const a = agent;
    let url = '';
    await timed(
      'start',
      async () => {
        url = await a.start();
        await until('the room online', () => a.devices.list().every((d) => d.status.status !== 'connecting'), 30_000);
        await until(
          'the room on MQTT',
          () => cap.messages.some((m) => m.topic.endsWith('/status') && m.payload.includes('"online"')),
          30_000,
        );
      },
      SETTLE_MS,
    ); // the director's first decisions and the devices' first reports belong to the start
    executed.start = 1;
    await timed('idle', () => sleep(idleS * 1000));
    const post = async (ev: Record<string, unknown>) => {
      const r = await fetch(`${url}/hooks/conference`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST}` },
        body: JSON.stringify(ev),
      });
      if (r.status !== 200) throw new Error(`fleet profile: hook answered ${r.status}: ${await r.text()}`);
    };
    const call = async (method: string, params: Record<string, unknown>): Promise<string> => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${OPERATOR}`);
      await new Promise((r, j) => {
        ws.onopen = r;
        ws.onerror = j;
      });
      const answer = new Promise<string>((r) => {
        ws.onmessage = (m) => r(String(m.data));
      });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
      const reply = await Promise.race([answer, sleep(15_000).then(() => 'no answer in 15 s')]);
      ws.close();
      if (!reply.includes('"result"')) throw new Error(`fleet profile: ${method}: ${reply}`);
      return reply;
    };
    const refreshCalendar = async () => {
      fs.writeFileSync(icsFile, icsText(booked));
      await call('device.action', { device: 'outlook', action: 'refresh', params: {} });
    };
    const scenario = async (name: string) => {
      const reply = await call('scenarios.run', { name });
      const runId = /"run_id":"([^"]+)"/.exec(reply)?.[1];
      if (!runId) throw new Error(`fleet profile: scenarios.run ${name}: ${reply}`);
      // Its steps (camera moves, the recorder) take longer than a quiet spell: wait for its end.
      await until(
        `scenario ${name} to end`,
        () =>
          cap.messages.some(
            (m) => m.topic.endsWith('/events') && m.payload.includes('"scenario.end"') && m.payload.includes(runId),
          ),
        30_000,
      );
    };
    const calendar = (type: string, k: number) =>
      cap.messages.some(
        (m) => m.topic.endsWith('/events') && m.payload.includes(`"type":"${type}"`) && m.payload.includes(`fleet-bench-${k}`),
      );
    for (let k = 0; k < meetings; k++) {
      const conf = `fleet-conf-${k}`;
      await timed(
        'meeting',
        async () => {
          booked.push({ k, start: Date.now() + 2000, end: Date.now() + 3_600_000 });
          await refreshCalendar();
          await until(`meeting.start of meeting ${k}`, () => calendar('meeting.start', k), 30_000);
          await scenario('meeting-start');
          await post({ event: 'conf.create.succ', id: conf, begin_time: Date.now(), user_data: `{"meeting":"M-${k}"}` });
        },
        SETTLE_MS,
      ); // the cameras' last reports after their moves belong to the meeting's start
      if (k === 0) {
        // The room in a meeting with nothing happening: the recorder's and everyone's background.
        await timed('meeting_idle', () => sleep(idleS * 1000));
      }
      const open: { who: number; call: string; join: number }[] = [];
      await timed('join_leave', async () => {
        for (let p = 0; p < day.joinLeaves && executed.join_leave < 10_000; p++) {
          const who = p % day.people;
          const call = `c${k}-${p}`;
          const join = Date.now();
          const common = { id: conf, part_uri: `sip:p${who}@example.com`, user_data: `{"person":"person-${who}"}` };
          if (p >= day.people) {
            // A rejoin: the earlier call of this person ends first.
            const o = open.splice(
              open.findIndex((x) => x.who === who),
              1,
            )[0];
            await post({ event: 'conf.quit', call_id: o.call, join_time: o.join, quit_time: Date.now(), ...common });
            await quiet(cap);
          }
          await post({ event: 'conf.joined', call_id: call, join_time: join, ...common });
          open.push({ who, call, join });
          await quiet(cap);
        }
      });
      await timed('turn', async () => {
        for (let i = 0; i < turns; i++) {
          const lobe = 1 + (i % 2);
          shure.setGate(lobe, true);
          await sleep(700); // over trigger_s and min_dwell_s (divided by 10)
          shure.setGate(lobe, false);
          await quiet(cap);
        }
      });
      executed.turn += turns;
      await timed('join_leave', async () => {
        for (const o of open.splice(0)) {
          await post({
            event: 'conf.quit',
            call_id: o.call,
            join_time: o.join,
            quit_time: Date.now(),
            id: conf,
            part_uri: `sip:p${o.who}@example.com`,
            user_data: `{"person":"person-${o.who}"}`,
          });
          await quiet(cap);
        }
      });
      executed.join_leave += day.joinLeaves;
      await timed('meeting', async () => {
        await post({ event: 'conf.end', id: conf, begin_time: Date.now() - 1000, end_time: Date.now() });
        booked[k].end = Date.now() + 1000;
        await refreshCalendar();
        await until(`meeting.end of meeting ${k}`, () => calendar('meeting.end', k), 30_000);
        await scenario('meeting-end');
      });
      executed.meeting++;
    }
    const mxaOnline = () => a.devices.get('mxa')?.status.status === 'online';
    for (let i = 0; i < 2; i++) {
      await timed('drop', async () => {
        shure.dropClients();
        await sleep(200);
        await until('mxa back after a drop', mxaOnline, 30_000);
      });
      executed.drop++;
    }
    await timed('outage', async () => {
      await shure.stop();
      await sleep(3500); // over the (divided) 2 s debounce: device_offline is raised
      shure = await startShureSimulator({ channels: 8, port: shurePort });
      await until('mxa back after an outage', mxaOnline, 30_000);
    });
    executed.outage++;
    for (let i = 0; i < 2; i++) {
      await timed('poll', refreshCalendar);
      executed.poll++;
    }
    if (process.env.FLEET_PROFILE_DEBUG) debugDump(cap);
    return summarise(day, cap, spans, executed, idleS, await retainedNow(mqttUrl), performance.now() - wall0, eventsSeq(cap));
  } finally {
    await cap.client.endAsync().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    await shure.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The highest `seq` on `events`: how many room events the run wrote. */
function eventsSeq(cap: Capture): number {
  let max = 0;
  for (const m of cap.messages)
    if (m.topic.endsWith('/events')) max = Math.max(max, (JSON.parse(m.payload.toString()) as { seq: number }).seq);
  return max;
}

/** What the broker holds retained for the room: a fresh subscriber's retained deliveries. */
async function retainedNow(url: string): Promise<{ topics: number; bytes: number }> {
  const c = await mqtt.connectAsync(url, { clientId: 'fleet-profile-retained', protocolVersion: 5, reconnectPeriod: 0 });
  const got = new Map<string, number>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) got.set(topic, Buffer.byteLength(topic) + payload.length);
  });
  await c.subscribeAsync(`rooms/${ROOM}/#`, { qos: 1 });
  await sleep(1000);
  await c.endAsync();
  return { topics: got.size, bytes: [...got.values()].reduce((a, b) => a + b, 0) };
}

function summarise(
  day: DayModel,
  cap: Capture,
  spans: Map<string, number>,
  executed: Record<Unit, number>,
  idleS: number,
  retained: { topics: number; bytes: number },
  wallMs: number,
  roomEvents: number,
): RoomProfile {
  const phase = (p: string) => cap.byPhase.get(p) ?? emptyTraffic();
  const idlePerMin = scaled(phase('idle'), 60 / idleS);
  const meetingIdlePerMin = scaled(phase('meeting_idle'), 60 / idleS);
  const perUnit = {} as Record<Unit, Traffic>;
  for (const u of UNITS) {
    // The in-meeting background over the phase's time is not the unit's.
    const background = u === 'start' ? emptyTraffic() : scaled(meetingIdlePerMin, -(spans.get(u) ?? 0) / 60_000);
    const t = scaled(phase(u), 1, background);
    for (const c of CLASSES) {
      t[c].messages = Math.max(0, t[c].messages) / Math.max(1, executed[u]);
      t[c].bytes = Math.max(0, t[c].bytes) / Math.max(1, executed[u]);
      t[c].topicBytes = Math.max(0, t[c].topicBytes) / Math.max(1, executed[u]);
    }
    perUnit[u] = t;
  }
  // The bench books and ends each meeting by a calendar refresh (an action the
  // room would not see): not the meeting's. A timed poll has no action event.
  const pollRaw = perUnit.poll;
  for (const c of CLASSES) {
    perUnit.meeting[c].messages = Math.max(0, perUnit.meeting[c].messages - 2 * pollRaw[c].messages);
    perUnit.meeting[c].bytes = Math.max(0, perUnit.meeting[c].bytes - 2 * pollRaw[c].bytes);
    perUnit.meeting[c].topicBytes = Math.max(0, perUnit.meeting[c].topicBytes - 2 * pollRaw[c].topicBytes);
  }
  perUnit.poll = { ...pollRaw, events: { messages: 0, bytes: 0, topicBytes: 0 } };
  const meetingMin = day.meetings * day.meetingMinutes;
  const perDay = scaled(perUnit.start, 1);
  scaled(perUnit.meeting, day.meetings, perDay);
  scaled(perUnit.join_leave, day.meetings * day.joinLeaves, perDay);
  scaled(perUnit.turn, day.meetings * day.turnsPerMeeting, perDay);
  scaled(perUnit.drop, day.drops, perDay);
  scaled(perUnit.outage, day.outages, perDay);
  scaled(perUnit.poll, day.calendarPolls, perDay);
  scaled(meetingIdlePerMin, meetingMin, perDay);
  scaled(idlePerMin, Math.max(0, 1440 - meetingMin), perDay);
  // A meeting hour on average, and its busiest minute: the start and end of the
  // meeting, everyone joining and leaving, and a new talker every 15 s.
  const hour = scaled(perUnit.meeting, 1);
  scaled(perUnit.join_leave, day.joinLeaves, hour);
  scaled(perUnit.turn, day.turnsPerMeeting, hour);
  scaled(meetingIdlePerMin, day.meetingMinutes, hour);
  const busy = scaled(perUnit.meeting, 1);
  scaled(perUnit.join_leave, day.joinLeaves, busy);
  scaled(perUnit.turn, 4, busy);
  scaled(meetingIdlePerMin, 1, busy);
  const perS = (t: { messages: number; bytes: number }, s: number) => ({ messages: t.messages / s, bytes: t.bytes / s });
  return {
    day,
    perUnit,
    executed,
    idlePerMin,
    meetingIdlePerMin,
    perDay,
    busiestMinute: total(busy),
    rates: {
      average: perS(total(perDay), 86_400),
      meetingHour: perS(total(hour), Math.max(1, day.meetingMinutes) * 60),
      peak: perS(total(busy), 60),
    },
    retained,
    roomEvents,
    totalMessages: cap.messages.length,
    wallS: wallMs / 1000,
  };
}

/** FLEET_PROFILE_DEBUG=1: what each phase published, by event type and device. */
function debugDump(cap: Capture): void {
  const by = new Map<string, number>();
  for (const m of cap.messages) {
    const cls = topicClass(m.topic);
    let key = `${m.phase} ${cls}`;
    if (cls === 'events') key += ` ${(JSON.parse(m.payload.toString()) as { type: string }).type}`;
    if (cls === 'devices') key += ` ${m.topic.split('/').pop()}`;
    if (cls === 'alerts') key += ` ${(JSON.parse(m.payload.toString()) as { kind: string }).kind}`;
    by.set(key, (by.get(key) ?? 0) + 1);
  }
  for (const [k, n] of [...by].sort()) process.stdout.write(`  ${k}: ${n}\n`);
  for (const m of cap.messages)
    if (m.phase.includes('idle')) process.stdout.write(`  ${m.phase} ${m.topic} ${m.payload.toString().slice(0, 400)}\n`);
}
