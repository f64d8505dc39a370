// Meeting-level in-meeting control over WS: meetings.invite / meetings.remove /
// meetings.record. A meeting of the calendar is mapped to its TrueConf Server
// source (device + conference id); an e-mail or a person is mapped to the
// TrueConf user through the meeting's invitee list; the device action then runs
// through the host, so it is audited with the caller as the cause.
import { Type } from '@sinclair/typebox';
import type { AgentContext } from '../app-context.js';
import type { RpcClient } from '../api/rpc.js';
import type { Cause } from '../host/contract.js';
import { AgentError } from '../util/errors.js';
import { calendarMeetingOf } from '../meeting-ids/index.js';
import { type CalendarPerson, type CalendarSnapshot, normalizeTitle, SNAPSHOT_KEY } from './model.js';

/** The driver whose devices take in-meeting control. */
const CONTROL_DRIVER = 'tcs';

const MeetingId = Type.String({
  minLength: 1,
  maxLength: 300,
  description:
    'The meeting, in either form: a meeting of calendar.list (its id, or `<source>:<event id>` of one of its sources), a TrueConf conference id or a virtual room id; or its meeting-tracking id (meetings.list). docs/meeting-control.md, "Which meeting".',
});

/** Where a meeting lives on TrueConf Server. */
export interface ConferenceTarget {
  meeting: string;
  device: string;
  conference: string;
  /** The meeting's invitees as the TrueConf source lists them (TrueConf user ids). */
  tcsInvitees: CalendarPerson[];
  /** Every invitee of the merged meeting (e-mails from other calendars, with names). */
  invitees: CalendarPerson[];
}

const lower = (s: string | null | undefined) => (s ?? '').trim().toLowerCase();
const sameName = (a: string | null, b: string | null) => !!a && !!b && normalizeTitle(a) === normalizeTitle(b);

/**
 * The TrueConf user id for an e-mail or a person, through the invitee lists:
 * an invitee of the TrueConf source with that id; else an invitee of any source
 * with that e-mail (or, for a person, that id or name) whose name is also a
 * TrueConf invitee's name. Null when the list does not link them.
 */
export function resolveInvitee(
  by: 'email' | 'person',
  value: string,
  invitees: readonly CalendarPerson[],
  tcsInvitees: readonly CalendarPerson[],
): string | null {
  const v = lower(value);
  const direct = tcsInvitees.find((p) => lower(p.id) === v || (by === 'person' && sameName(p.name, value)));
  if (direct?.id) return direct.id;
  const matches = invitees.filter((p) => lower(p.id) === v || (by === 'person' && sameName(p.name, value)));
  for (const m of matches) {
    const byId = tcsInvitees.find((t) => !!m.id && lower(t.id) === lower(m.id));
    if (byId?.id) return byId.id;
    const byName = tcsInvitees.filter((t) => sameName(t.name, m.name));
    // Two TrueConf invitees of the same name cannot be told apart: no guess.
    if (byName.length === 1 && byName[0]?.id) return byName[0].id;
  }
  return null;
}

export function registerMeetingControl(ctx: AgentContext): void {
  const isControlDevice = (id: string) => ctx.devices.get(id)?.driver === CONTROL_DRIVER;

  function tcsEventInvitees(device: string, eventId: string): CalendarPerson[] | null {
    const snap = ctx.devices.values(device)[SNAPSHOT_KEY] as CalendarSnapshot | undefined;
    const ev = Array.isArray(snap?.events) ? snap.events.find((e) => e.id === eventId) : undefined;
    return ev ? ev.invitees : null;
  }

  async function target(meeting: string): Promise<ConferenceTarget> {
    // Either id form (calendar or tracking) leads to the calendar meeting: src/meeting-ids.
    const m = await calendarMeetingOf(ctx, meeting);
    const src = m.sources.find((s) => isControlDevice(s.source));
    if (!src) {
      const from = m.sources.map((s) => s.source).join(', ');
      throw new AgentError(
        'INVALID_PARAMS',
        `meeting "${meeting}" is not a TrueConf Server conference (calendar sources: ${from}); in-meeting control needs a ${CONTROL_DRIVER} source`,
      );
    }
    if (m.room) return { meeting: m.id, device: src.source, conference: m.id, tcsInvitees: [], invitees: [] };
    const invitees = [...m.invitees];
    return {
      meeting: m.id,
      device: src.source,
      conference: src.source_id,
      tcsInvitees: tcsEventInvitees(src.source, src.id) ?? invitees,
      invitees,
    };
  }

  const cause = (client: RpcClient, method: string, what: string): Cause => ({
    kind: client.transport === 'mqtt' ? 'mqtt' : 'api',
    name: client.principal.name,
    detail: `${method} ${what} (${client.remote})`.slice(0, 500),
  });

  ctx.rpc.method({
    name: 'meetings.invite',
    description:
      'Invite someone into a running TrueConf meeting: by TrueConf `user_id`, or by `email` / `person` mapped to the TrueConf user ' +
      "through the meeting's invitee list (docs/meeting-control.md). Exactly one of person, user_id, email.",
    role: 'operator',
    params: Type.Object(
      {
        meeting: MeetingId,
        person: Type.Optional(
          Type.String({ minLength: 1, maxLength: 256, description: "An invitee's id or name as the calendar lists it." }),
        ),
        user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'TrueConf user id.' })),
        email: Type.Optional(Type.String({ minLength: 3, maxLength: 256, description: "An invitee's e-mail." })),
      },
      { additionalProperties: false },
    ),
    handler: async (p, client) => {
      const given = (['person', 'user_id', 'email'] as const).filter((k) => p[k] !== undefined);
      if (given.length !== 1) {
        throw new AgentError('INVALID_PARAMS', `give exactly one of person, user_id, email (got ${given.join(', ') || 'none'})`);
      }
      const by = given[0] as 'person' | 'user_id' | 'email';
      const value = p[by] as string;
      const t = await target(p.meeting);
      let userId = value;
      if (by !== 'user_id') {
        const found = resolveInvitee(by, value, t.invitees, t.tcsInvitees);
        if (!found) {
          throw new AgentError(
            'NOT_FOUND',
            `${by === 'email' ? 'e-mail' : 'person'} "${value}" does not lead to a TrueConf user through the invitee list of meeting "${t.meeting}" ` +
              `(${t.tcsInvitees.length} TrueConf invitees); invite by user_id instead`,
          );
        }
        userId = found;
      }
      const how = by === 'user_id' ? `user ${userId}` : `${by} ${value} → user ${userId}`;
      const result = await ctx.host.invoke(
        t.device,
        'invite',
        { id: t.conference, user_id: userId },
        cause(client, 'meetings.invite', `meeting ${t.meeting}: ${how}`),
      );
      return { meeting: t.meeting, device: t.device, resolved_by: by, ...(result as object) };
    },
  });

  ctx.rpc.method({
    name: 'meetings.remove',
    description:
      "Remove a participant from a running TrueConf meeting. On API v3 this ends the user's whole TrueConf session (the only documented call); " +
      'on v4 it is refused as unsupported (docs/meeting-control.md).',
    role: 'operator',
    params: Type.Object(
      {
        meeting: MeetingId,
        participant: Type.String({
          minLength: 1,
          maxLength: 256,
          description: 'Participant id (TrueConf ID, as the insight lists it).',
        }),
      },
      { additionalProperties: false },
    ),
    handler: async (p, client) => {
      const t = await target(p.meeting);
      const result = await ctx.host.invoke(
        t.device,
        'disconnect',
        { id: t.conference, participant: p.participant },
        cause(client, 'meetings.remove', `meeting ${t.meeting}: participant ${p.participant}`),
      );
      return { meeting: t.meeting, device: t.device, ...(result as object) };
    },
  });

  ctx.rpc.method({
    name: 'meetings.record',
    description: 'Switch recording of a running TrueConf meeting on or off (API v4; refused as unsupported on v3).',
    role: 'operator',
    params: Type.Object({ meeting: MeetingId, on: Type.Boolean() }, { additionalProperties: false }),
    handler: async (p, client) => {
      const t = await target(p.meeting);
      const result = await ctx.host.invoke(
        t.device,
        'recording',
        { id: t.conference, on: p.on },
        cause(client, 'meetings.record', `meeting ${t.meeting}: recording ${p.on ? 'on' : 'off'}`),
      );
      return { meeting: t.meeting, device: t.device, ...(result as object) };
    },
  });
}
