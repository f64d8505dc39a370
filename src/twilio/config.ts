import { type Static, Type } from '@sinclair/typebox';

const E164 = '^\\+[1-9][0-9]{6,14}$';
const HTTP_URL = '^https?://[^\\s?#]+$';

/**
 * `[twilio]` in api.toml: the Twilio account the agent dials out with
 * (`meetings.dial`) and sends SMS codes with (`identity.issue`). Absent: no
 * dial-out, `POST /hooks/twilio` answers 503. See docs/config.md and docs/twilio.md.
 */
export const TwilioSectionSchema = Type.Object(
  {
    account_sid: Type.String({
      pattern: '^AC[0-9a-fA-F]{32}$',
      description: 'The Twilio Account SID (AC + 32 hex digits): the user name of the REST API requests.',
    }),
    auth_token: Type.String({
      'x-secret': true,
      minLength: 8,
      description:
        "The account's Auth Token (use ${ENV_VAR}): the password of the REST API requests and the key that signs Twilio's callbacks. Never logged or echoed.",
    }),
    from: Type.String({
      pattern: E164,
      description: 'Caller number (E.164, e.g. "+493012345678"): a Twilio number of the account or a verified caller ID.',
    }),
    api_base_url: Type.String({
      pattern: HTTP_URL,
      default: 'https://api.twilio.com',
      description: 'Base URL of the REST API (the part before /2010-04-01); tests point it at a stand-in.',
    }),
    public_url: Type.Optional(
      Type.String({
        pattern: HTTP_URL,
        description:
          "This agent's base URL as Twilio reaches it (through the NAT / reverse proxy), e.g. " +
          '"https://room-101.example.com:8443" or "https://gw.example.com/room-101". The status callback URL is ' +
          'public_url + "/hooks/twilio?meeting=…", and callbacks are verified against it. Without it meetings.dial is refused.',
      }),
    ),
    dial_in_number: Type.Optional(
      Type.String({
        pattern: E164,
        description:
          "The conference's telephone dial-in number (E.164) the dialled person is connected to; meetings.dial may give another.",
      }),
    ),
    dial_in_pin: Type.Optional(
      Type.String({
        'x-secret': true,
        pattern: '^[0-9*#]{1,32}$',
        description:
          'Conference ID / PIN keyed in after the dial-in number answers (digits, * and #); meetings.dial may give another. ' +
          'A secret: never logged, audited or echoed.',
      }),
    ),
    dial_in_digits: Type.String({
      pattern: '^[0-9*#w]*(\\{pin\\}[0-9*#w]*)?$',
      maxLength: 64,
      default: 'wwww{pin}#',
      description:
        'What is keyed in once the dial-in number answers: {pin} is replaced by the PIN, "w" waits half a second ' +
        '(TwiML <Number sendDigits>). Default: wait 2 s, the PIN, then #.',
    }),
    allowed_number_prefixes: Type.Array(Type.String({ pattern: '^\\+[0-9]{1,14}$' }), {
      default: [],
      description:
        'Numbers meetings.dial may call (person or number), by E.164 prefix, e.g. ["+49", "+4330"]; a number outside is ' +
        'refused before Twilio is asked (toll fraud). Empty: any number.',
    }),
    max_dials_per_minute: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description:
        'Calls meetings.dial places per minute at most (all meetings together); more are refused with TOO_MANY_REQUESTS.',
    }),
    ring_timeout_s: Type.Integer({
      minimum: 5,
      maximum: 600,
      default: 60,
      description: 'How long the dialled phone may ring before the call ends as no-answer (Twilio "Timeout").',
    }),
    request_timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 120_000,
      default: 10_000,
      description: 'Deadline of one request to the Twilio REST API.',
    }),
    max_body_bytes: Type.Integer({
      minimum: 1024,
      maximum: 1024 * 1024,
      default: 16 * 1024,
      description: 'Largest status callback accepted on POST /hooks/twilio (413 above it); a callback is about 1 KB.',
    }),
  },
  { additionalProperties: false },
);

export type TwilioConfig = Static<typeof TwilioSectionSchema>;
