// Conformance table for the TrueConf Server REST API (v3.11 paths), written
// from TrueConf's documentation and the clients that call the real server
// (each row names its source), never from our driver or emulator.
// Rows are HTTP answers: "<status>\n<header>: <value>…\n\n<JSON body>".
import type { ConformanceTable, KnownGap } from '../../test/support/conformance.js';

const TOKEN = 'developers.trueconf.com OAuth2 token (POST /oauth2/v1/token, password grant; example response)';
const ERRORS =
  'TrueConf v3 error envelope (teachbase/true-conf fixtures errors/*.json; TrueConf bot get_online.py re-fetches on accessTokenInvalid)';
const LIST =
  'TrueConf v3 GET /api/v3.N/conferences → {"conferences": […]} (conferences array read by third-party clients); page_id / next_page_id paging as TrueConf\'s official bot pages /api/v3.3/users (assumed the same for /conferences: [I])';

const CONTROL =
  'TrueConf in-meeting control: v3 teachbase/true-conf lib/true-conf/participant.rb, user.rb, record.rb and spec/fixtures; v4 TrueConf/trueconf-server-mcp app/mcp/tools/trueconf_server/conferences/*.py and app/_client_api/_trueconf_server/models.py';
const INFERRED = '[I] our inference, no public source gives it';

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

/** The same conference in v4's form (mode, schedule.type "once"; MCP models.py ConferenceCreate / ConferenceOutput). */
export function oneTimeConferenceV4(now = Date.now()) {
  const c = oneTimeConference(now);
  return {
    id: c.id,
    topic: c.topic,
    owner: c.owner,
    mode: 'PxP',
    access: 'private',
    schedule: { type: 'once', start_time: c.schedule.start_time, duration: c.schedule.duration },
    url: c.url,
    web_client_url: c.webclient_url,
    state: 'stopped',
    invitations: c.invitations,
  };
}

const GET_ONE =
  'TrueConf GET /conferences/{id}: v3 answers {"conference": {…}} (teachbase/true-conf conference.rb `get`, spec/fixtures/conferences/conference.json; state "running" | "stopped"); v4 get_conference.py validates the answer with ConferenceOutput, whose _unwrap_envelope reads a "conference" envelope (or a bare object) and aliases status ← state';

/** errors/not_found.json for the unknown conference 55765028992: the answer to run and to GET /conferences/{id}. */
const CONFERENCE_NOT_FOUND = json(404, {
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
});

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
    reply: CONFERENCE_NOT_FOUND,
  },
  'run-200': {
    id: 'run-200',
    kind: 'reply',
    cite: 'TrueConf v3 POST /conferences/{id}/run → {"state":"running"} (TrueConf\'s official Telegram bot for TrueConf Server, run/stop handlers; teachbase/true-conf conference.rb)',
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
  'conference-v3-200': {
    id: 'conference-v3-200',
    kind: 'reply',
    cite: `${GET_ONE}; a running conference`,
    send: 'GET /api/v3.11/conferences/5576502892?access_token=…',
    reply: json(200, { conference: { ...oneTimeConference(), state: 'running' } }),
  },
  'conference-stopped-v3-200': {
    id: 'conference-stopped-v3-200',
    kind: 'reply',
    cite: `${GET_ONE}; a stopped conference (state "stopped", the fixture's own value)`,
    send: 'GET /api/v3.11/conferences/5576502892?access_token=…',
    reply: json(200, { conference: oneTimeConference() }),
  },
  'conference-get-not-found-404': {
    id: 'conference-get-not-found-404',
    kind: 'error',
    cite: `${ERRORS}: errors/not_found.json (reason "conferenceNotFound", location "conference_id") as the answer to GET /conferences/{id} of an unknown id (conference.rb lists 404 for \`get\`)`,
    send: 'GET /api/v3.11/conferences/55765028992?access_token=…',
    reply: CONFERENCE_NOT_FOUND,
  },
  'conferences-v4-200': {
    id: 'conferences-v4-200',
    kind: 'reply',
    cite: `${CONTROL}: v4 GET /conferences?after=&before=&page=&page_size= (list_conferences.py, ConferenceSearchFilters) → ConferenceListOutput {"conferences":[…], "results":N} (total aliased from "results"); conference fields mode, schedule{type "once", start_time s, duration s}, state`,
    send: 'GET /api/v4/conferences?after=…&before=…&page=1&page_size=… (Bearer)',
    reply: json(200, { conferences: [oneTimeConferenceV4()], results: 1 }),
  },
  'conference-v4-200': {
    id: 'conference-v4-200',
    kind: 'reply',
    cite: `${GET_ONE}; on v4 whether the server wraps it in "conference" or sends it bare is ${INFERRED} (the MCP reads both; so does the driver)`,
    send: 'GET /api/v4/conferences/5576502892 (Bearer)',
    reply: json(200, { conference: { ...oneTimeConferenceV4(), state: 'running' } }),
  },
  'invite-v3-200': {
    id: 'invite-v3-200',
    kind: 'reply',
    cite: `${CONTROL}: v3 POST /conferences/{id}/participants {"participant_id"} answers the participant under "participant" (gem Response.build reads the key named after Entity::Participant: id, uid, display_name, join_time, is_owner)`,
    send: 'POST /api/v3.11/conferences/5576502892/participants?access_token=… {"participant_id":"ivanov"}',
    reply: json(200, {
      participant: {
        id: 'ivanov@tcs.example',
        uid: 'ivanov@tcs.example',
        display_name: 'Ivanov',
        join_time: 1765000000,
        is_owner: false,
      },
    }),
  },
  'participants-v3-200': {
    id: 'participants-v3-200',
    kind: 'reply',
    cite: `${CONTROL}: v3 GET /conferences/{id}/participants; list envelope {"count","participants":[{participant_id, display_name, role}]} as the official bot reads conference-sessions participants (TrueConf Telegram bot for TrueConf Server)`,
    send: 'GET /api/v3.11/conferences/5576502892/participants?access_token=…',
    reply: json(200, { count: 1, participants: [{ participant_id: 'ivanov@tcs.example', display_name: 'Ivanov', role: 1 }] }),
  },
  'participant-v3-200': {
    id: 'participant-v3-200',
    kind: 'reply',
    cite: `${CONTROL}: v3 GET /conferences/{id}/participants/{pid} (participant.rb \`get\`) answers the participant under "participant", as invite does`,
    send: 'GET /api/v3.11/conferences/5576502892/participants/ivanov%40tcs.example?access_token=…',
    reply: json(200, {
      participant: {
        id: 'ivanov@tcs.example',
        uid: 'ivanov@tcs.example',
        display_name: 'Ivanov',
        join_time: 1765000000,
        is_owner: false,
      },
    }),
  },
  'participant-not-found-404': {
    id: 'participant-not-found-404',
    kind: 'error',
    cite: `${ERRORS}: participant.rb lists 404 for \`get\`; the reason text "participantNotFound" is ${INFERRED} (built like conferenceNotFound / userNotFound)`,
    send: 'GET /api/v3.11/conferences/5576502892/participants/nobody?access_token=…',
    reply: json(404, {
      error: {
        code: 404,
        message: 'Not Found',
        errors: [
          {
            reason: 'participantNotFound',
            message: "Participant 'nobody' is not found.",
            locationType: 'path',
            location: 'participant_id',
          },
        ],
      },
    }),
  },
  'disconnect-v3-200': {
    id: 'disconnect-v3-200',
    kind: 'reply',
    cite: `${CONTROL}: POST /users/{id}/disconnect → {"state":"disconnecting"} (fixture users/disconnect.json); it ends the user's server session, so the user leaves every conference`,
    send: 'POST /api/v3.11/users/ivanov/disconnect?access_token=…',
    reply: json(200, { state: 'disconnecting' }),
  },
  'records-v3-200': {
    id: 'records-v3-200',
    kind: 'reply',
    cite: `${CONTROL}: GET /conferences/{id}/records → {"records":[{name, size (a string), created (unix s), download_url}]} (fixture records/list.json)`,
    send: 'GET /api/v3.11/conferences/5576502892/records?access_token=…',
    reply: json(200, {
      records: [
        {
          name: 'record.mkv',
          size: '8487982',
          created: 1603399762,
          download_url: 'https://tcs.example/api/v3/conferences/5576502892/records/record.mkv/download',
        },
      ],
    }),
  },
  'invite-v4-204': {
    id: 'invite-v4-204',
    kind: 'reply',
    cite: `${CONTROL}: v4 POST /conferences/{id}/invite {"participants":["u1","u2"]} (invite_participants.py, which ignores the body of a success); 204 with no body is ${INFERRED}`,
    send: 'POST /api/v4/conferences/5576502892/invite (Bearer) {"participants":["ivanov"]}',
    reply: '204\n\n',
  },
  'participants-v4-200': {
    id: 'participants-v4-200',
    kind: 'reply',
    cite: `${CONTROL}: v4 GET /conferences/{id}/participants?is_in_conf=&display_name=&call_id=&page=&page_size= (get_conference_participants.py) → {"list":[{id, display_name, flag, duration, join_time, leave_time, app_id, call_id}],"cnt":N} (ParticipantListOutput aliases list/cnt)`,
    send: 'GET /api/v4/conferences/5576502892/participants?is_in_conf=true (Bearer)',
    reply: json(200, {
      list: [
        {
          id: 'ivanov@tcs.example',
          call_id: 'ivanov@tcs.example',
          display_name: 'Ivanov',
          flag: 0,
          join_time: '2026-12-06T07:00:00.000Z',
          leave_time: null,
          duration: 60,
        },
      ],
      cnt: 1,
    }),
  },
  'recording-start-v4-204': {
    id: 'recording-start-v4-204',
    kind: 'reply',
    cite: `${CONTROL}: v4 POST /conferences/{id}/recordings/start (start_recording.py; stop_recording.py and pause_recording.py are the same form); 204 with no body is ${INFERRED}`,
    send: 'POST /api/v4/conferences/5576502892/recordings/start (Bearer)',
    reply: '204\n\n',
  },
  'recordings-v4-200': {
    id: 'recordings-v4-200',
    kind: 'reply',
    cite: `${CONTROL}: v4 GET /conferences/{id}/recordings → {"list":[{id, conference_id, topic, name, owner, size, download_url, started_at, stopped_at}],"cnt":N} (RecordingListOutput, RecordingOutput)`,
    send: 'GET /api/v4/conferences/5576502892/recordings (Bearer)',
    reply: json(200, {
      list: [
        {
          id: 1,
          conference_id: '5576502892',
          topic: 'Weekly sync',
          name: '5576502892_1.mp4',
          owner: 'room101@tcs.example',
          size: 1048576,
          download_url: 'https://tcs.example/api/v4/conferences/5576502892/records/5576502892_1.mp4/download',
          started_at: '2026-12-06T07:00:00.000Z',
          stopped_at: '2026-12-06T07:30:00.000Z',
        },
      ],
      cnt: 1,
    }),
  },
  'user-not-found-404': {
    id: 'user-not-found-404',
    kind: 'error',
    cite: `${ERRORS}: errors/users/not_found.json {"reason":"userNotFound","message":"User 'user' is not found","locationType":"path","location":"user_id"} (invite names the body field as location: ${INFERRED})`,
    send: 'POST /api/v3.11/users/nobody/disconnect?access_token=…',
    reply: json(404, {
      error: {
        code: 404,
        message: 'Not Found',
        errors: [{ reason: 'userNotFound', message: "User 'nobody' is not found", locationType: 'path', location: 'user_id' }],
      },
    }),
  },
  'forbidden-403': {
    id: 'forbidden-403',
    kind: 'error',
    cite: `${ERRORS}: errors/forbidden.json {"error":{"code":403,"message":"Forbidden","errors":[{"reason":"forbidden","message":"Forbidden"}]}}; the gem lists 403 for invite, disconnect and records; who may control (owner or operator) is ${INFERRED}`,
    send: 'POST /api/v3.11/conferences/5576502892/participants?access_token=<not the owner> {"participant_id":"ivanov"}',
    reply: json(403, { error: { code: 403, message: 'Forbidden', errors: [{ reason: 'forbidden', message: 'Forbidden' }] } }),
  },
  'not-running-400': {
    id: 'not-running-400',
    kind: 'error',
    cite: `${ERRORS}: the gem lists 400 among invite's answers (participant.rb); the reason text "conferenceNotRunning" for a stopped conference is ${INFERRED} — match on status and envelope, not on the reason`,
    send: 'POST /api/v3.11/conferences/5576502892/participants?access_token=… {"participant_id":"ivanov"} (conference stopped)',
    reply: json(400, {
      error: {
        code: 400,
        message: 'Bad Request',
        errors: [
          {
            reason: 'conferenceNotRunning',
            message: "Conference '5576502892' is not running.",
            locationType: 'path',
            location: 'conference_id',
          },
        ],
      },
    }),
  },
  'record-not-found-404': {
    id: 'record-not-found-404',
    kind: 'error',
    cite: `${ERRORS}: errors/records/not_found.json {"reason":"recordNotFound","message":"Record 'webinar.mkv' is not found.","locationType":"path","location":"record_id"}`,
    send: 'GET /api/v3.11/conferences/5576502892/records/webinar.mkv?access_token=…',
    reply: json(404, {
      error: {
        code: 404,
        message: 'Not Found',
        errors: [
          {
            reason: 'recordNotFound',
            message: "Record 'webinar.mkv' is not found.",
            locationType: 'path',
            location: 'record_id',
          },
        ],
      },
    }),
  },
  'token-invalid-v4-401': {
    id: 'token-invalid-v4-401',
    kind: 'error',
    cite: 'TrueConf v4 (trueconf-server-mcp): an invalid or expired token is 401; the MCP client (app/mcp/__init__.py _request) refreshes and retries once on 401 and reads `error` and `message`',
    send: 'POST /api/v4/conferences/5576502892/recordings/start (Bearer <expired>)',
    reply: json(401, { error: 'invalid_token', message: 'The access token provided is invalid or has expired' }),
  },
} satisfies ConformanceTable;

/** Driver cases failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownDriverGaps: Record<string, KnownGap> = {};

/** Control cases (conformance-control.test.ts) failing today; the runner asserts they still fail. Remove an entry when fixed. */
export const knownControlGaps: Record<string, KnownGap> = {};
