// Calendar feature factory: sources are the calendar devices (drivers tcs,
// ics); `[calendar]` holds merge and meeting-event settings.
import type { AgentContext, FeatureFactory } from '../app-context.js';
import { AgentError } from '../util/errors.js';
import { registerCalendarApi } from './api.js';
import type { CalendarSection } from './config.js';
import { registerMeetingControl } from './control.js';
import { CalendarService } from './service.js';
import { isIanaZone, systemZone } from './zone.js';

export type { CalendarList, MeetingEvent, MeetingEventType } from './service.js';
export type { Meeting } from './merge.js';
export { CalendarService };

/**
 * What keeps the calendar feature from starting: sources that are not calendar devices, an unknown
 * zone. Paths are key paths in api.toml; the agent refuses to start on any, `check-config` lists them.
 */
export function calendarProblems(
  section: CalendarSection | undefined,
  calendarDevices: readonly string[],
  agentTimezone: string | undefined,
): { path: string[]; message: string }[] {
  if (!section && calendarDevices.length === 0) return [];
  const out: { path: string[]; message: string }[] = [];
  (section?.sources ?? []).forEach((s, i) => {
    if (!calendarDevices.includes(s)) {
      out.push({
        path: ['calendar', 'sources', String(i)],
        message: `"${s}" is not a calendar device; calendar devices: ${calendarDevices.join(', ') || 'none'}`,
      });
    }
  });
  const zone = section?.time_zone ?? agentTimezone;
  if (zone !== undefined && !isIanaZone(zone)) {
    out.push({
      path: section?.time_zone !== undefined ? ['calendar', 'time_zone'] : ['agent', 'timezone'],
      message: `unknown time zone "${zone}" (expected an IANA name such as "Europe/Berlin")`,
    });
  }
  return out;
}

export const createCalendar: FeatureFactory = (ctx: AgentContext) => {
  const section = (ctx.config as { calendar?: CalendarSection }).calendar;
  const calendarDevices = ctx.devices
    .list()
    .filter((d) => d.kind === 'calendar')
    .map((d) => d.id);
  if (!section && calendarDevices.length === 0) return null;
  const [problem] = calendarProblems(section, calendarDevices, ctx.config.agent.timezone);
  if (problem) throw new AgentError('INVALID_PARAMS', `[calendar] ${problem.path.slice(1).join('.')}: ${problem.message}`);
  const sources = section?.sources ?? calendarDevices;
  const zone = section?.time_zone ?? ctx.config.agent.timezone ?? systemZone();
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
  registerMeetingControl(ctx);
  return svc;
};
