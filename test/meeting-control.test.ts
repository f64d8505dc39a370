// meetings.invite / meetings.remove / meetings.record in a real agent: a
// TrueConf emulator and an iCalendar file as calendar sources, the meeting
// found in the merged calendar, an e-mail or person mapped to the TrueConf user
// through the invitee list, the device action audited with the caller as the
// cause, every server refusal a JSON-RPC error naming what failed, and the
// viewer role refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TcsEmulator } from '../drivers/tcs/simulator.js';
import type { CalendarList } from '../src/calendar/index.js';
import { ERROR_CODES } from '../src/util/errors.js';
import { type RpcTestClient, startTestAgent, type TestAgent, TOKENS } from './support/agent.js';
import { icsTime } from './support/ics.js';

const PASSWORD = 'Tcs-ctl-Pa55w0rd';
const START_S = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60; // a whole minute, 10 min ago

const ICS = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:test',
  'BEGIN:VEVENT',
  'UID:ics-review',
  'SUMMARY:Design review',
  `DTSTART:${icsTime(START_S)}`,
  `DTEND:${icsTime(START_S + 3600)}`,
  'ATTENDEE;CN=Anna Petrova:mailto:anna.petrova@corp.example',
  'ATTENDEE;CN=Oleg Sidorov:mailto:oleg@corp.example',
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

type RpcError = Error & { code: number; data?: { failure?: string } };
const rpcError = async (p: Promise<unknown>): Promise<RpcError> => {
  const e = await p.then(
    () => null,
    (x: unknown) => x as RpcError,
  );
  if (!e) throw new Error('expected a JSON-RPC error');
  return e;
};

interface AuditRow {
  device: string;
  action: string;
  params: Record<string, unknown>;
  ok: boolean;
  error: string | null;
  cause: { kind: string; name?: string; detail?: string };
}

describe('meetings.invite / remove / record (TrueConf API v3.11)', () => {
  let emu: TcsEmulator;
  let agent: TestAgent;
  let op: RpcTestClient;
  let admin: RpcTestClient;
  let meeting = '';
  const answers: string[] = [];

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
          invitations: [
            { id: 'petrova@tcs.test', display_name: 'Anna Petrova' },
            { id: 'room101@tcs.test', display_name: 'Room 101' },
          ],
        },
      ],
    });
    const emuUrl = await emu.start();
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'meeting-control-'));
    const ics = path.join(dir, 'room.ics');
    fs.writeFileSync(ics, ICS);
    agent = await startTestAgent(
      `[devices.tcs]\ndriver = "tcs"\nconnectionString = "server=${emuUrl}; user=room101; password=\${TCS_PASSWORD}"\n` +
        `api_version = "v3.11"\nrequest_timeout_ms = 5000\n\n` +
        `[devices.outlook]\ndriver = "ics"\nurl = "${ics}"\n\n` +
        `[calendar]\nsources = ["tcs", "outlook"]\n`,
      { dir, env: { TCS_PASSWORD: PASSWORD } },
    );
    op = await agent.connect(TOKENS.operator);
    admin = await agent.connect(TOKENS.admin);
    await vi.waitFor(
      async () => {
        const list = await admin.call<CalendarList>('calendar.list');
        const m = list.meetings.find((x) => x.title === 'Design review');
        expect(m?.sources.map((s) => s.source).sort()).toEqual(['outlook', 'tcs']);
        meeting = m?.id ?? '';
      },
      { timeout: 15_000, interval: 100 },
    );
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await emu?.stop();
  });

  const live = () => (emu.participants.review ?? []).filter((p) => p.leave_time == null).map((p) => p.id);
  const rows = () => admin.call<AuditRow[]>('audit.list', { device: 'tcs' });

  it('invites by e-mail through the invitee list and audits it with the caller and the mapping as the cause', async () => {
    const r = await op.call('meetings.invite', { meeting, email: 'Anna.Petrova@corp.example' });
    expect(r).toMatchObject({
      meeting,
      device: 'tcs',
      resolved_by: 'email',
      conference: 'review',
      user_id: 'petrova@tcs.test',
      invited: true,
    });
    expect(live()).toContain('petrova@tcs.test');
    const row = (await rows()).find((x) => x.action === 'invite' && x.ok);
    expect(row?.params).toEqual({ id: 'review', user_id: 'petrova@tcs.test' });
    expect(row?.cause.kind).toBe('api');
    expect(row?.cause.name).toBe('operator-client');
    expect(row?.cause.detail).toContain(
      `meetings.invite meeting ${meeting}: email Anna.Petrova@corp.example → user petrova@tcs.test`,
    );
    answers.push(JSON.stringify(r));
  });

  it('invites by person (an invitee name) and by user_id; the conference id works as the meeting too', async () => {
    await op.call('meetings.invite', { meeting: 'review', user_id: 'room101' });
    const r = await op.call('meetings.invite', { meeting: `outlook:ics-review`, person: 'anna petrova' });
    expect(r).toMatchObject({ meeting, resolved_by: 'person', user_id: 'petrova@tcs.test' });
  });

  it('refuses what cannot be mapped or found, each with its reason', async () => {
    const noLink = await rpcError(op.call('meetings.invite', { meeting, email: 'oleg@corp.example' }));
    expect(noLink.code).toBe(ERROR_CODES.NOT_FOUND);
    expect(noLink.message).toMatch(/e-mail "oleg@corp\.example" does not lead to a TrueConf user through the invitee list/);
    const two = await rpcError(op.call('meetings.invite', { meeting, email: 'a@b.c', user_id: 'x' }));
    expect(two.code).toBe(ERROR_CODES.INVALID_PARAMS);
    expect(two.message).toMatch(/exactly one of person, user_id, email/);
    const unknown = await rpcError(op.call('meetings.invite', { meeting: 'no-such-meeting', user_id: 'x' }));
    expect(unknown.code).toBe(ERROR_CODES.NOT_FOUND);
    const icsOnly = await rpcError(op.call('meetings.record', { meeting: 'outlook:ics-only', on: true }));
    expect(icsOnly.code).toBe(ERROR_CODES.INVALID_PARAMS);
    expect(icsOnly.message).toMatch(/is not a TrueConf Server conference \(calendar sources: outlook\)/);
    answers.push(noLink.message, two.message, unknown.message, icsOnly.message);
  });

  it('passes each server refusal back as a JSON-RPC error naming what failed, audited as failed', async () => {
    const nobody = await rpcError(op.call('meetings.invite', { meeting, user_id: 'nobody@tcs.test' }));
    expect(nobody.code).toBe(ERROR_CODES.DEVICE_ERROR);
    expect(nobody.data?.failure).toBe('no_such_user');
    expect(nobody.message).toMatch(/TrueConf invite: no such user \(user "nobody@tcs\.test"; HTTP 404 userNotFound/);
    const rec = await rpcError(op.call('meetings.record', { meeting, on: true }));
    expect(rec.data?.failure).toBe('unsupported');
    expect(rec.message).toMatch(/not supported on TrueConf API v3/);
    const failed = (await rows()).find((x) => x.action === 'invite' && !x.ok);
    expect(failed?.error).toMatch(/no such user/);
    expect(failed?.cause.detail).toContain('meetings.invite');
    answers.push(nobody.message, rec.message);
  });

  it('removes a participant (ending their TrueConf session, as the answer says) and refuses one who is not there', async () => {
    await op.call('meetings.invite', { meeting, user_id: 'petrova@tcs.test' });
    const r = await op.call('meetings.remove', { meeting, participant: 'petrova@tcs.test' });
    expect(r).toMatchObject({ meeting, user_id: 'petrova', scope: 'server_session' });
    expect(live()).not.toContain('petrova@tcs.test');
    const again = await rpcError(op.call('meetings.remove', { meeting, participant: 'petrova@tcs.test' }));
    expect(again.data?.failure).toBe('not_in_conference');
    const row = (await rows()).find((x) => x.action === 'disconnect' && x.ok);
    expect(row?.cause.detail).toContain(`meetings.remove meeting ${meeting}: participant petrova@tcs.test`);
  });

  it('refuses the viewer role for every control, and nothing reaches the server', async () => {
    const viewer = await agent.connect(TOKENS.viewer);
    const before = emu.requests.filter((q) => q.method === 'POST').length;
    for (const [method, params] of [
      ['meetings.invite', { meeting, user_id: 'petrova' }],
      ['meetings.remove', { meeting, participant: 'petrova' }],
      ['meetings.record', { meeting, on: true }],
    ] as const) {
      const e = await rpcError(viewer.call(method, params));
      expect(e.code, method).toBe(ERROR_CODES.FORBIDDEN);
    }
    expect(emu.requests.filter((q) => q.method === 'POST').length).toBe(before);
  });

  it('never answers with the password or a token', () => {
    const all = answers.join('\n');
    expect(all).not.toContain(PASSWORD);
    for (const t of emu.issuedTokens) expect(all).not.toContain(t);
  });
});
