// In-meeting control on TrueConf Server, pure: which request each control is on
// each API version and what a refusal means. No I/O. Sources: v3 — teachbase/true-conf
// lib/true-conf/participant.rb, user.rb, record.rb and its errors/*.json fixtures; v4 —
// TrueConf/trueconf-server-mcp app/mcp/tools/trueconf_server/conferences/*.py (docs/drivers/tcs.md).
import { type ApiVersion, asObject, parseParticipants } from './protocol.js';

export interface ControlRequest {
  method: 'GET' | 'POST';
  /** Under /api/<version>. */
  path: string;
  /** Query values (the token is added by the client). */
  query?: Record<string, string>;
  body?: unknown;
}

/** Why a control failed, as the JSON-RPC error's `data.failure`. */
export type ControlFailure =
  | 'no_such_conference'
  | 'not_running'
  | 'no_such_user'
  | 'not_in_conference'
  | 'no_permission'
  | 'token_invalid'
  | 'unsupported'
  | 'bad_request'
  | 'server_error';

export class ControlError extends Error {
  constructor(
    readonly failure: ControlFailure,
    message: string,
    readonly status: number | null = null,
    readonly reason: string | null = null,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

const enc = encodeURIComponent;

/** GET the conference (both versions): tells "no such conference" and "not running" apart before acting. */
export function conferenceRequest(conferenceId: string): ControlRequest {
  return { method: 'GET', path: `/conferences/${enc(conferenceId)}` };
}

/**
 * Who is in a conference now: v3 `GET …/participants` lists the live session; v4 lists everyone
 * "currently or previously connected" (MCP ParticipantOutput) unless asked for `is_in_conf=true`.
 */
export function participantsRequest(api: ApiVersion, conferenceId: string): ControlRequest {
  const path = `/conferences/${enc(conferenceId)}/participants`;
  return api.major === 4 ? { method: 'GET', path, query: { is_in_conf: 'true' } } : { method: 'GET', path };
}

/** Invite a user into a running conference: v3 `POST …/participants {participant_id}`, v4 `POST …/invite {participants}`. */
export function inviteRequest(api: ApiVersion, conferenceId: string, userId: string): ControlRequest {
  return api.major === 4
    ? { method: 'POST', path: `/conferences/${enc(conferenceId)}/invite`, body: { participants: [userId] } }
    : { method: 'POST', path: `/conferences/${enc(conferenceId)}/participants`, body: { participant_id: userId } };
}

/**
 * The TrueConf user behind a participant id. Participant ids are TrueConf IDs
 * (`login@server`, sometimes with `/instance`); `/users/{id}` takes the login.
 */
export function userOfParticipant(participant: string): string {
  const noInstance = participant.split('/')[0] ?? participant;
  return noInstance.split('@')[0] ?? noInstance;
}

export interface DisconnectPlan {
  /** The live participant list: the participant must be in this conference before acting (the act reaches further). */
  check: ControlRequest;
  act: ControlRequest;
  /** What the act really does, for the answer and the docs. */
  scope: 'server_session';
  user: string;
}

/**
 * v3 has no documented per-conference kick; the only documented call is
 * `POST /users/{id}/disconnect`, which ends the user's whole session on the
 * server (every call of that user, not only this conference). v4 documents none.
 */
export function disconnectPlan(api: ApiVersion, conferenceId: string, participant: string): DisconnectPlan {
  if (api.major === 4) {
    throw new ControlError(
      'unsupported',
      "removing a participant is not supported on TrueConf API v4: neither TrueConf's API docs nor its official clients document a call for it; use api_version v3.N",
    );
  }
  const user = userOfParticipant(participant);
  if (!user) throw new ControlError('bad_request', `participant "${participant}" names no TrueConf user`);
  return {
    check: participantsRequest(api, conferenceId),
    act: { method: 'POST', path: `/users/${enc(user)}/disconnect` },
    scope: 'server_session',
    user,
  };
}

/** Whether the live participant list in `body` holds `participant` (the same TrueConf user, any instance). */
export function participantListed(body: unknown, participant: string): boolean {
  const want = userOfParticipant(participant).toLowerCase();
  let rows: ReturnType<typeof parseParticipants>;
  try {
    rows = parseParticipants(body);
  } catch (e) {
    throw new ControlError('server_error', `disconnect: the participant list could not be read (${(e as Error).message})`);
  }
  return rows.some((p) => !!p.id && userOfParticipant(p.id).toLowerCase() === want);
}

/** Recording on/off: v4 `POST /conferences/{id}/recordings/start|stop`; v3 only lists recordings. */
export function recordingRequest(api: ApiVersion, conferenceId: string, on: boolean): ControlRequest {
  if (api.major !== 4) {
    throw new ControlError(
      'unsupported',
      'recording control is not supported on TrueConf API v3: v3 only lists recordings (GET /conferences/{id}/records); use api_version v4',
    );
  }
  return { method: 'POST', path: `/conferences/${enc(conferenceId)}/recordings/${on ? 'start' : 'stop'}` };
}

/** The recordings of a conference: v3 `GET …/records` (records.rb), v4 `GET …/recordings` (list_recordings.py). */
export function recordingsRequest(api: ApiVersion, conferenceId: string): ControlRequest {
  return { method: 'GET', path: `/conferences/${enc(conferenceId)}/${api.major === 4 ? 'recordings' : 'records'}` };
}

export interface Recording {
  name: string;
  size_bytes: number | null;
  /** v4 `started_at` / `stopped_at` (ISO); null on v3. */
  started_at: string | null;
  stopped_at: string | null;
  /** v3 `created` (unix seconds) as ISO; null on v4. */
  created_at: string | null;
  download_url: string | null;
}

/** Recordings from v3 `{"records": [{name, size (string), created, download_url}]}` or v4 `{"list": [{name, size, started_at, stopped_at, download_url}], "cnt"}`. */
export function parseRecordings(body: unknown): Recording[] {
  const o = asObject(body);
  const rows = [o?.records, o?.list, o?.data].find(Array.isArray) as unknown[] | undefined;
  if (!rows) throw new ControlError('server_error', 'recordings: the answer holds no "records" or "list" array');
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const num = (v: unknown) => {
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
  };
  return rows
    .map(asObject)
    .filter((r): r is Record<string, unknown> => !!r && !!str(r.name))
    .map((r) => {
      const created = num(r.created);
      return {
        name: r.name as string,
        size_bytes: num(r.size),
        started_at: str(r.started_at),
        stopped_at: str(r.stopped_at),
        created_at: created === null ? null : new Date(created * 1000).toISOString(),
        download_url: str(r.download_url),
      };
    });
}

/** `state` of a conference object (v3 and v4 both send "running" / "stopped"). */
export function conferenceState(body: unknown): string | null {
  const o = asObject(body);
  const c = asObject(o?.conference) ?? asObject(o?.data) ?? o;
  return typeof c?.state === 'string' ? c.state : null;
}

/** The server's reason, location and message from a REST error body (v3 envelope or v4 {error, message}). */
export function errorDetail(body: unknown): { reason: string | null; location: string | null; message: string | null } {
  const o = asObject(body);
  if (typeof o?.error === 'string') {
    return { reason: o.error, location: null, message: typeof o.message === 'string' ? o.message : null };
  }
  const e = asObject(o?.error);
  const first = asObject(Array.isArray(e?.errors) ? e.errors[0] : undefined);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return {
    reason: str(first?.reason) ?? str(o?.reason),
    location: str(first?.location),
    message: str(first?.message) ?? str(e?.message) ?? str(o?.message),
  };
}

/** What the conference refusal in `status`/`body` means for a control on `what` (a user or a participant). */
export function classifyRefusal(status: number, body: unknown, what: 'user' | 'participant' | 'conference'): ControlFailure {
  const { reason, location } = errorDetail(body);
  const r = (reason ?? '').toLowerCase();
  const loc = (location ?? '').toLowerCase();
  if (status === 401 || r === 'accesstokeninvalid') return 'token_invalid';
  if (status === 403) return 'no_permission';
  if (/notrunning|not_running|notstarted|not_started|stopped|notactive|not_active/.test(r)) return 'not_running';
  if (status === 404) {
    if (r.startsWith('conference') || loc === 'conference_id') return 'no_such_conference';
    if (r.startsWith('participant') || loc === 'participant_id') return what === 'user' ? 'no_such_user' : 'not_in_conference';
    if (r.startsWith('user') || loc === 'user_id' || loc === 'login_name') return 'no_such_user';
    return what === 'conference' ? 'no_such_conference' : what === 'user' ? 'no_such_user' : 'not_in_conference';
  }
  if (status === 409) return 'not_running';
  if (status >= 500) return 'server_error';
  return 'bad_request';
}

const FAILURE_TEXT: Record<ControlFailure, string> = {
  no_such_conference: 'no such conference',
  not_running: 'the conference is not running',
  no_such_user: 'no such user',
  not_in_conference: 'the participant is not in the conference',
  no_permission: "the agent's TrueConf account has no permission for this",
  token_invalid: "TrueConf rejected the agent's token",
  unsupported: 'not supported',
  bad_request: 'the server refused the request',
  server_error: 'the server failed',
};

/** A ControlError for a refusal, naming what failed and the server's own words (never a token). */
export function refusal(failure: ControlFailure, action: string, status: number, body: unknown, subject: string): ControlError {
  const { reason, message } = errorDetail(body);
  const server = [reason, message].filter(Boolean).join(': ');
  const text = `${action}: ${FAILURE_TEXT[failure]} (${subject}; HTTP ${status}${server ? ` ${server.slice(0, 200)}` : ''})`;
  return new ControlError(failure, text, status, reason);
}
