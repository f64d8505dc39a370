// Calendar feature factory: sources are the calendar devices (drivers tcs,
// ics); `[calendar]` holds merge and meeting-event settings.
import type { AgentContext, FeatureFactory } from '../app-context.js';
import { AgentError } from '../util/errors.js';
import { registerCalendarApi } from './api.js';
import type { CalendarSection } from './config.js';
import { CalendarService } from './service.js';
import { isIanaZone, systemZone } from './zone.js';

export type { CalendarList, MeetingEvent, MeetingEventType } from './service.js';
export type { Meeting } from './merge.js';
export { CalendarService };

export const createCalendar: FeatureFactory = (ctx: AgentContext) => {
  const section = (ctx.config as { calendar?: CalendarSection }).calendar;
  const calendarDevices = ctx.devices
    .list()
    .filter((d) => d.kind === 'calendar')
    .map((d) => d.id);
  if (!section && calendarDevices.length === 0) return null;
  const sources = section?.sources ?? calendarDevices;
  for (const s of sources) {
    if (!calendarDevices.includes(s)) {
      throw new AgentError(
        'INVALID_PARAMS',
        `[calendar] sources: "${s}" is not a calendar device; calendar devices: ${calendarDevices.join(', ') || 'none'}`,
      );
    }
  }
  const zone = section?.time_zone ?? ctx.config.agent.timezone ?? systemZone();
  if (!isIanaZone(zone)) throw new AgentError('INVALID_PARAMS', `[calendar] time_zone: unknown zone "${zone}"`);
  const svc = new CalendarService(
    ctx,
    {
      upcoming_minutes: section?.upcoming_minutes ?? 10,
      stale_after_s: section?.stale_after_s ?? 900,
      keep_days: section?.keep_days ?? 30,
    },
    sources,
    zone,
  );
  registerCalendarApi(ctx, svc);
  return svc;
};
