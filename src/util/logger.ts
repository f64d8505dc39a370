import pino, { type Logger } from 'pino';
import { stdoutLogDestination } from './log-destination.js';

/** Keys whose values are secrets wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password',
  'token',
  'secret',
  'access_token',
  'refresh_token',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  '*.access_token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.connectionString',
  'connectionString',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    // Not pino.destination(): its exit flush can spin forever once stdout's reader is gone (log-destination.ts).
    destination ?? stdoutLogDestination(),
  );
}

// A query in a text: from a '?' that is followed by more than a space up to the next white space.
const QUERY_IN_TEXT = /\?(?=\S)\S*/g;

/** A text holding URLs (an error message, a stack) with every query string cut (`?token=` must never reach a log). */
export function withoutQuery(text: string): string {
  return text.replace(QUERY_IN_TEXT, '?…');
}

/** A request URL's path: everything before the first '?'. */
export function pathOf(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
}

/**
 * Serializers for the HTTP server's logger: requests are logged as method and
 * path only (no query, no headers); error messages and stacks lose any query
 * string a framework error quoted (fastify names the URL in some messages).
 */
export const httpLogSerializers: { req: (req: LoggedRequest) => object; err: (e: Error) => object } = {
  req: (req) => ({ method: req.method, path: pathOf(req.url ?? ''), remoteAddress: req.ip }),
  err: (e) => {
    const s = pino.stdSerializers.err(e);
    s.message = withoutQuery(s.message);
    s.stack = withoutQuery(s.stack);
    return s;
  },
};
