// WS JSON-RPC methods, the `calendar` topic and GET /api/calendar.
import { Type } from '@sinclair/typebox';
import type { AgentContext } from '../app-context.js';
import { requireRole } from '../api/auth.js';
import { AgentError, ERROR_CODES, errorMessage } from '../util/errors.js';
import type { CalendarService } from './service.js';
import { addDays, fromWallClock } from './zone.js';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * "2026-11-23" → local midnight in the room's zone (as `to`: the end of that
 * day); anything else must be an ISO date-time with an offset or Z.
 */
export function parseBound(v: string | undefined, zone: string, isEnd: boolean, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const d = DATE_ONLY.exec(v);
  if (d) {
    const midnight = fromWallClock(
      { year: Number(d[1]), month: Number(d[2]), day: Number(d[3]), hour: 0, minute: 0, second: 0 },
      zone,
    );
    return isEnd ? addDays(midnight, 1, zone) : midnight;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(v) || Number.isNaN(Date.parse(v))) {
    throw new AgentError(
      'INVALID_PARAMS',
      `"${name}" must be a date (YYYY-MM-DD) or an ISO date-time with a zone, got "${v.slice(0, 40)}"`,
    );
  }
  return Date.parse(v);
}

const Bound = Type.String({ maxLength: 40, description: 'YYYY-MM-DD (room time zone) or ISO 8601 date-time with offset.' });

export function registerCalendarApi(ctx: AgentContext, svc: CalendarService): void {
  ctx.rpc.method({
    name: 'calendar.list',
    description: "The room's meetings in [from, to), merged across sources (default: today in the room's time zone).",
    role: 'viewer',
    params: Type.Object({ from: Type.Optional(Bound), to: Type.Optional(Bound) }, { additionalProperties: false }),
    handler: (p) => svc.list(parseBound(p.from, svc.zone, false, 'from'), parseBound(p.to, svc.zone, true, 'to')),
  });
  ctx.rpc.method({
    name: 'calendar.current',
    description: 'The meeting in progress now, or null.',
    role: 'viewer',
    params: Type.Object({}, { additionalProperties: false }),
    handler: () => ({ meeting: svc.current(), ...svc.freshness() }),
  });
  ctx.rpc.method({
    name: 'calendar.next',
    description: 'The next meeting that has not started yet (within 14 days), or null.',
    role: 'viewer',
    params: Type.Object({}, { additionalProperties: false }),
    handler: () => {
      const meeting = svc.next();
      const startsIn = meeting ? Math.round((Date.parse(meeting.start) - ctx.clock.now()) / 1000) : null;
      return { meeting, starts_in_s: startsIn, ...svc.freshness() };
    },
  });
  ctx.rpc.topic({
    name: 'calendar',
    description:
      "Today's merged meetings (type calendar.updated) whenever they change, and meeting.upcoming / meeting.start / meeting.end as they happen.",
    snapshot: () => ({ type: 'calendar.updated', ...svc.todaySnapshot() }),
  });

  ctx.http.get('/api/calendar', { onRequest: requireRole(ctx.auth, 'viewer') }, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    try {
      return await svc.list(parseBound(q.from, svc.zone, false, 'from'), parseBound(q.to, svc.zone, true, 'to'));
    } catch (e) {
      if (e instanceof AgentError && e.code === 'INVALID_PARAMS') {
        return reply.code(400).send({ error: { code: ERROR_CODES.INVALID_PARAMS, message: e.message } });
      }
      ctx.logger.error({ err: errorMessage(e) }, 'GET /api/calendar failed');
      return reply.code(500).send({ error: { code: ERROR_CODES.INTERNAL, message: 'calendar unavailable' } });
    }
  });
}
