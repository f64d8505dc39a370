// WS JSON-RPC methods identity.issue and identity.verify (role operator).
import { Type } from '@sinclair/typebox';
import type { AgentContext } from '../app-context.js';
import type { RpcClient } from '../api/rpc.js';
import type { Cause } from '../host/contract.js';
import { trackingMeetingOf } from '../meeting-ids/index.js';
import type { IdentityService } from './service.js';

export const MeetingId = Type.String({
  minLength: 1,
  maxLength: 300,
  description:
    'The meeting, in either form: its meeting-tracking id (meetings.get) or a calendar id (calendar.list id, ' +
    '`<source>:<event id>`, TrueConf conference id, room id). docs/meeting-control.md, "Which meeting".',
});
export const ParticipantId = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'The joiner to bind: its part_uri, Zoom participant uuid or call id, as the insight lists it.',
});
export const CodeText = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'The code as the person read it (spaces and dashes are ignored).',
});

const VerifyResultSchema = Type.Object({
  meeting: Type.String(),
  participant: Type.String(),
  person: Type.String({ description: 'The roster person the participant is now bound to.' }),
  code_id: Type.Integer({ description: 'Which issued code it was (as in the audit rows of identity.issue).' }),
  bound_at: Type.String({ description: 'ISO time of the binding: the insight uses the person from then on.' }),
});

export function causeOf(client: RpcClient): Cause {
  return { kind: client.transport === 'mqtt' ? 'mqtt' : 'api', name: client.principal.name, detail: client.remote };
}

export function registerIdentityRpc(ctx: AgentContext, svc: IdentityService): void {
  ctx.rpc.method({
    name: 'identity.issue',
    description:
      'Sends a person of the meeting roster a numeric verification code by SMS (Twilio) or e-mail (SMTP), to the first ' +
      'phone number or e-mail of their roster contacts. The code is never in the answer. Refusals: NOT_FOUND (meeting, ' +
      'person), INVALID_PARAMS (no contact for the channel; Twilio refused a number), UNAVAILABLE (channel not ' +
      'configured, server unreachable or refusing; data.reason "not_sent" when it was not delivered), ' +
      'TOO_MANY_REQUESTS with data.reason "rate_limited" and data.retry_after_s.',
    role: 'operator',
    params: Type.Object(
      {
        meeting: MeetingId,
        person: Type.String({ minLength: 1, maxLength: 256, description: 'The person as the meeting roster names them.' }),
        channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
      },
      { additionalProperties: false },
    ),
    result: Type.Object({
      code_id: Type.Integer(),
      meeting: Type.String(),
      person: Type.String(),
      channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
      sent_to: Type.String({ description: 'The address it went to, masked (e.g. "a***@example.com", "+49*******23").' }),
      expires_at: Type.String({ description: 'ISO time after which the code is refused as expired.' }),
    }),
    handler: async (p, client) => svc.issue({ ...p, meeting: await trackingMeetingOf(ctx, p.meeting) }, causeOf(client)),
  });
  ctx.rpc.method({
    name: 'identity.verify',
    description:
      'Binds a participant of the meeting to the person a live code of the meeting was sent to; the insight then shows ' +
      'matched_by "code". Refusals: CODE_REFUSED with data.reason "wrong_code", "expired", "used", "superseded" or ' +
      '"too_many_attempts" (each wrong code counts against every live code of the meeting; [identity] max_attempts).',
    role: 'operator',
    params: Type.Object({ meeting: MeetingId, code: CodeText, participant: ParticipantId }, { additionalProperties: false }),
    result: VerifyResultSchema,
    handler: async (p, client) => svc.verify({ ...p, meeting: await trackingMeetingOf(ctx, p.meeting) }, causeOf(client)),
  });
}

export { VerifyResultSchema };
