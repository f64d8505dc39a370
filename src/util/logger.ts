import pino, { type Logger } from 'pino';

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
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
