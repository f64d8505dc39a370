// In-meeting control endpoints of the TrueConf emulator (paths, bodies and the
// v3 error envelope of the gem's errors/*.json fixtures), from these sources:
// - v3 invite `POST /conferences/{id}/participants {"participant_id"}` answers
//   the participant object under "participant" (teachbase/true-conf
//   lib/true-conf/participant.rb: `invite`, errors 400/403/404; Response.build
//   reads the body's key named after the entity); live list
//   `GET /conferences/{id}/participants` → {"count","participants":[…]}; one live
//   participant `GET /conferences/{id}/participants/{pid}` → {"participant":{…}}
//   (participant.rb `get`, errors 403/404; the reason text for an unknown
//   participant, `participantNotFound`, is [I]).
// - v3 `POST /users/{id}/disconnect` → {"state":"disconnecting"} (gem user.rb
//   `disconnect`, errors 400/403/404; fixture users/disconnect.json). It drops
//   the user's server session: the user leaves EVERY conference, not one.
// - v3 records `GET /conferences/{id}/records` → {"records":[{name,size,created,
//   download_url}]}, `GET …/records/{name}` → {"record":{…}} (fixtures
//   records/list.json, record.json; errors/records/not_found.json).
// - v4 `POST /conferences/{id}/invite {"participants":[…]}`,
//   `POST /conferences/{id}/recordings/start|stop|pause`,
//   `GET /conferences/{id}/recordings[/{rid}]`, participants with filters
//   `is_in_conf, display_name, call_id, page, page_size` (TrueConf/trueconf-server-mcp
//   tools invite_participants.py, start/stop/pause_recording.py,
//   get_conference_participants.py). v4 lists are {"list":[…],"cnt":N}
//   (the MCP's ParticipantListOutput / RecordingListOutput read `list`/`cnt`,
//   "models from OpenAPI schemas"); participant fields id, display_name, flag,
//   duration, join_time, leave_time, app_id, call_id; recording fields id,
//   conference_id, topic, name, owner, size, download_url, started_at, stopped_at.
// - Errors in the v3 envelope {"error":{"code","message","errors":[{reason,
//   message,locationType,location}]}}: conferenceNotFound 404, userNotFound 404
//   (errors/users/not_found.json), recordNotFound 404, forbidden 403
//   (errors/forbidden.json). The v4 MCP reads `error` and `message` from any
//   error body, which this envelope satisfies.
// Marked [I] (our inference, no public source): the 204 answers of the v4
// actions (the MCP ignores their bodies), the 400 `conferenceNotRunning` for
// control of a stopped conference (the gem documents 400 among invite's
// errors but no reason text), the 400 `required` for a missing body field,
// and who may control (the conference owner or a configured operator).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorConference, TcsEmulator } from './simulator.js';

export interface EmulatorParticipant {
  /** Participant (connection) id: v4 `id`, v3 `participant_id`. */
  id: string;
  display_name: string;
  /** TrueConf ID the participant is connected as (v4 `call_id`); defaults to `id`. */
  call_id?: string;
  /** Unix seconds. */
  join_time?: number;
  /** Unix seconds; absent or null while connected. */
  leave_time?: number | null;
}

export interface EmulatorRecording {
  id: number;
  name: string;
  size: number;
  /** Unix seconds. */
  started_at: number;
  /** Unix seconds; null while recording. */
  stopped_at: number | null;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };

/** Answers an error in TrueConf's v3 resource-error envelope (teachbase/true-conf spec/fixtures/errors/not_found.json, forbidden.json). */
export function tcsError(
  reply: FastifyReply,
  code: number,
  reason: string,
  message: string,
  locationType?: string,
  location?: string,
): void {
  const detail: Record<string, string> = { reason, message };
  if (locationType) detail.locationType = locationType;
  if (location) detail.location = location;
  void reply.code(code).send({ error: { code, message: STATUS_TEXT[code] ?? 'Error', errors: [detail] } });
}

/** [I] The reason text for control of a conference that is not running (no public source names it). */
export const NOT_RUNNING = 'conferenceNotRunning';

const bare = (s: unknown) =>
  String(s ?? '')
    .toLowerCase()
    .split('@')[0] ?? '';
const nowS = () => Math.floor(Date.now() / 1000);
const iso = (s: number | null) => (s == null ? null : new Date(s * 1000).toISOString());
const NO_ROUTE = { error: { code: 404, message: 'Not Found', errors: [] } };

export function registerControlRoutes(emu: TcsEmulator): void {
  const { app } = emu;
  let nextRecordingId = 1;

  /** The user's TrueConf ID and display name if the server knows the user, else null. */
  const lookup = (id: string): { uid: string; display_name: string } | null => {
    const b = bare(id);
    if (!b) return null;
    const domain = (c?: EmulatorConference) => String(c?.owner ?? '').split('@')[1] ?? 'tcs.emulator';
    const uid = (d?: string) => (id.includes('@') ? id : `${b}@${d ?? domain(emu.conferences[0])}`);
    const dir = Object.entries(emu.directory).find(([k]) => bare(k) === b);
    if (dir) return { uid: uid(dir[0].split('@')[1]), display_name: dir[1].display_name ?? b };
    for (const c of emu.conferences) {
      const inv = Array.isArray(c.invitations)
        ? (c.invitations as { id?: string; display_name?: string }[]).find((i) => bare(i.id) === b)
        : undefined;
      if (inv) return { uid: uid(String(inv.id).split('@')[1]), display_name: inv.display_name ?? b };
      if (bare(c.owner) === b) return { uid: uid(domain(c)), display_name: b };
    }
    if (Object.keys(emu.users).some((u) => bare(u) === b)) return { uid: uid(), display_name: b };
    return null;
  };

  const canControl = (user: string, c: EmulatorConference) =>
    !emu.readOnlyUsers.includes(user) && (bare(c.owner) === bare(user) || emu.operators.includes(user));

  /** Token, conference and permission checks shared by every control call. */
  const control = (req: FastifyRequest, reply: FastifyReply, only?: 3 | 4) => {
    const v = emu.auth(req, reply);
    if (!v) return null;
    if (only && v.major !== only) {
      void reply.code(404).send(NO_ROUTE);
      return null;
    }
    const c = emu.find(req, reply);
    if (!c) return null;
    if (!canControl(v.user, c)) {
      tcsError(reply, 403, 'forbidden', 'Forbidden');
      return null;
    }
    return { v, c };
  };
  const running = (c: EmulatorConference, reply: FastifyReply) => {
    if (c.state === 'running') return true;
    tcsError(reply, 400, NOT_RUNNING, `Conference '${c.id}' is not running.`, 'path', 'conference_id');
    return false;
  };
  const join = (c: EmulatorConference, who: { uid: string; display_name: string }): EmulatorParticipant => {
    emu.participants[c.id] ??= [];
    const list = emu.participants[c.id] as EmulatorParticipant[];
    const here = list.find((p) => (p.call_id ?? p.id) === who.uid && p.leave_time == null);
    if (here) return here;
    const p = { id: who.uid, call_id: who.uid, display_name: who.display_name, join_time: nowS(), leave_time: null };
    list.push(p);
    return p;
  };
  const inConf = (c: EmulatorConference, p: EmulatorParticipant) => c.state === 'running' && p.leave_time == null;

  app.get('/api/:ver/conferences/:id/participants', async (req, reply) => {
    const v = emu.auth(req, reply);
    if (!v) return reply;
    const c = emu.find(req, reply);
    if (!c) return reply;
    const rows = emu.participants[c.id] ?? [];
    if (v.major === 3) {
      const live = rows.filter((p) => inConf(c, p));
      const list = live.map((p) => ({ participant_id: p.id, display_name: p.display_name, role: 1 }));
      return { count: list.length, participants: list };
    }
    const q = req.query as Record<string, string>;
    let list = rows;
    if (q.is_in_conf === 'true' || q.is_in_conf === 'false')
      list = list.filter((p) => inConf(c, p) === (q.is_in_conf === 'true'));
    if (q.display_name) list = list.filter((p) => p.display_name.toLowerCase().includes(String(q.display_name).toLowerCase()));
    if (q.call_id) list = list.filter((p) => (p.call_id ?? p.id) === q.call_id);
    const size = Math.max(1, Number(q.page_size) || 100);
    const page = Math.max(1, Number(q.page) || 1);
    const out = list.slice((page - 1) * size, page * size).map((p) => ({
      id: p.id,
      call_id: p.call_id ?? p.id,
      display_name: p.display_name,
      flag: 0,
      join_time: iso(p.join_time ?? null),
      leave_time: iso(p.leave_time ?? null),
      duration: p.join_time == null ? 0 : (p.leave_time ?? nowS()) - p.join_time,
    }));
    return { list: out, cnt: list.length };
  });

  app.get('/api/:ver/conferences/:id/participants/:pid', async (req, reply) => {
    const v = emu.auth(req, reply);
    if (!v) return reply;
    if (v.major !== 3) return reply.code(404).send(NO_ROUTE);
    const c = emu.find(req, reply);
    if (!c) return reply;
    const pid = (req.params as { pid: string }).pid;
    const p = (emu.participants[c.id] ?? []).find((x) => inConf(c, x) && (x.id === pid || (x.call_id ?? x.id) === pid));
    if (!p) {
      tcsError(reply, 404, 'participantNotFound', `Participant '${pid}' is not found.`, 'path', 'participant_id');
      return reply;
    }
    return {
      participant: { id: p.id, uid: p.call_id ?? p.id, display_name: p.display_name, join_time: p.join_time, is_owner: false },
    };
  });

  app.post('/api/:ver/conferences/:id/participants', async (req, reply) => {
    const ok = control(req, reply, 3);
    if (!ok) return reply;
    const id = (req.body as { participant_id?: unknown } | null)?.participant_id;
    if (typeof id !== 'string' || !id) {
      tcsError(reply, 400, 'required', 'The participant_id field is required.', 'parameter', 'participant_id');
      return reply;
    }
    if (!running(ok.c, reply)) return reply;
    const who = lookup(id);
    if (!who) {
      tcsError(reply, 404, 'userNotFound', `User '${id}' is not found`, 'parameter', 'participant_id');
      return reply;
    }
    const p = join(ok.c, who);
    return {
      participant: { id: p.id, uid: who.uid, display_name: p.display_name, join_time: p.join_time, is_owner: false },
    };
  });

  app.post('/api/:ver/conferences/:id/invite', async (req, reply) => {
    const ok = control(req, reply, 4);
    if (!ok) return reply;
    const ids = (req.body as { participants?: unknown } | null)?.participants;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string' && x)) {
      tcsError(
        reply,
        400,
        'required',
        'The participants field must be a non-empty list of user ids.',
        'parameter',
        'participants',
      );
      return reply;
    }
    if (!running(ok.c, reply)) return reply;
    const found = (ids as string[]).map((id) => ({ id, who: lookup(id) }));
    const missing = found.find((f) => !f.who);
    if (missing) {
      tcsError(reply, 404, 'userNotFound', `User '${missing.id}' is not found`, 'parameter', 'participants');
      return reply;
    }
    for (const f of found) if (f.who) join(ok.c, f.who);
    return reply.code(204).send();
  });

  app.post('/api/:ver/users/:uid/disconnect', async (req, reply) => {
    const v = emu.auth(req, reply);
    if (!v) return reply;
    if (v.major !== 3) return reply.code(404).send(NO_ROUTE);
    const target = (req.params as { uid: string }).uid;
    const who = lookup(target);
    if (!who) {
      tcsError(reply, 404, 'userNotFound', `User '${target}' is not found`, 'path', 'user_id');
      return reply;
    }
    const isHere = (c: EmulatorConference) =>
      (emu.participants[c.id] ?? []).some((p) => bare(p.call_id ?? p.id) === bare(who.uid) && inConf(c, p));
    const allowed =
      !emu.readOnlyUsers.includes(v.user) &&
      (emu.operators.includes(v.user) || emu.conferences.some((c) => bare(c.owner) === bare(v.user) && isHere(c)));
    if (!allowed) {
      tcsError(reply, 403, 'forbidden', 'Forbidden');
      return reply;
    }
    const at = nowS();
    for (const rows of Object.values(emu.participants))
      for (const p of rows) if (bare(p.call_id ?? p.id) === bare(who.uid) && p.leave_time == null) p.leave_time = at;
    return { state: 'disconnecting' };
  });

  const downloadUrl = (c: EmulatorConference, r: EmulatorRecording, major: number) =>
    `${emu.url}/api/${major === 4 ? 'v4' : 'v3.11'}/conferences/${c.id}/records/${encodeURIComponent(r.name)}/download`;
  const v3Record = (c: EmulatorConference, r: EmulatorRecording) => ({
    name: r.name,
    size: String(r.size),
    created: r.started_at,
    download_url: downloadUrl(c, r, 3),
  });
  const v4Recording = (c: EmulatorConference, r: EmulatorRecording) => ({
    id: r.id,
    conference_id: c.id,
    topic: c.topic,
    name: r.name,
    owner: c.owner,
    size: r.size,
    download_url: downloadUrl(c, r, 4),
    started_at: iso(r.started_at),
    stopped_at: iso(r.stopped_at),
  });
  const readable = (req: FastifyRequest, reply: FastifyReply, only: 3 | 4) => {
    const v = emu.auth(req, reply);
    if (!v) return null;
    if (v.major !== only) {
      void reply.code(404).send(NO_ROUTE);
      return null;
    }
    return emu.find(req, reply);
  };

  app.get('/api/:ver/conferences/:id/records', async (req, reply) => {
    const c = readable(req, reply, 3);
    if (!c) return reply;
    return { records: (emu.recordings[c.id] ?? []).filter((r) => r.stopped_at != null).map((r) => v3Record(c, r)) };
  });
  app.get('/api/:ver/conferences/:id/records/:name', async (req, reply) => {
    const c = readable(req, reply, 3);
    if (!c) return reply;
    const name = (req.params as { name: string }).name;
    const r = (emu.recordings[c.id] ?? []).find((x) => x.name === name && x.stopped_at != null);
    if (!r) {
      tcsError(reply, 404, 'recordNotFound', `Record '${name}' is not found.`, 'path', 'record_id');
      return reply;
    }
    return { record: v3Record(c, r) };
  });
  app.get('/api/:ver/conferences/:id/recordings', async (req, reply) => {
    const c = readable(req, reply, 4);
    if (!c) return reply;
    const list = (emu.recordings[c.id] ?? []).map((r) => v4Recording(c, r));
    return { list, cnt: list.length };
  });
  app.get('/api/:ver/conferences/:id/recordings/:rid', async (req, reply) => {
    const c = readable(req, reply, 4);
    if (!c) return reply;
    const rid = (req.params as { rid: string }).rid;
    const r = (emu.recordings[c.id] ?? []).find((x) => String(x.id) === rid);
    if (!r) {
      tcsError(reply, 404, 'recordNotFound', `Record '${rid}' is not found.`, 'path', 'record_id');
      return reply;
    }
    return v4Recording(c, r);
  });

  for (const action of ['start', 'stop', 'pause'] as const) {
    app.post(`/api/:ver/conferences/:id/recordings/${action}`, async (req, reply) => {
      const ok = control(req, reply, 4);
      if (!ok) return reply;
      if (!running(ok.c, reply)) return reply;
      const id = ok.c.id;
      const state = emu.recordingState[id];
      const open = (emu.recordings[id] ?? []).find((r) => r.stopped_at == null);
      if (action === 'start') {
        if (!open) {
          emu.recordings[id] ??= [];
          const n = nextRecordingId++;
          emu.recordings[id].push({ id: n, name: `${id}_${n}.mp4`, size: 0, started_at: nowS(), stopped_at: null });
        }
        emu.recordingState[id] = 'recording';
      } else if (action === 'pause') {
        if (state === 'recording') emu.recordingState[id] = 'paused';
      } else {
        if (open) {
          open.stopped_at = nowS();
          open.size = 1_048_576;
        }
        delete emu.recordingState[id];
      }
      return reply.code(204).send();
    });
  }
}
