// The host side of meeting-id resolution (resolve.ts holds the logic): reads
// the calendar (yesterday to tomorrow) and meeting tracking's store, and turns
// "nothing" and "more than one" into clear JSON-RPC errors.
import type { AgentContext } from '../app-context.js';
import type { CalendarService } from '../calendar/service.js';
import { isInstance } from '../tracking/fold.js';
import type { TrackingFeature } from '../tracking/index.js';
import { AgentError } from '../util/errors.js';
import { type CalendarEntry, calendarForms, type ResolvedMeeting, resolveMeeting, type TrackingFacts } from './resolve.js';

export type { CalendarEntry, ResolvedMeeting } from './resolve.js';

const DAY_MS = 86_400_000;

async function calendarEntries(ctx: AgentContext): Promise<CalendarEntry[]> {
  const cal = ctx.feature<CalendarService>('calendar');
  if (!cal) return [];
  const now = ctx.clock.now();
  const list = await cal.list(now - DAY_MS, now + DAY_MS);
  return [
    ...list.meetings.map((m) => ({ id: m.id, sources: m.sources, room: false, invitees: m.invitees })),
    ...list.rooms.map((r) => ({
      id: r.id,
      sources: [{ source: r.source, id: r.id, source_id: r.id }],
      room: true,
      invitees: [],
    })),
  ];
}

function trackingFacts(ctx: AgentContext): TrackingFacts {
  const store = ctx.feature<TrackingFeature>('tracking')?.service.store;
  if (!store) return { isMeeting: () => false, meetingOfConference: () => undefined, conferencesOf: () => [] };
  const isMeeting = (id: string) => store.meeting(id) !== undefined || store.schedule(id) !== undefined;
  return {
    isMeeting,
    meetingOfConference: (id) => {
      const c = store.conference(id);
      return c?.facts && isInstance(c.facts) && isMeeting(c.meetingKey) ? c.meetingKey : undefined;
    },
    conferencesOf: (m) =>
      store
        .conferencesOf(m)
        .filter(isInstance)
        .map((f) => f.id),
  };
}

/** Resolves a meeting id of either form; throws CONFLICT when ambiguous, NOT_FOUND when it is nothing. */
export async function resolveMeetingId(ctx: AgentContext, given: string): Promise<ResolvedMeeting> {
  const r = resolveMeeting(given, await calendarEntries(ctx), trackingFacts(ctx));
  if (!r.ok) throw new AgentError('CONFLICT', r.message, { reason: 'ambiguous', calendar: r.calendar, tracking: r.tracking });
  if (!r.calendar && r.tracking === null) {
    throw new AgentError('NOT_FOUND', `meeting "${given}" is not known: looked in ${r.tried.join(' and in ')}`);
  }
  return r;
}

/** The calendar meeting or room of an id of either form (for TrueConf control). */
export async function calendarMeetingOf(ctx: AgentContext, given: string): Promise<CalendarEntry> {
  const r = await resolveMeetingId(ctx, given);
  if (r.calendar) return r.calendar;
  const confs = ctx.feature<TrackingFeature>('tracking')?.service.store.conferencesOf(r.tracking as string) ?? [];
  const ids = confs.filter(isInstance).map((f) => f.id);
  throw new AgentError(
    'NOT_FOUND',
    `meeting "${given}" is tracking meeting "${r.tracking}", but no calendar meeting between yesterday and tomorrow is linked to it ` +
      `(neither its id nor its conference ids [${ids.join(', ')}] is a calendar meeting id, <source>:<event id>, conference id or room id)`,
  );
}

/** The tracking meeting id of an id of either form (for dial-out and verification codes). */
export async function trackingMeetingOf(ctx: AgentContext, given: string): Promise<string> {
  const r = await resolveMeetingId(ctx, given);
  if (r.tracking !== null) return r.tracking;
  const forms = r.calendar ? calendarForms(r.calendar) : [given];
  throw new AgentError(
    'NOT_FOUND',
    `meeting "${given}" is calendar ${r.calendar?.room ? 'room' : 'meeting'} "${r.calendar?.id}", but meeting tracking has no meeting linked to it ` +
      `(no tracking meeting or conference with id ${forms.map((f) => `"${f}"`).join(', ')})`,
  );
}
