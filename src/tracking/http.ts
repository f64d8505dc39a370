// HTTP routes: webhook ingress (/hooks/conference, /hooks/zoom) and the
// read-only meeting API (/api/meetings...).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AgentContext } from '../app-context.js';
import { requireRole } from '../api/auth.js';
import type { Role } from '../config/schema.js';
import { AgentError } from '../util/errors.js';
import { jsonDepth } from '../util/json-depth.js';
import type { TrackingConfig } from './config.js';
import { EventInputError } from './parse.js';
import type { TrackingService } from './service.js';
import { mapZoom, verifyZoom, zoomUrlValidation } from './zoom.js';

export function registerTrackingHttp(ctx: AgentContext, svc: TrackingService, cfg: TrackingConfig): void {
  const guard = (need: Role) => requireRole(ctx.auth, need);

  // Webhooks get the raw body (the Zoom signature is over the exact bytes; we
  // also want our own JSON error messages), in a scope of their own.
  void ctx.http.register(async (hooks: FastifyInstance) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: cfg.max_body_bytes }, (_req, body, done) => done(null, body));

    hooks.post('/hooks/conference', { onRequest: guard('ingest'), bodyLimit: cfg.max_body_bytes }, async (req, reply) => {
      const parsed = parseJson(req.body, cfg.max_json_depth);
      if ('error' in parsed) return reply.code(400).send({ error: parsed.error });
      try {
        return await svc.ingestQueued(svc.validate(parsed.value, 'conference', parsed.text), 'conference');
      } catch (e) {
        return sendError(reply, e);
      }
    });

    hooks.post('/hooks/zoom', { bodyLimit: cfg.max_body_bytes }, async (req, reply) => {
      const secret = cfg.zoom_secret_token;
      if (!secret) return reply.code(503).send({ error: 'zoom webhooks are off: set [tracking] zoom_secret_token' });
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifyZoom(req.headers, raw, secret, ctx.clock.now(), cfg.zoom_max_skew_s);
      if (!check.ok) return reply.code(401).send({ error: check.reason });
      const parsed = parseJson(req.body, cfg.max_json_depth);
      if ('error' in parsed) return reply.code(400).send({ error: parsed.error });
      try {
        const m = mapZoom(parsed.value, ctx.clock.now());
        if (m.kind === 'url_validation') return zoomUrlValidation(m.plainToken, secret);
        if (m.kind === 'ignored') return { accepted: 0, duplicates: 0, ignored: m.event };
        return await svc.ingestQueued(
          m.events.map((ev) => ({ ev, raw: parsed.value })),
          'zoom',
        );
      } catch (e) {
        return sendError(reply, e);
      }
    });
  });

  ctx.http.get('/api/meetings', { onRequest: guard('viewer') }, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    try {
      return { meetings: svc.list(q.from, q.to) };
    } catch (e) {
      return sendError(reply, e);
    }
  });

  ctx.http.get('/api/meetings/:id', { onRequest: guard('viewer') }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, string | undefined>;
    try {
      if (q.at === undefined) {
        // An ended meeting's stored insight goes out as stored: no fold, no re-serialisation.
        const stored = svc.finalJson(id);
        if (stored) return reply.type('application/json; charset=utf-8').send(stored);
      }
      return svc.insight(id, q.at);
    } catch (e) {
      return sendError(reply, e);
    }
  });

  ctx.http.get('/api/meetings/:id/events', { onRequest: guard('viewer') }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit === undefined ? 1000 : Number(q.limit);
    const offset = q.offset === undefined ? 0 : Number(q.offset);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) return reply.code(400).send({ error: 'limit: 1..10000' });
    if (!Number.isInteger(offset) || offset < 0) return reply.code(400).send({ error: 'offset: a non-negative integer' });
    const after = q.after_seq === undefined ? 0 : Number(q.after_seq);
    if (!Number.isSafeInteger(after) || after < 0) return reply.code(400).send({ error: 'after_seq: a non-negative integer' });
    try {
      return { events: svc.events(id, limit, offset, after) };
    } catch (e) {
      return sendError(reply, e);
    }
  });
}

function parseJson(body: unknown, maxDepth: number): { value: unknown; text: string } | { error: string } {
  if (!Buffer.isBuffer(body) || body.length === 0) return { error: 'empty body: expected a JSON event object or array' };
  const text = body.toString('utf8');
  // Refused before parsing: deeper input would overflow the stack of what walks it later,
  // and a 5xx would make the sender retry this batch forever.
  if (jsonDepth(text, maxDepth) > maxDepth) {
    return { error: `JSON nested deeper than ${maxDepth} levels ([tracking] max_json_depth)` };
  }
  try {
    return { value: JSON.parse(text), text };
  } catch (e) {
    return { error: `malformed JSON: ${(e as Error).message}` };
  }
}

function sendError(reply: FastifyReply, e: unknown) {
  if (e instanceof EventInputError) {
    return reply.code(400).send({ error: e.message, index: e.index, field: e.field });
  }
  if (e instanceof AgentError) {
    const code = e.code === 'NOT_FOUND' ? 404 : e.code === 'INVALID_PARAMS' ? 400 : e.code === 'UNAVAILABLE' ? 503 : 500;
    return reply.code(code).send({ error: e.message });
  }
  throw e;
}
