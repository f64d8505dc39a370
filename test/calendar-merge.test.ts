// Merging rules and the zone helpers, as table tests.
import { describe, expect, it } from 'vitest';
import { mergeEvents, type SourcedEvent } from '../src/calendar/merge.js';
import { type CalendarEvent, extractLinks, normalizeLink } from '../src/calendar/model.js';
import { addDays, fromWallClock, startOfDay } from '../src/calendar/zone.js';

function ev(id: string, start: string, minutes: number, title: string, over: Partial<CalendarEvent> = {}): CalendarEvent {
  const s = Date.parse(start);
  return {
    id,
    source_id: id,
    title,
    start: new Date(s).toISOString(),
    end: new Date(s + minutes * 60_000).toISOString(),
    all_day: false,
    organizer: null,
    invitees: [],
    join_url: null,
    location: null,
    state: null,
    links: [],
    ...over,
  };
}
const S = (source: string, event: CalendarEvent, stale = false): SourcedEvent => ({ source, event, stale });

describe('mergeEvents', () => {
  it('same join link (normalised) → one meeting; first source in order names it', () => {
    const m = mergeEvents(
      [
        S('outlook', ev('o1', '2026-05-04T10:00:00Z', 60, 'Sync', { links: ['https://tcs.example/c/42'], location: 'Room 1' })),
        S('tcs', ev('t1', '2026-05-04T10:05:00Z', 55, 'Sync (TrueConf)', { join_url: 'HTTPS://TCS.EXAMPLE/c/42/' }), true),
      ],
      ['tcs', 'outlook'],
    );
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ id: 'tcs:t1', title: 'Sync (TrueConf)', location: 'Room 1', stale: true });
    expect(m[0]?.sources.map((s) => s.source)).toEqual(['tcs', 'outlook']);
  });

  it('same start and title (case, spaces) → one meeting', () => {
    const m = mergeEvents(
      [
        S('a', ev('a1', '2026-05-04T10:00:00Z', 30, 'Board  Meeting')),
        S('b', ev('b1', '2026-05-04T10:00:00Z', 60, 'board meeting')),
      ],
      ['a', 'b'],
    );
    expect(m.map((x) => x.sources.length)).toEqual([2]);
  });

  it.each([
    ['same source twice', [S('a', ev('a1', '2026-05-04T10:00:00Z', 30, 'X')), S('a', ev('a2', '2026-05-04T10:00:00Z', 30, 'X'))]],
    [
      'same title, other start',
      [S('a', ev('a1', '2026-05-04T10:00:00Z', 30, 'X')), S('b', ev('b1', '2026-05-04T11:00:00Z', 30, 'X'))],
    ],
    [
      'a permanent room link on two different days',
      [
        S('a', ev('a1', '2026-05-04T10:00:00Z', 30, 'X', { join_url: 'https://t/c/room' })),
        S('b', ev('b1', '2026-05-05T10:00:00Z', 30, 'Y', { join_url: 'https://t/c/room' })),
      ],
    ],
  ])('not merged: %s', (_name, items) => {
    expect(mergeEvents(items, ['a', 'b'])).toHaveLength(2);
  });
});

describe('links', () => {
  it.each([
    ['https://Host.Example:443/c/1/#x', 'host.example/c/1'],
    ['http://h/c/1?pin=2', 'h/c/1?pin=2'],
    ['mailto:x@y', null],
    ['not a url', null],
  ])('%s → %s', (link, want) => expect(normalizeLink(link)).toBe(want));
  it('extracts links from free text', () => {
    expect(extractLinks('Join: https://a.b/c/1, or (https://x.y/z).')).toEqual(['https://a.b/c/1', 'https://x.y/z']);
  });
});

describe('zone helpers', () => {
  it.each([
    // spring gap: 02:30 does not exist in Berlin on 29 March 2026 → 03:30 CEST
    [{ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    // autumn overlap: the first 02:30 (CEST)
    [{ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
    [{ year: 2026, month: 7, day: 1, hour: 0, minute: 0, second: 0 }, 'Asia/Kolkata', '2026-06-30T18:30:00.000Z'],
    [{ year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: 0 }, 'UTC', '2026-01-01T00:00:00.000Z'],
  ])('%o in %s', (w, zone, want) => expect(new Date(fromWallClock(w, zone)).toISOString()).toBe(want));

  it('a local day around a DST change is 23 hours long', () => {
    const d = startOfDay(Date.UTC(2026, 2, 29, 12), 'Europe/Berlin');
    expect(new Date(d).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(addDays(d, 1, 'Europe/Berlin') - d).toBe(23 * 3600_000);
  });
});
