import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/scenarios/schema.js';
import { RunStore } from '../../src/scenarios/store.js';
import { type TriggerMeeting, Triggers } from '../../src/scenarios/triggers.js';
import { Bus, RoomEvents } from '../../src/state/bus.js';
import { Store } from '../../src/store/db.js';
import { FakeClock } from '../../src/util/clock.js';

const T0 = Date.UTC(2026, 10, 23, 8, 0); // Monday 2026-11-23 08:00 UTC
const MIN = 60_000;

const scenarios: Scenario[] = [
  {
    name: 'prep',
    mode: 'single',
    max_runs: 1,
    file: '',
    triggers: [{ type: 'calendar', event: 'before', minutes: 10 }],
    steps: [{ wait_ms: 1 }],
  },
  {
    name: 'start',
    mode: 'single',
    max_runs: 1,
    file: '',
    triggers: [{ type: 'calendar', event: 'start' }],
    steps: [{ wait_ms: 1 }],
  },
  { name: 'end', mode: 'single', max_runs: 1, file: '', triggers: [{ type: 'calendar', event: 'end' }], steps: [{ wait_ms: 1 }] },
  {
    name: 'morning',
    mode: 'single',
    max_runs: 1,
    file: '',
    triggers: [{ type: 'time', at: '09:00', days: ['mon', 'tue'] }],
    steps: [{ wait_ms: 1 }],
  },
  {
    name: 'seat4',
    mode: 'single',
    max_runs: 1,
    file: '',
    triggers: [{ type: 'mic', device: 'mics', channel: 4 }],
    steps: [{ wait_ms: 1 }],
  },
  {
    name: 'cam-back',
    mode: 'single',
    max_runs: 1,
    file: '',
    triggers: [{ type: 'state', when: { device: 'cam-1', key: 'status', equals: 'online' } }],
    steps: [{ wait_ms: 1 }],
  },
];

function setup(dbFile: string, clock: FakeClock, meetings: TriggerMeeting[]) {
  const store = new Store(dbFile);
  new RunStore(store, 100); // creates the tables
  const fired: { name: string; kind: string; detail?: string }[] = [];
  const bus = new Bus();
  const events = new RoomEvents();
  const state: Record<string, string> = { 'cam-1': 'offline' };
  let enabled = true;
  const triggers = new Triggers({
    clock,
    logger: pino({ level: 'silent' }),
    db: store.db,
    bus,
    events,
    timezone: 'UTC',
    catchUpMinutes: 15,
    scenarios: () => new Map(scenarios.map((s) => [s.name, s])),
    holds: (c) => state[c.device] === c.equals,
    enabled: () => enabled,
    fire: (name, t) => fired.push({ name, ...t }),
    calendar: () => ({ meetings: () => meetings }),
  });
  return {
    triggers,
    fired,
    bus,
    events,
    state,
    store,
    pause: (v: boolean) => {
      enabled = !v;
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));
async function advance(clock: FakeClock, ms: number, step = MIN) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

const meeting: TriggerMeeting = {
  id: 'm1',
  title: 'Board',
  start: new Date(T0 + 60 * MIN).toISOString(),
  end: new Date(T0 + 120 * MIN).toISOString(),
};

describe('calendar triggers', () => {
  it('fire before, at start and at end, once each', async () => {
    const clock = new FakeClock(T0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const r = setup(path.join(dir, 'db'), clock, [meeting]);
    r.triggers.start();
    await flush();
    await advance(clock, 49 * MIN);
    expect(r.fired.filter((f) => f.kind === 'calendar')).toEqual([]);
    await advance(clock, 2 * MIN);
    expect(r.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['prep']);
    await advance(clock, 10 * MIN);
    expect(r.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['prep', 'start']);
    await advance(clock, 70 * MIN);
    expect(r.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['prep', 'start', 'end']);
    expect(r.fired.filter((f) => f.kind === 'calendar')[1].detail).toMatch(/start: Board \(m1\)/);
    r.triggers.stop();
    r.store.close();
  });

  it('across a restart: an edge missed while down runs once, one that ran never runs again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const db = path.join(dir, 'db');
    // first life: up until 5 minutes into the meeting (prep and start fired)
    const clock1 = new FakeClock(T0 + 40 * MIN);
    const a = setup(db, clock1, [meeting]);
    a.triggers.start();
    await flush();
    await advance(clock1, 25 * MIN);
    expect(a.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['prep', 'start']);
    a.triggers.stop();
    a.store.close();
    // restart 10 minutes later, meeting still running: nothing runs twice
    const clock2 = new FakeClock(T0 + 75 * MIN);
    const b = setup(db, clock2, [meeting]);
    b.triggers.start();
    await flush();
    await flush();
    expect(b.fired.filter((f) => f.kind === 'calendar')).toEqual([]);
    b.triggers.stop();
    b.store.close();
    // the agent was down across the meeting's end and restarts 5 minutes after: "end" is caught up once
    const clock3 = new FakeClock(T0 + 125 * MIN);
    const c = setup(db, clock3, [meeting]);
    c.triggers.start();
    await flush();
    await flush();
    expect(c.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['end']);
    c.triggers.stop();
    c.store.close();
    const d = setup(db, new FakeClock(T0 + 126 * MIN), [meeting]);
    d.triggers.start();
    await flush();
    expect(d.fired.filter((f) => f.kind === 'calendar')).toEqual([]);
    d.triggers.stop();
    d.store.close();
  });

  it('a restart during a live meeting whose start was missed runs the start scenario (what should be true now)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const r = setup(path.join(dir, 'db'), new FakeClock(T0 + 90 * MIN), [meeting]);
    r.triggers.start();
    await flush();
    expect(r.fired.filter((f) => f.kind === 'calendar').map((f) => f.name)).toEqual(['start']); // "before" is past its point (meeting started), not run late
    r.triggers.stop();
    r.store.close();
  });
});

describe('time, microphone and state triggers', () => {
  it('time of day on chosen weekdays, caught up after a restart within the window', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const clock = new FakeClock(T0);
    const r = setup(path.join(dir, 'db'), clock, []);
    r.triggers.start();
    await advance(clock, 61 * MIN);
    expect(r.fired.map((f) => f.name)).toEqual(['morning']);
    await advance(clock, 24 * 60 * MIN, 30 * MIN); // Tuesday 09:00
    expect(r.fired.filter((f) => f.name === 'morning')).toHaveLength(2);
    await advance(clock, 24 * 60 * MIN, 30 * MIN); // Wednesday: not a chosen day
    expect(r.fired.filter((f) => f.name === 'morning')).toHaveLength(2);
    r.triggers.stop();
    r.store.close();
    // restart on Monday 09:10 with a fresh database: caught up once
    const d2 = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const late = setup(path.join(d2, 'db'), new FakeClock(T0 + 70 * MIN), []);
    late.triggers.start();
    expect(late.fired.map((f) => f.detail)).toEqual(['09:00 (caught up after start)']);
    late.triggers.stop();
    late.store.close();
  });

  it('a microphone turning on; a condition becoming true; the global pause', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-'));
    const clock = new FakeClock(T0);
    const r = setup(path.join(dir, 'db'), clock, []);
    r.triggers.start();
    const mic = (channel: number, on: boolean) =>
      r.events.emit({ type: 'mic', at: '', data: { device: 'mics', channel, on, chairman: false } });
    mic(3, true);
    mic(4, false);
    mic(4, true);
    expect(r.fired.map((f) => f.name)).toEqual(['seat4']);
    r.state['cam-1'] = 'online';
    r.bus.publish('devices', { device: 'cam-1' });
    r.bus.publish('devices', { device: 'cam-1' }); // still true: no second edge
    expect(r.fired.map((f) => f.name)).toEqual(['seat4', 'cam-back']);
    r.pause(true);
    mic(4, true);
    r.state['cam-1'] = 'offline';
    r.bus.publish('devices', {});
    r.state['cam-1'] = 'online';
    r.bus.publish('devices', {});
    expect(r.fired).toHaveLength(2);
    r.triggers.stop();
    r.store.close();
  });
});
