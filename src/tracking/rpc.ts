// WS JSON-RPC methods and the `meetings` topic.
import { Type } from '@sinclair/typebox';
import type { AgentContext } from '../app-context.js';
import type { TrackingService } from './service.js';

const Time = Type.Union([Type.String(), Type.Number()], { description: 'ISO 8601 with a zone, or epoch s/ms.' });

export function registerTrackingRpc(ctx: AgentContext, svc: TrackingService): void {
  ctx.rpc.method({
    name: 'meetings.get',
    description: "A meeting's insight now, or as of `at`.",
    role: 'viewer',
    params: Type.Object({ id: Type.String({ minLength: 1 }), at: Type.Optional(Time) }, { additionalProperties: false }),
    handler: (p) => svc.insight(p.id, p.at),
  });
  ctx.rpc.method({
    name: 'meetings.snapshot',
    description:
      "A meeting's insight now with the `epoch` and `seq` of the `meetings` deltas it includes: {epoch, seq, insight}. " +
      'Followers apply the deltas after `seq` to it (docs/mqtt.md, "Meeting insight").',
    role: 'viewer',
    params: Type.Object({ id: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    handler: (p) => svc.followState(p.id),
  });
  ctx.rpc.method({
    name: 'meetings.list',
    description: 'Meetings overlapping [from, to], with status and times.',
    role: 'viewer',
    params: Type.Object({ from: Type.Optional(Time), to: Type.Optional(Time) }, { additionalProperties: false }),
    handler: (p) => ({ meetings: svc.list(p.from, p.to) }),
  });
  ctx.rpc.method({
    name: 'meetings.events',
    description:
      'The raw events of a meeting as received, in event-time order, with receipt time, source and flags. ' +
      'With `after_seq`: only the events stored after that `seq` (what is new since the last answer).',
    role: 'viewer',
    params: Type.Object(
      {
        id: Type.String({ minLength: 1 }),
        limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        offset: Type.Integer({ minimum: 0, default: 0 }),
        after_seq: Type.Optional(
          Type.Integer({ minimum: 0, description: 'Only events whose `seq` is greater (seqs grow in storage order).' }),
        ),
      },
      { additionalProperties: false },
    ),
    handler: (p) => ({ events: svc.events(p.id, p.limit, p.offset, p.after_seq ?? 0) }),
  });
  ctx.rpc.topic({
    name: 'meetings',
    description:
      'Snapshot: {meetings: summaries of the last day}; then, per changed meeting (coalesced), a delta ' +
      '{id, epoch, seq, summary, participants?, removed?, instances?, recordings?, segments?, insight?} ' +
      'to apply to the state from meetings.snapshot (applyMeetingDelta in the client).',
    snapshot: () => svc.snapshot(),
  });
}
