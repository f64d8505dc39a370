// The ics driver's refresh of a calendar that has not changed: the same text in the same window is not
// expanded again (the last sync's events are published as they are); a changed text, or the next day's
// window, is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CalendarSnapshot } from '../../src/calendar/model.js';
import type { DeviceInstance } from '../../src/host/contract.js';
import { FakeClock } from '../../src/util/clock.js';
import { ACTION_CTX, lastStatus, recordingContext, waitUntil } from '../../test/calendar-fixtures/helpers.js';
import { createIcs } from './driver.js';
import { realisticRoomFeed } from './realistic-feed.js';
import { IcsServer } from './simulator.js';

const NOW = Date.UTC(2026, 11, 6, 12);
let server: IcsServer | null = null;
let inst: DeviceInstance | null = null;
let tmp: string | null = null;
afterEach(async () => {
  await inst?.stop();
  inst = null;
  await server?.stop();
  server = null;
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = null;
});

describe('ics driver: refreshing an unchanged calendar', () => {
  it('reuses the last expansion for the same text and window; re-expands a new text or a new day', async () => {
    const feed = realisticRoomFeed(NOW);
    server = new IcsServer(feed);
    const url = await server.start();
    const clock = new FakeClock(NOW);
    const rec = recordingContext(clock, 'outlook');
    inst = createIcs(
      { url, poll_interval_s: 300, request_timeout_ms: 2000, days_ahead: 7, time_zone: 'Europe/Berlin', max_bytes: 1 << 22 },
      rec.ctx,
    );
    await inst.start();
    const snap = () => rec.state.calendar as CalendarSnapshot | undefined;
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online', 10_000);
    const first = snap();
    expect(first?.events.length).toBeGreaterThan(30);

    // 304: the same text.
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(server.notModified).toBe(1);
    expect(snap()?.events).toBe(first?.events);
    // A 200 with the same body (a server that ignores the validators) is the same text too.
    server.rogueAnswers.push({ body: feed });
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.message).toMatch(/^read: /);
    expect(snap()?.events).toBe(first?.events);

    // A changed text is expanded.
    server.setBody(feed.replace('SUMMARY:Daily stand-up\r\n', 'SUMMARY:Daily stand-up (room 205)\r\n'), new Date(NOW + 120_000));
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(snap()?.events).not.toBe(first?.events);
    expect(snap()?.events.some((e) => e.title === 'Daily stand-up (room 205)')).toBe(true);
  });

  it('a file read again on the next day is expanded again (the window moved)', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ics-refresh-'));
    const file = path.join(tmp, 'room.ics');
    fs.writeFileSync(file, realisticRoomFeed(NOW));
    const clock = new FakeClock(NOW);
    const rec = recordingContext(clock, 'outlook');
    inst = createIcs(
      {
        url: file,
        poll_interval_s: 300,
        request_timeout_ms: 2000,
        days_ahead: 7,
        time_zone: 'Europe/Berlin',
        max_bytes: 1 << 22,
      },
      rec.ctx,
    );
    await inst.start();
    const snap = () => rec.state.calendar as CalendarSnapshot | undefined;
    await waitUntil(() => lastStatus(rec)?.status === 'online', 'online', 10_000);
    const first = snap();
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(lastStatus(rec)?.message).toMatch(/^unchanged: /);
    expect(snap()?.events).toBe(first?.events);
    // The next day (the poll the advance fired read at its own time: a refresh reads now).
    clock.advance(86_400_000);
    await inst.actions.refresh?.run({}, ACTION_CTX());
    await inst.actions.refresh?.run({}, ACTION_CTX());
    expect(snap()?.window.from).not.toBe(first?.window.from);
    expect(snap()?.events).not.toBe(first?.events);
    expect(snap()?.events.at(-1)?.start).not.toBe(first?.events.at(-1)?.start);
  });
});
