// Conformance table for the TrueConf Server REST API (v3.11 paths), written
// from TrueConf's documentation and the clients that call the real server
// (SERVICES.md Part A, with its sources), never from our driver or emulator.
// Rows are HTTP answers: "<status>\n<header>: <value>…\n\n<JSON body>".
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TOKEN = 'developers.trueconf.com OAuth2 token (POST /oauth2/v1/token, password grant; example response); SERVICES.md §A.2';
const ERRORS =
  'TrueConf v3 error envelope (teachbase/true-conf fixtures errors/*.json; TrueConf bot get_online.py re-fetches on accessTokenInvalid); SERVICES.md §A.6';
const LIST =
  'TrueConf v3 GET /api/v3.N/conferences → {"conferences": […]} with page_id / next_page_id paging; SERVICES.md §A.3-A.4';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  `${status}\n${Object.entries({ 'content-type': 'application/json', ...headers })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n\n${JSON.stringify(body)}`;

/** A one-time conference starting an hour from `now` (unix seconds, as v3 sends them). */
export function oneTimeConference(now = Date.now()) {
  return {
    id: '5576502892',
    type: 0,
    topic: 'Weekly sync',
    owner: 'room101@tcs.example',
    schedule: { type: 1, start_time: Math.floor(now / 1000) + 3600, time_offset: 0, duration: 3600 },
    url: 'https://tcs.example/c/5576502892',
    webclient_url: 'https://tcs.example/webrtc/5576502892',
    state: 'stopped',
    invitations: [{ id: 'room101@tcs.example', display_name: 'Room 101' }],
  };
}

export const tcsTable = {
  'token-200': {
    id: 'token-200',
    kind: 'handshake',
    cite: `${TOKEN}: {"access_token", "expires_in": 604800, "token_type": "Bearer", "scope"}`,
    send: 'POST /oauth2/v1/token {"grant_type":"password","username":…,"password":…,"client_id":"trueconf_server_users"}',
    reply: json(
      200,
      {
        access_token: 'f7dee810d964f02d54d7930d69e80c561d2a55b7',
        expires_in: 604800,
        token_type: 'Bearer',
        scope: 'conferences conferences:read',
      },
      { 'cache-control': 'no-store' },
    ),
  },
  'token-invalid-grant': {
    id: 'token-invalid-grant',
    kind: 'error',
    cite: `${TOKEN}: wrong credentials → 401 invalid_grant (bshaffer/oauth2-server-php default) with "reason":"InvalidCredentials" (read by TrueConf's own bot)`,
    send: 'POST /oauth2/v1/token',
    reply: json(401, {
      error: 'invalid_grant',
      error_description: 'Invalid username and password combination',
      reason: 'InvalidCredentials',
    }),
  },
  'conferences-200': {
    id: 'conferences-200',
    kind: 'reply',
    cite: `${LIST}; conference object fields (type, topic, owner, schedule{type 1 = once, start_time s, duration s}, url, state)`,
    send: 'GET /api/v3.11/conferences?access_token=…&page_id=0',
    reply: json(200, { conferences: [oneTimeConference()], next_page_id: -1 }),
  },
  'token-expired-403': {
    id: 'token-expired-403',
    kind: 'error',
    cite: `${ERRORS}: an expired or invalid token on v3 is HTTP 403 with error.errors[0].reason "accessTokenInvalid"`,
    send: 'GET /api/v3.11/conferences?access_token=<expired>',
    reply: json(403, {
      error: { code: 403, message: 'Forbidden', errors: [{ reason: 'accessTokenInvalid', message: 'Access token is invalid.' }] },
    }),
  },
  'conference-not-found-404': {
    id: 'conference-not-found-404',
    kind: 'error',
    cite: `${ERRORS}: {"error":{"code":404,"message":"Not Found","errors":[{"reason":"conferenceNotFound",…}]}}`,
    send: 'POST /api/v3.11/conferences/55765028992/run',
    reply: json(404, {
      error: {
        code: 404,
        message: 'Not Found',
        errors: [
          {
            reason: 'conferenceNotFound',
            message: "Conference '55765028992' is not found.",
            locationType: 'path',
            location: 'conference_id',
          },
        ],
      },
    }),
  },
  'run-200': {
    id: 'run-200',
    kind: 'reply',
    cite: 'TrueConf v3 POST /conferences/{id}/run → {"state":"running"} (SERVICES.md §A.5, official bot)',
    send: 'POST /api/v3.11/conferences/5576502892/run',
    reply: json(200, { state: 'running' }),
  },
  'server-error-500': {
    id: 'server-error-500',
    kind: 'error',
    cite: "RFC 9110 §15.6.1 500 Internal Server Error (a server fault, temporary from the client's side)",
    send: 'GET /api/v3.11/conferences?access_token=…',
    reply: json(500, { error: { code: 500, message: 'Internal Server Error' } }),
  },
} satisfies ConformanceTable;

/** Driver cases failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};
