// The HTTP server's last word on a thrown error. A client's mistake that
// fastify caught (body too large, unsupported type, bad framing) is answered
// with its 4xx and the reason, and not logged; anything else is our fault: a
// 500 without internals, logged rate limited with the path but never the query.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { pathOf } from './logger.js';
import type { RateLimitedLog } from './rate-limited-log.js';

export function httpErrorHandler(log: RateLimitedLog) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send({ error: err.message });
    const route = `${req.method} ${req.routeOptions.url ?? '(no route)'}`;
    log.error(route, { route, path: pathOf(req.url), err }, 'HTTP request failed');
    return reply.code(status).send({ error: 'internal error (logged on the agent)' });
  };
}

/** 404 naming method and path only: fastify's own echoes the whole URL, `?token=` included. */
export function httpNotFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: `no route ${req.method} ${pathOf(req.url)}` });
}

/**
 * Errors fastify raises before routing (a path that is not valid percent-encoding, a failed
 * constraint): 400 naming method and path only — fastify's default answer quotes the URL, query included.
 */
export function httpFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  const what = err.code === 'FST_ERR_BAD_URL' ? 'bad URL: the path is not valid percent-encoding' : 'bad request';
  return reply.code(400).send({ error: `${what} (${req.method} ${pathOf(req.url)})` });
}
