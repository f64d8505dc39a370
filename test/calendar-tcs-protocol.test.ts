// TrueConf Server payloads: table tests from TrueConf's API documentation and
// official clients (docs/drivers/tcs.md) and the fixtures, plus property tests (random input never crashes a parser).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  involvesUser,
  isTokenRejected,
  occurrences,
  parseApiVersion,
  parseConference,
  parseConferencePage,
  parseConnectionString,
  parseParticipants,
  parseSchedule,
  parseTokenResponse,
  restErrorMessage,
  tokenErrorReason,
  toCalendar,
} from '../drivers/tcs/protocol.js';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'calendar-fixtures', name), 'utf8'));
const iso = (ms: number) => new Date(ms).toISOString();

describe('connection string', () => {
  it.each([
    [
      'server=https://tcs.example; user=room101; password=secret',
      { server: 'https://tcs.example', user: 'room101', password: 'secret', clientId: 'trueconf_server_users' },
    ],
    [
      'Server=tcs.example/;User Id=room101;Password="a;b""c";ClientId=my_app',
      { server: 'https://tcs.example', user: 'room101', password: 'a;b"c', clientId: 'my_app' },
    ],
    [
      ' url = http://10.0.0.5:8080 ; username = r ; pwd = p ; client_id = x ',
      { server: 'http://10.0.0.5:8080', user: 'r', password: 'p', clientId: 'x' },
    ],
  ])('%s', (s, want) => {
    expect(parseConnectionString(s)).toEqual(want);
  });

  it.each([
    ['server=https://x; user=u', /missing password/],
    ['user=u; password=p', /missing server/],
    ['server=https://x; user=u; password="open', /unterminated quote/],
    ['garbage', /at the start: expected key=value/],
    ['server=https://x; usr=u; password=p', /unknown key after the value of "server"/],
    ['server=https://x; user=u; password="a;b"c', /text after the closing quote of "password"/],
  ])('rejects %s', (s, re) => {
    expect(() => parseConnectionString(s)).toThrow(re);
  });

  // Issue 16 finding 5: an unquoted password with ";" (typically from ${TCS_PASSWORD}) showed its tail
  // as `expected key=value near "semi<8 secret chars>"` in device status, snapshots, errors and the log.
  it.each([
    'server=https://tcs.test; user=room101; password=Kq7;semiZx9vWp2R',
    'server=https://tcs.test; user=room101; password=Kq7;semi=Zx9vWp2R',
    'server=https://tcs.test; user=room101; password=Kq7;semiZx9v; client_id=x',
    'password=Kq7;semiZx9vWp2R; server=https://tcs.test; user=room101',
  ])('a ";" in an unquoted password names the key, not the text: %s', (s) => {
    let message = '';
    try {
      parseConnectionString(s);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/after the value of "password"/);
    expect(message).toContain('double quotes');
    const secret = s.slice(s.indexOf('password=') + 9).split(/; (server|client_id)/)[0] as string;
    for (let i = 0; i + 4 <= secret.length; i++) expect(message).not.toContain(secret.slice(i, i + 4));
  });

  it('no 4-character fragment of a password with ";", "=", quotes or unicode ever appears in an error', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...'aZ9;=" é€@%'.split('')), minLength: 6, maxLength: 24 }),
        fc.constantFrom('', '; client_id=x', '; garbage', ' ; user=v'),
        (pw, tail) => {
          const message = (password: string) => {
            try {
              parseConnectionString(`server=https://t; user=u; password=${password}${tail}`);
              return '';
            } catch (e) {
              return (e as Error).message;
            }
          };
          // The same structure with other characters gives the message template: its own words prove nothing.
          const template = message(pw.replace(/[^;="\s]/g, 'X'));
          const got = message(pw);
          for (let i = 0; i + 4 <= pw.length; i++) {
            const f = pw.slice(i, i + 4);
            if (!template.includes(f)) expect(got).not.toContain(f);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never echoes the password in an error', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 30 }).filter((p) => !/[;"\s=]/.test(p)),
        fc.string(),
        (pw, junk) => {
          const message = (password: string) => {
            try {
              parseConnectionString(`password=${password}; ${junk}`);
              return '';
            } catch (e) {
              return (e as Error).message;
            }
          };
          // A password that is a word of the message itself ("length", "expected") proves nothing.
          fc.pre(!message('#'.repeat(pw.length)).includes(pw));
          expect(message(pw)).not.toContain(pw);
        },
      ),
    );
  });
});

describe('api version', () => {
  it.each([
    ['v3.11', { major: 3, path: 'v3.11' }],
    ['v3.3', { major: 3, path: 'v3.3' }],
    ['3', { major: 3, path: 'v3' }],
    ['v4', { major: 4, path: 'v4' }],
    ['v5', null],
    ['v3.x', null],
  ])('%s', (v, want) => expect(parseApiVersion(v)).toEqual(want));
});

describe('token endpoint', () => {
  it('reads the official sample response', () => {
    expect(parseTokenResponse(fixture('token.json'))).toEqual({
      accessToken: 'f7dee810d964f02d54d7930d69e80c561d2a55b7',
      expiresIn: 604800,
    });
  });
  it('assumes 3600 s when expires_in is missing (as the official MCP client does)', () => {
    expect(parseTokenResponse({ access_token: 'x' }).expiresIn).toBe(3600);
  });
  it('rejects a response without a token', () => {
    expect(() => parseTokenResponse({ error: 'x' })).toThrow(/no access_token/);
  });
  it.each([
    [401, fixture('error-invalid-grant.json'), 'InvalidCredentials: invalid_grant: Invalid username and password combination'],
    [
      400,
      { error: 'invalid_client', error_description: 'The client credentials are invalid' },
      'invalid_client: The client credentials are invalid',
    ],
    [400, undefined, 'HTTP 400'],
  ])('error reason for %i', (status, body, want) => expect(tokenErrorReason(status, body)).toBe(want));
});

describe('token rejection (expired or invalid)', () => {
  it.each([
    [403, fixture('error-token-invalid.json'), true],
    [401, { error: 'invalid_token' }, true],
    [403, { error: { code: 403, message: 'Forbidden', errors: [{ reason: 'forbidden' }] } }, false],
    [404, fixture('error-token-invalid.json'), false],
    [500, undefined, false],
  ])('%i → %s', (status, body, want) => expect(isTokenRejected(status, body)).toBe(want));

  it('formats REST errors from v3 and v4 envelopes', () => {
    expect(restErrorMessage(403, fixture('error-token-invalid.json'))).toBe(
      'HTTP 403 accessTokenInvalid: Access token is invalid or expired.',
    );
    expect(restErrorMessage(401, { error: 'invalid_token', message: 'expired' })).toBe('HTTP 401 invalid_token: expired');
    expect(restErrorMessage(500, undefined)).toBe('HTTP 500');
  });
});

describe('conference list (fixture conferences-v3.json)', () => {
  const page = parseConferencePage(fixture('conferences-v3.json'));
  it('reads every conference and the end of paging', () => {
    expect(page.conferences.map((c) => c.id)).toEqual(['5576502892', 'weekly-sync', 'virtual-room']);
    expect(page.nextPageId).toBeNull();
  });
  it('maps v3 schedule types: 1 once, 0 weekly, -1 none', () => {
    expect(page.conferences.map((c) => c.schedule.kind)).toEqual(['once', 'week', 'none']);
    const weekly = page.conferences[1]?.schedule;
    expect(weekly).toMatchObject({ days: [1, 4], time: '10:00', offsetMinutes: 180, duration: 1800 });
  });
  it('maps to the calendar model; the virtual room is a room, not an event', () => {
    // Monday 2025-11-24 00:00Z … Friday 2025-11-28 00:00Z; fixture one-off is 2025-11-22 12:00Z.
    const from = Date.UTC(2025, 10, 22);
    const to = Date.UTC(2025, 10, 28);
    const { events, rooms } = toCalendar(page.conferences, from, to);
    expect(rooms).toEqual([
      { id: 'virtual-room', title: 'Always-on room', join_url: null, state: 'running', owner: 'room101@tcs.example' },
    ]);
    expect(events.map((e) => [e.id, e.start, e.end])).toEqual([
      ['5576502892', '2025-11-22T12:00:00.000Z', '2025-11-22T13:00:00.000Z'],
      // 10:00 at UTC+3 (time_offset 180) is 07:00Z, Mondays and Thursdays.
      ['weekly-sync@2025-11-24T07:00:00.000Z', '2025-11-24T07:00:00.000Z', '2025-11-24T07:30:00.000Z'],
      ['weekly-sync@2025-11-27T07:00:00.000Z', '2025-11-27T07:00:00.000Z', '2025-11-27T07:30:00.000Z'],
    ]);
    const first = events[0];
    expect(first).toMatchObject({
      title: 'Weekly planning',
      organizer: 'room101@tcs.example',
      join_url: 'https://tcs.example/c/5576502892',
      state: 'stopped',
      all_day: false,
      invitees: [
        { id: 'ivanov@tcs.example', name: 'Ivanov' },
        { id: 'petrova@tcs.example', name: 'Petrova' },
      ],
    });
    expect(first?.links).toContain('https://tcs.example/webrtc/5576502892');
  });
  it('user filter matches owner or invitee, with or without @server', () => {
    const c = page.conferences[0];
    if (!c) throw new Error('fixture');
    expect(involvesUser(c, 'room101')).toBe(true);
    expect(involvesUser(c, 'petrova@tcs.example')).toBe(true);
    expect(involvesUser(c, 'sidorov')).toBe(false);
  });
});

describe('v4 payloads', () => {
  it('reads string schedule types and the VideoSDK day flags', () => {
    expect(parseSchedule({ type: 'once', start_time: 100, duration: 60 })).toMatchObject({ kind: 'once', startTime: 100 });
    expect(parseSchedule({ type: 'none' }).kind).toBe('none');
    expect(parseSchedule({ type: 'week', days: ['monday', 'friday'], time: '09:30', special_time_offset: 60 })).toMatchObject({
      kind: 'week',
      days: [1, 5],
      offsetMinutes: 60,
    });
    // Sunday-first flags [S,M,T,W,T,F,S]
    expect(parseSchedule({ type: 'week', days: [1, 1, 0, 0, 0, 0, 1], time: '08:00' }).days).toEqual([1, 6, 7]);
  });
  it('accepts the list envelopes v4 may use', () => {
    const conf = { id: 'a', topic: 'A', schedule: { type: 'none' } };
    expect(parseConferencePage({ conferences: [conf], total: 1 }).total).toBe(1);
    expect(parseConferencePage({ data: [conf] }).conferences).toHaveLength(1);
    expect(parseConferencePage([conf]).conferences).toHaveLength(1);
    expect(() => parseConferencePage({ error: 'x' })).toThrow(/no conferences array/);
  });
  it('reads participants from v3 and v4 shapes', () => {
    expect(parseParticipants({ count: 1, participants: [{ participant_id: 'u1', display_name: 'U 1' }] })).toEqual([
      { id: 'u1', name: 'U 1' },
    ]);
    expect(parseParticipants({ data: [{ id: 'u2', name: 'U 2' }] })).toEqual([{ id: 'u2', name: 'U 2' }]);
  });
});

describe('weekly schedules across a DST change (Europe/Berlin, 29 March 2026)', () => {
  const schedule = parseSchedule({ type: 0, days: ['friday', 'monday'], time: '10:00', time_offset: 60, duration: 3600 });
  const from = Date.UTC(2026, 2, 26);
  const to = Date.UTC(2026, 2, 31);
  it('fixed time_offset (what the server sends): same UTC instant on both sides', () => {
    expect(occurrences(schedule, from, to).map(iso)).toEqual(['2026-03-27T09:00:00.000Z', '2026-03-30T09:00:00.000Z']);
  });
  it('with weekly_time_zone: same wall clock on both sides, UTC moves by an hour', () => {
    expect(occurrences(schedule, from, to, { weeklyZone: 'Europe/Berlin' }).map(iso)).toEqual([
      '2026-03-27T09:00:00.000Z',
      '2026-03-30T08:00:00.000Z',
    ]);
  });
  it('autumn change too (25 October 2026)', () => {
    const s = parseSchedule({ type: 'week', days: ['saturday', 'sunday', 'monday'], time: '02:30', duration: 1800 });
    expect(occurrences(s, Date.UTC(2026, 9, 24), Date.UTC(2026, 9, 27), { weeklyZone: 'Europe/Berlin' }).map(iso)).toEqual([
      '2026-10-24T00:30:00.000Z',
      // 02:30 happens twice that night; calendar clients take the first (CEST).
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });
  it('a series start_time hides earlier weeks; an occurrence running at `from` is kept', () => {
    const s = parseSchedule({
      type: 0,
      days: ['monday'],
      time: '10:00',
      time_offset: 0,
      duration: 7200,
      start_time: Date.UTC(2026, 2, 30, 10) / 1000,
    });
    expect(occurrences(s, Date.UTC(2026, 2, 16), Date.UTC(2026, 3, 7)).map(iso)).toEqual([
      '2026-03-30T10:00:00.000Z',
      '2026-04-06T10:00:00.000Z',
    ]);
    expect(occurrences(s, Date.UTC(2026, 2, 30, 11), Date.UTC(2026, 2, 30, 12)).map(iso)).toEqual(['2026-03-30T10:00:00.000Z']);
  });
});

describe('property: arbitrary JSON never crashes the mappers', () => {
  it('parseConference / parseSchedule / toCalendar', () => {
    fc.assert(
      fc.property(fc.anything(), fc.jsonValue(), (a, b) => {
        parseSchedule(a);
        parseSchedule(b);
        const c = parseConference(b);
        const withSchedule = parseConference({ id: 'x', schedule: a });
        const list = [c, withSchedule].filter((x) => x !== null);
        const { events } = toCalendar(list as NonNullable<typeof c>[], Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 9));
        for (const e of events) expect(Date.parse(e.end)).toBeGreaterThanOrEqual(Date.parse(e.start));
      }),
      { numRuns: 500 },
    );
  });
  it('parseConferencePage either parses or throws an Error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parseConferencePage(v);
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).message).toMatch(/conference list/);
        }
      }),
    );
  });
});
