// POST /hooks/twilio: Twilio's call status callbacks (docs/twilio.md §2.2),
// form-encoded, trusted only with a valid X-Twilio-Signature over
// [twilio] public_url + /hooks/twilio + the query string as received, plus the
// sorted POST parameters (signature.ts). A wrong or missing signature → 403
// and nothing stored. A valid callback goes to tracking.recordDial, filed under
// the meeting (and person) named in the signed query string; the tracking store
// deduplicates repeats by CallSid + CallStatus + SequenceNumber.
import type { FastifyInstance } from 'fastify';
import type { AgentContext } from '../app-context.js';
import { DIAL_STATUSES, type DialStatus, EventInputError, type TrackingFeature } from '../tracking/index.js';
import { AgentError } from '../util/errors.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import type { TwilioConfig } from './config.js';
import { HOOK_PATH } from './dial.js';
import { validTwilioSignature } from './signature.js';

const DEFAULT_MAX_BODY = 16 * 1024;
const STATUSES: ReadonlySet<string> = new Set<string>(DIAL_STATUSES);

/** Why a call ended badly, from the callback's optional fields (null when it says nothing). */
export function failureReason(form: URLSearchParams): string | null {
  const parts: string[] = [];
  const code = form.get('ErrorCode');
  const message = form.get('ErrorMessage');
  if (code || message) parts.push(`Twilio error${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`);
  const sip = form.get('SipResponseCode');
  if (sip) parts.push(`SIP ${sip}`);
  return parts.length ? parts.join(', ').slice(0, 500) : null;
}

/** Twilio's Timestamp (RFC 2822, UTC) as epoch ms, or undefined (then: received now). */
function eventTime(ts: string | null): number | undefined {
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : undefined;
}

export function registerTwilioHook(ctx: AgentContext, cfg: TwilioConfig | undefined): void {
  const noise = new RateLimitedLog(ctx.logger, { clock: ctx.clock });
  const maxBody = cfg?.max_body_bytes ?? DEFAULT_MAX_BODY;
  void ctx.http.register(async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_req, body, done) => done(null, body));

    scope.post(HOOK_PATH, { bodyLimit: maxBody }, async (req, reply) => {
      if (!cfg) return reply.code(503).send({ error: 'Twilio callbacks are off: configure [twilio]' });
      if (!cfg.public_url) return reply.code(503).send({ error: 'Twilio callbacks need [twilio] public_url' });
      const rawUrl = req.raw.url ?? req.url;
      const q = rawUrl.indexOf('?');
      const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
      const signedUrl = `${cfg.public_url.replace(/\/+$/, '')}${HOOK_PATH}${q < 0 ? '' : `?${rawQuery}`}`;
      const type = String(req.headers['content-type'] ?? '').toLowerCase();
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const form = type.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(raw) : new URLSearchParams();
      const header = req.headers['x-twilio-signature'];
      if (!validTwilioSignature(cfg.auth_token, typeof header === 'string' ? header : undefined, signedUrl, [...form])) {
        noise.warn('bad-signature', { remote: req.ip }, 'Twilio callback refused: X-Twilio-Signature missing or wrong');
        return reply.code(403).send({ error: 'X-Twilio-Signature missing or wrong' });
      }
      const tracking = ctx.feature<TrackingFeature>('tracking');
      if (!tracking) return reply.code(503).send({ error: 'meeting tracking is off: add [tracking] to api.toml' });
      const query = new URLSearchParams(rawQuery);
      const meeting = query.get('meeting');
      if (!meeting) return reply.code(400).send({ error: 'the callback URL names no meeting (?meeting=)' });
      const callSid = form.get('CallSid');
      const status = form.get('CallStatus');
      if (!callSid) return reply.code(400).send({ error: 'CallSid missing', field: 'CallSid' });
      if (!status || !STATUSES.has(status)) {
        return reply.code(400).send({ error: `CallStatus: expected one of ${[...STATUSES].join(', ')}`, field: 'CallStatus' });
      }
      try {
        return tracking.service.recordDial({
          meeting,
          call_sid: callSid,
          status: status as DialStatus,
          sequence: form.get('SequenceNumber'),
          person: query.get('person'),
          number: form.get('To'),
          reason: ['busy', 'failed', 'no-answer', 'canceled'].includes(status) ? failureReason(form) : null,
          at: eventTime(form.get('Timestamp')),
        });
      } catch (e) {
        if (e instanceof EventInputError) return reply.code(400).send({ error: e.message, field: e.field });
        if (e instanceof AgentError && e.code === 'INVALID_PARAMS') return reply.code(400).send({ error: e.message });
        throw e;
      }
    });
  });
}
