// POST /identity/verify: identity.verify for a central portal, with a token of
// role `identity` (that role reaches nothing else). JSON body {meeting, code,
// participant}; answers 200 with the binding or 4xx with {error, reason}.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AgentContext } from '../app-context.js';
import { requireRole } from '../api/auth.js';
import { compileParams } from '../host/validate.js';
import { trackingMeetingOf } from '../meeting-ids/index.js';
import { AgentError } from '../util/errors.js';
import { jsonDepth } from '../util/json-depth.js';
import type { IdentityConfig } from './config.js';
import { CodeText, MeetingId, ParticipantId } from './rpc.js';
import type { IdentityService } from './service.js';

const VerifyBody = Type.Object(
  { meeting: MeetingId, code: CodeText, participant: ParticipantId },
  { additionalProperties: false },
);

/** HTTP status of each refusal reason. */
const STATUS_OF_REASON: Record<string, number> = {
  wrong_code: 422,
  expired: 410,
  used: 409,
  superseded: 409,
  too_many_attempts: 429,
};

export function registerIdentityHttp(ctx: AgentContext, svc: IdentityService, cfg: IdentityConfig): void {
  const validate = compileParams('body', VerifyBody);
  void ctx.http.register(async (scope: FastifyInstance) => {
    // Our own parser: fastify's and V8's JSON errors quote the body, and the body holds a code.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: cfg.max_body_bytes }, (_req, body, done) => done(null, body));
    scope.post(
      '/identity/verify',
      { onRequest: requireRole(ctx.auth, 'identity'), bodyLimit: cfg.max_body_bytes },
      async (req, reply) => {
        const parsed = parseBody(req.body, cfg.max_json_depth);
        if ('error' in parsed) return reply.code(400).send({ error: parsed.error, reason: 'bad_request' });
        const principal = ctx.auth.fromRequest(req.headers, req.url);
        try {
          const p = validate(parsed.value) as { meeting: string; code: string; participant: string };
          // Either id form (tracking or calendar) names the meeting: src/meeting-ids.
          const meeting = await trackingMeetingOf(ctx, p.meeting);
          return await svc.verify(
            { ...p, meeting },
            { kind: 'api', name: principal?.name ?? 'unknown', detail: `http ${req.ip}` },
          );
        } catch (e) {
          return sendError(reply, e);
        }
      },
    );
  });
}

function parseBody(body: unknown, maxDepth: number): { value: unknown } | { error: string } {
  if (!Buffer.isBuffer(body) || body.length === 0)
    return { error: 'empty body: expected a JSON object {meeting, code, participant}' };
  const text = body.toString('utf8');
  if (jsonDepth(text, maxDepth) > maxDepth)
    return { error: `JSON nested deeper than ${maxDepth} levels ([identity] max_json_depth)` };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { error: 'malformed JSON: expected a JSON object {meeting, code, participant}' };
  }
}

function sendError(reply: FastifyReply, e: unknown) {
  if (!(e instanceof AgentError)) throw e;
  const reason = (e.data as { reason?: string } | undefined)?.reason;
  const status =
    reason !== undefined && STATUS_OF_REASON[reason] !== undefined
      ? STATUS_OF_REASON[reason]
      : e.code === 'NOT_FOUND'
        ? 404
        : e.code === 'INVALID_PARAMS'
          ? 400
          : e.code === 'TOO_MANY_REQUESTS'
            ? 429
            : e.code === 'UNAVAILABLE'
              ? 503
              : 500;
  return reply.code(status).send({ error: e.message, ...(reason ? { reason } : {}) });
}
