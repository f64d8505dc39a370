// `[identity]` and `[identity.smtp]` in api.toml: verification codes that tie a
// meeting joiner to a person of the meeting's roster (docs/tracking.md).
import { type Static, Type } from '@sinclair/typebox';

export const SmtpSectionSchema = Type.Object(
  {
    server: Type.String({ minLength: 1, description: 'SMTP server host name or address.' }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65_535,
      default: 587,
      description: '587 (submission, STARTTLS when the server offers it), 465 with secure = true, 25.',
    }),
    secure: Type.Boolean({
      default: false,
      description: 'true: TLS from the first byte (port 465). false: plain, upgraded by STARTTLS when offered.',
    }),
    require_tls: Type.Boolean({
      default: false,
      description: 'Refuse to send unless the server upgrades the connection with STARTTLS (with secure = false).',
    }),
    reject_unauthorized: Type.Boolean({
      default: true,
      description: 'false accepts any server certificate (testing only).',
    }),
    user: Type.Optional(Type.String({ minLength: 1, description: 'SMTP AUTH user name (no AUTH without it).' })),
    password: Type.Optional(Type.String({ 'x-secret': true, description: 'SMTP AUTH password; use ${ENV_VAR}. Never logged.' })),
    from: Type.String({
      minLength: 3,
      description: 'Sender of the code e-mails, e.g. "Room 101 <room101@example.com>".',
    }),
    timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 300_000,
      default: 15_000,
      description: 'Deadline for connecting, greeting and each SMTP command; a slower server fails the issue.',
    }),
  },
  { additionalProperties: false, description: 'The mail server that sends e-mailed codes.' },
);

export const IdentitySectionSchema = Type.Object(
  {
    code_length: Type.Integer({
      minimum: 4,
      maximum: 12,
      default: 6,
      description: 'Digits in a verification code.',
    }),
    code_ttl_s: Type.Integer({
      minimum: 30,
      maximum: 86_400,
      default: 900,
      description: 'A code expires this many seconds after it was issued.',
    }),
    max_attempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 5,
      description:
        'Wrong codes a live code survives: every wrong code entered for a meeting counts against each live code of it; ' +
        'from the attempt after that the code is refused (too_many_attempts), even the right one.',
    }),
    issue_window_s: Type.Integer({
      minimum: 60,
      maximum: 86_400,
      default: 3600,
      description: 'The window the issue rate limits count in (sliding).',
    }),
    max_issues_per_meeting: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 20,
      description: 'Codes issued for one meeting within issue_window_s; more are refused (rate_limited).',
    }),
    max_issues_per_person: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'Codes issued to one person of one meeting within issue_window_s; more are refused (rate_limited).',
    }),
    send_timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 300_000,
      default: 15_000,
      description: 'Deadline for handing an SMS to the Twilio Messages API (instead of [twilio] request_timeout_ms).',
    }),
    max_body_bytes: Type.Integer({
      minimum: 256,
      maximum: 1024 * 1024,
      default: 16 * 1024,
      description: 'Largest body of POST /identity/verify (413 above it).',
    }),
    max_json_depth: Type.Integer({
      minimum: 2,
      maximum: 64,
      default: 8,
      description: 'Deepest nesting of POST /identity/verify bodies (400 above it).',
    }),
    smtp: Type.Optional(SmtpSectionSchema),
  },
  {
    additionalProperties: false,
    description:
      'Verification codes (identity.issue / identity.verify, POST /identity/verify); needs [tracking]. ' +
      'E-mail needs [identity.smtp], SMS needs [twilio].',
  },
);

export type IdentityConfig = Static<typeof IdentitySectionSchema>;
export type SmtpConfig = Static<typeof SmtpSectionSchema>;
