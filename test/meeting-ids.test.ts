// Meeting-id resolution (src/meeting-ids/resolve.ts): a calendar id and a
// tracking id of the same meeting lead to the same pair; nothing → both null;
// two meetings on one side → ambiguous, never a guess.
import { describe, expect, it } from 'vitest';
import { type CalendarEntry, resolveMeeting, type TrackingFacts } from '../src/meeting-ids/resolve.js';

const review: CalendarEntry = {
  id: 'tcs:review@1',
  sources: [
    { source: 'tcs', id: 'review@1', source_id: 'review' },
    { source: 'outlook', id: 'ics-review', source_id: 'uid-review@corp' },
  ],
  room: false,
  invitees: [],
};
const standup: CalendarEntry = {
  id: 'tcs:standup@1',
  sources: [{ source: 'tcs', id: 'standup@1', source_id: 'standup' }],
  room: false,
  invitees: [],
};
const room: CalendarEntry = {
  id: 'vroom',
  sources: [{ source: 'tcs', id: 'vroom', source_id: 'vroom' }],
  room: true,
  invitees: [],
};

/** Tracking meetings with their conference (instance) ids. */
function tracking(meetings: Record<string, string[]>): TrackingFacts {
  return {
    isMeeting: (id) => id in meetings,
    meetingOfConference: (c) => Object.keys(meetings).find((m) => meetings[m]?.includes(c)),
    conferencesOf: (m) => meetings[m] ?? [],
  };
}

const ok = (r: ReturnType<typeof resolveMeeting>) => {
  if (!r.ok) throw new Error(r.message);
  return { calendar: r.calendar?.id ?? null, tracking: r.tracking };
};

describe('resolveMeeting', () => {
  const entries = [review, standup, room];

  it('links a tracking meeting to the calendar meeting through a conference whose id is the TrueConf conference id', () => {
    const t = tracking({ 'M-2041': ['review'] });
    const want = { calendar: 'tcs:review@1', tracking: 'M-2041' };
    for (const id of ['M-2041', 'tcs:review@1', 'outlook:ics-review', 'review', 'uid-review@corp']) {
      expect(ok(resolveMeeting(id, entries, t)), id).toEqual(want);
    }
  });

  it('links a tracking meeting whose id is a calendar form (user_data.meeting set to the calendar id)', () => {
    const t = tracking({ 'outlook:ics-review': ['3f2a9c'] });
    const want = { calendar: 'tcs:review@1', tracking: 'outlook:ics-review' };
    expect(ok(resolveMeeting('tcs:review@1', entries, t))).toEqual(want);
    expect(ok(resolveMeeting('outlook:ics-review', entries, t))).toEqual(want);
    expect(ok(resolveMeeting('3f2a9c', entries, t))).toEqual(want);
  });

  it('a virtual room resolves by its id and by the tracking meeting of its conference', () => {
    const t = tracking({ 'weekly-sync': ['vroom'] });
    expect(ok(resolveMeeting('weekly-sync', entries, t))).toEqual({ calendar: 'vroom', tracking: 'weekly-sync' });
    expect(ok(resolveMeeting('vroom', entries, t))).toEqual({ calendar: 'vroom', tracking: 'weekly-sync' });
  });

  it('one side only: the other is null', () => {
    const t = tracking({ 'M-9': ['c0ffee'] });
    expect(ok(resolveMeeting('M-9', entries, t))).toEqual({ calendar: null, tracking: 'M-9' });
    expect(ok(resolveMeeting('standup', entries, t))).toEqual({ calendar: 'tcs:standup@1', tracking: null });
  });

  it('nothing: both null, and what was tried', () => {
    const r = resolveMeeting('ghost', entries, tracking({ 'M-1': ['x'] }));
    expect(ok(r)).toEqual({ calendar: null, tracking: null });
    expect(r.ok && r.tried.join(' ')).toMatch(/calendar between yesterday and tomorrow \(3 meetings and rooms.*meeting tracking/);
  });

  it('two tracking meetings for one calendar meeting: ambiguous, naming both; an exact tracking id is not', () => {
    const t = tracking({ 'M-1': ['review'], 'outlook:ics-review': ['abc'] });
    const r = resolveMeeting('tcs:review@1', entries, t);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.tracking.sort()).toEqual(['M-1', 'outlook:ics-review']);
    expect(r.message).toBe(
      'meeting "tcs:review@1" is ambiguous: it leads to tracking meetings "M-1", "outlook:ics-review"; give the id of one of them',
    );
    expect(ok(resolveMeeting('M-1', entries, t))).toEqual({ calendar: 'tcs:review@1', tracking: 'M-1' });
    // "review" is the conference tracking files under M-1: exact on the tracking side.
    expect(ok(resolveMeeting('review', entries, t))).toEqual({ calendar: 'tcs:review@1', tracking: 'M-1' });
  });

  it('a tracking meeting spanning two calendar meetings (one conference each): ambiguous', () => {
    const t = tracking({ 'M-2': ['review', 'standup'] });
    const r = resolveMeeting('M-2', entries, t);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.calendar.sort()).toEqual(['tcs:review@1', 'tcs:standup@1']);
    // Each calendar meeting alone still leads to the one tracking meeting.
    expect(ok(resolveMeeting('standup', entries, t))).toEqual({ calendar: 'tcs:standup@1', tracking: 'M-2' });
  });

  it('an id that is two calendar meetings (a shared iCalendar UID): ambiguous', () => {
    const a = { ...standup, id: 'outlook:a', sources: [{ source: 'outlook', id: 'a', source_id: 'uid-1' }] };
    const b = { ...standup, id: 'outlook:b', sources: [{ source: 'outlook', id: 'b', source_id: 'uid-1' }] };
    const r = resolveMeeting('uid-1', [a, b], tracking({}));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/calendar meetings "outlook:a", "outlook:b"/);
  });
});
