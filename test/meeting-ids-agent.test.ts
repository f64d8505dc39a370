// One meeting id for every meeting-level method, in a real agent: a TrueConf
// emulator and an iCalendar file as calendar sources, meeting tracking fed by
// the conference callbacks, Twilio through its stand-in. The conference that
// tracking sees is the TrueConf conference "review", filed under the tracking
// meeting "M-2041" (its user_data.meeting): meetings.invite and meetings.dial
// take the SAME id, whether the operator holds the tracking id or a calendar id.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TcsEmulator } from '../drivers/tcs/simulator.js';
import type { CalendarList } from '../src/calendar/index.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { icsTime } from './support/ics.js';
import { TwilioStandin } from './support/twilio-standin.js';

const PASSWORD = 'Tcs-ids-Pa55w0rd';
const FROM = '+15005550006';
const START_S = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60;
const ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:test',
  'BEGIN:VEVENT',
  'UID:ics-review',
  'SUMMARY:Design review',
  `DTSTART:${icsTime(START_S)}`,
  `DTEND:${icsTime(START_S + 3600)}`,
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:ics-only',
  'SUMMARY:Walk-in',
  `DTSTART:${icsTime(START_S)}`,
  `DTEND:${icsTime(START_S + 1800)}`,
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

let emu: TcsEmulator;
let standin: TwilioStandin;
let agent: TestAgent;
let op: RpcTestClient;
let calendarId = '';

async function post(events: unknown[]): Promise<void> {
  const res = await fetch(`${agent.url}/hooks/conference`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  emu = new TcsEmulator({
    users: { room101: PASSWORD },
    conferences: [
      {
        id: 'review',
        topic: 'Design review',
        owner: 'room101@tcs.test',
        schedule: { type: 1, start_time: START_S, duration: 3600, time_offset: 0 },
        state: 'running',
        invitations: [{ id: 'room101@tcs.test', display_name: 'Room 101' }],
      },
    ],
  });
  const emuUrl = await emu.start();
  standin = await TwilioStandin.start({ ownedNumbers: [FROM] });
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'meeting-ids-'));
  fs.writeFileSync(path.join(dir, 'room.ics'), ICS);
  agent = await startTestAgent(
    `[devices.tcs]\ndriver = "tcs"\nconnectionString = "server=${emuUrl}; user=room101; password=\${TCS_PASSWORD}"\n` +
      `api_version = "v3.11"\nrequest_timeout_ms = 5000\n\n` +
      `[devices.outlook]\ndriver = "ics"\nurl = "${path.join(dir, 'room.ics')}"\n\n` +
      `[calendar]\nsources = ["tcs", "outlook"]\n\n[tracking]\n\n` +
      `[twilio]\naccount_sid = "${standin.accountSid}"\nauth_token = "\${TWILIO_AUTH_TOKEN}"\nfrom = "${FROM}"\n` +
      `api_base_url = "${standin.baseUrl}"\npublic_url = "https://room-101.example.com:8443"\n` +
      'dial_in_number = "+493012345678"\ndial_in_pin = "4711"\nmax_dials_per_minute = 100\n',
    { dir, env: { ...process.env, TCS_PASSWORD: PASSWORD, TWILIO_AUTH_TOKEN: standin.authToken } },
  );
  op = await agent.connect(TOKENS.operator);
  await vi.waitFor(
    async () => {
      const list = await op.call<CalendarList>('calendar.list');
      const m = list.meetings.find((x) => x.title === 'Design review');
      expect(m?.sources.map((s) => s.source).sort()).toEqual(['outlook', 'tcs']);
      calendarId = m?.id ?? '';
    },
    { timeout: 15_000, interval: 100 },
  );
  const now = Date.now();
  // The conferencing platform reports the TrueConf conference "review", created for the tracking meeting "M-2041".
  await post([
    { event: 'conf.create.succ', id: 'review', begin_time: now - 120_000, user_data: { meeting: 'M-2041' } },
    { event: 'conf.joined', id: 'review', call_id: 'c-room', part_uri: 'room101@tcs.test', join_time: now - 110_000 },
  ]);
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await standin?.close();
  await emu?.stop();
});

const error = async (method: string, params: unknown) => (await op.request(method, params)).error;

describe('one meeting id for invite and dial', () => {
  it('the tracking id: invite reaches the TrueConf conference, dial files the call under the tracking meeting', async () => {
    const inv = await op.call<Record<string, unknown>>('meetings.invite', { meeting: 'M-2041', user_id: 'room101' });
    expect(inv).toMatchObject({ meeting: calendarId, device: 'tcs', conference: 'review', user_id: 'room101' });
    const dial = await op.call<Record<string, unknown>>('meetings.dial', { meeting: 'M-2041', number: '+15005550199' });
    expect(dial).toMatchObject({ meeting: 'M-2041', status: 'queued' });
    const call = standin.calls.get(dial.call_sid as string);
    expect(call?.statusCallback).toBe('https://room-101.example.com:8443/hooks/twilio?meeting=M-2041');
  });

  it('every calendar form of the same meeting gives the same pair', async () => {
    for (const id of [calendarId, 'outlook:ics-review', 'review']) {
      const inv = await op.call<Record<string, unknown>>('meetings.invite', { meeting: id, user_id: 'room101' });
      expect(inv, id).toMatchObject({ meeting: calendarId, conference: 'review' });
      const dial = await op.call<Record<string, unknown>>('meetings.dial', { meeting: id, number: '+15005550199' });
      expect(dial, id).toMatchObject({ meeting: 'M-2041' });
    }
    const events = await op.call<{ events: { event: string; data: { status: string } }[] }>('meetings.events', {
      id: 'M-2041',
    });
    expect(events.events.filter((e) => e.event === 'dial.status')).toHaveLength(4);
  });

  it('an id of one side only: NOT_FOUND naming what was looked at', async () => {
    // The iCalendar-only meeting has no tracking meeting: dial cannot file the call.
    const noTracking = await error('meetings.dial', { meeting: 'outlook:ics-only', number: '+15005550199' });
    expect(noTracking).toMatchObject({ code: 4004 });
    expect(noTracking?.message).toBe(
      'meeting "outlook:ics-only" is calendar meeting "outlook:ics-only", but meeting tracking has no meeting linked to it ' +
        '(no tracking meeting or conference with id "outlook:ics-only", "ics-only")',
    );
    // A tracking meeting whose conference is not a calendar conference: no TrueConf target.
    await post([{ event: 'conf.create.succ', id: '9f1c0ffee', begin_time: Date.now() - 60_000, user_data: { meeting: 'M-9' } }]);
    const noCalendar = await error('meetings.record', { meeting: 'M-9', on: true });
    expect(noCalendar).toMatchObject({ code: 4004 });
    expect(noCalendar?.message).toMatch(
      /^meeting "M-9" is tracking meeting "M-9", but no calendar meeting between yesterday and tomorrow is linked to it \(neither its id nor its conference ids \[9f1c0ffee\]/,
    );
    const nothing = await error('meetings.invite', { meeting: 'ghost', user_id: 'x' });
    expect(nothing).toMatchObject({
      code: 4004,
      message: expect.stringMatching(/^meeting "ghost" is not known: looked in the calendar/),
    });
  });

  it('a calendar id that two tracking meetings claim is ambiguous: CONFLICT, nothing sent', async () => {
    // A second conference reports the calendar id itself as its meeting: now two tracking meetings are this meeting.
    await post([
      { event: 'conf.create.succ', id: 'aa77', begin_time: Date.now() - 30_000, user_data: { meeting: 'outlook:ics-review' } },
    ]);
    const calls = standin.calls.size;
    const e = await error('meetings.dial', { meeting: calendarId, number: '+15005550199' });
    expect(e).toMatchObject({ code: 4009, data: { reason: 'ambiguous' } });
    expect(e?.message).toBe(
      `meeting "${calendarId}" is ambiguous: it leads to tracking meetings "M-2041", "outlook:ics-review"; give the id of one of them`,
    );
    expect(standin.calls.size).toBe(calls);
    // The tracking id, and the conference id tracking files under it, still name one meeting.
    expect(await op.call('meetings.dial', { meeting: 'review', number: '+15005550199' })).toMatchObject({ meeting: 'M-2041' });
    const inv = await op.call<Record<string, unknown>>('meetings.invite', { meeting: 'M-2041', user_id: 'room101' });
    expect(inv).toMatchObject({ meeting: calendarId, conference: 'review' });
  });
});
