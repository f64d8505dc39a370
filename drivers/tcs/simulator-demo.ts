// Demo data for the TrueConf emulator: a day of conferences around "now" in
// the v3 or v4 schedule encoding (v3: teachbase/true-conf entity/schedule.rb and
// entity/conference.rb; v4: TrueConf/trueconf-server-mcp app/trueconf_api/models.py), used by `simulated = true`.
import { offsetMinutes } from '../../src/calendar/zone.js';
import type { EmulatorConference } from './simulator.js';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/**
 * A day of meetings around `now` for the demo: one finished, one running, two
 * later today, a weekly series on today's weekday, a daily stand-up, and a virtual room.
 * `major` picks v3 integer or v4 string schedule types.
 */
export function demoConferences(now: number, owner: string, major: 3 | 4, baseUrl: string): EmulatorConference[] {
  const half = 30 * 60_000;
  const slot = Math.floor(now / half) * half;
  const once = (id: string, topic: string, startMs: number, minutes: number, state: string, invitees: string[]) => ({
    id,
    type: 0,
    mode: 'PxP',
    topic,
    owner,
    description: '',
    schedule: { type: major === 4 ? 'once' : 1, start_time: Math.round(startMs / 1000), time_offset: 0, duration: minutes * 60 },
    url: `${baseUrl}/c/${id}`,
    webclient_url: `${baseUrl}/webrtc/${id}`,
    invitations: invitees.map((n) => ({ id: `${n.toLowerCase()}@tcs.demo`, display_name: n })),
    state,
    tags: [],
    recording: 0,
  });
  const weeklyAt = new Date(slot + 5 * half);
  return [
    once('100200300', 'Team briefing', slot - 4 * half, 45, 'stopped', ['Ivanov', 'Petrova']),
    once('100200301', 'Project review', slot - half, 60, 'running', ['Sidorov', 'Petrova', 'Kuznetsova']),
    once('100200302', 'Supplier call', slot + 2 * half, 30, 'stopped', ['Smirnov']),
    once('100200303', 'Board meeting', slot + 6 * half, 90, 'stopped', ['Ivanov', 'Orlova', 'Volkov']),
    {
      id: 'weekly-sync',
      type: 3,
      mode: 'S|L',
      topic: 'Weekly sync',
      owner,
      schedule: {
        type: major === 4 ? 'week' : 0,
        days: [WEEKDAYS[weeklyAt.getUTCDay()]],
        time: `${String(weeklyAt.getUTCHours()).padStart(2, '0')}:${String(weeklyAt.getUTCMinutes()).padStart(2, '0')}`,
        time_offset: 0,
        duration: 1800,
      },
      url: `${baseUrl}/c/weekly-sync`,
      invitations: [{ id: 'team@tcs.demo', display_name: 'Team' }],
      state: 'stopped',
      tags: ['weekly'],
      recording: 1,
    },
    {
      // Same series as the "Daily stand-up" in drivers/ics/sample/room.ics (same join link), so
      // the demo shows one meeting from both sources. The offset is Berlin's today, as a server
      // records the creator's offset.
      id: 'standup',
      type: 0,
      mode: 'PxP',
      topic: 'Daily stand-up',
      owner,
      schedule: {
        type: major === 4 ? 'week' : 0,
        days: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
        time: '09:30',
        time_offset: offsetMinutes(now, 'Europe/Berlin'),
        duration: 900,
      },
      url: 'https://tcs.demo/c/standup',
      state: 'stopped',
    },
    {
      id: 'virtual-room',
      type: 0,
      topic: 'Always-on room',
      owner,
      schedule: { type: major === 4 ? 'none' : -1 },
      state: 'running',
      url: `${baseUrl}/c/virtual-room`,
    },
  ];
}
