// The TrueConf emulator's in-meeting control endpoints against the conformance
// rows (conformance.ts, each citing its source), over real HTTP on loopback:
// v3 invite / participants / user disconnect / records, v4 invite /
// participants with filters / recordings, and every error the sources name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAnswer } from '../../test/support/conformance-http.js';
import { oneTimeConference, tcsTable as T } from './conformance.js';
import { TcsEmulator } from './simulator.js';

const want = (row: keyof typeof T) => {
  const a = parseAnswer(T[row].reply);
  return { status: a.status, body: a.body ? (JSON.parse(a.body) as Record<string, unknown>) : null };
};
/** The row's body with values blanked to their types, for a shape comparison. */
const shape = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? null : typeof v;
};

const listOf = <T = unknown>(body: Record<string, unknown> | null): T[] => (body?.list ?? []) as T[];
const conference = () => ({ ...oneTimeConference(), invitations: [{ id: 'ivanov@tcs.example', display_name: 'Ivanov' }] });

describe('tcs emulator: in-meeting control (v3 and v4)', () => {
  const emu = new TcsEmulator({
    users: { room101: 'pw', guest7: 'pw7', viewer: 'pw8' },
    conferences: [conference(), { ...oneTimeConference(), id: 'other', owner: 'guest7@tcs.example' }],
    directory: { 'petrova@tcs.example': { display_name: 'Petrova' } },
    readOnlyUsers: ['viewer'],
  });
  let base = '';
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    base = await emu.start();
    for (const [username, password] of [
      ['room101', 'pw'],
      ['guest7', 'pw7'],
      ['viewer', 'pw8'],
    ]) {
      const r = await fetch(`${base}/oauth2/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'password', username, password, client_id: 'trueconf_server_users' }),
      });
      tokens[username as string] = ((await r.json()) as { access_token: string }).access_token;
    }
  });
  afterAll(() => emu.stop());

  const v3 = async (method: string, path: string, body?: unknown, who = 'room101') => {
    const r = await fetch(`${base}/api/v3.11${path}${path.includes('?') ? '&' : '?'}access_token=${tokens[who]}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const v4 = async (method: string, path: string, body?: unknown, who = 'room101', token?: string) => {
    const r = await fetch(`${base}/api/v4${path}`, {
      method,
      headers: { authorization: `Bearer ${token ?? tokens[who]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  const ID = '5576502892';
  const setState = (state: string) => {
    const c = emu.conferences.find((x) => x.id === ID);
    if (c) c.state = state;
  };

  it('v3: invite into a stopped conference is 400 not running; after run the participant joins and is listed', async () => {
    setState('stopped');
    const stopped = await v3('POST', `/conferences/${ID}/participants`, { participant_id: 'ivanov' });
    expect(stopped).toEqual(want('not-running-400'));
    expect((await v3('POST', `/conferences/${ID}/run`)).status).toBe(200);
    const invited = await v3('POST', `/conferences/${ID}/participants`, { participant_id: 'ivanov' });
    expect(invited.status).toBe(200);
    expect(shape(invited.body)).toEqual(shape(want('invite-v3-200').body));
    expect(invited.body).toMatchObject({ participant: { id: 'ivanov@tcs.example', display_name: 'Ivanov' } });
    const list = await v3('GET', `/conferences/${ID}/participants`);
    expect(list).toEqual(want('participants-v3-200'));
    const one = await v3('GET', `/conferences/${ID}/participants/${encodeURIComponent('ivanov@tcs.example')}`);
    expect(one.status).toBe(200);
    expect(shape(one.body)).toEqual(shape(want('participant-v3-200').body));
    expect(one.body).toMatchObject({ participant: { id: 'ivanov@tcs.example', display_name: 'Ivanov' } });
    expect(await v3('GET', `/conferences/${ID}/participants/nobody`)).toEqual(want('participant-not-found-404'));
    expect(emu.requests.filter((r) => r.method === 'POST').at(-1)?.body).toEqual({ participant_id: 'ivanov' });
  });

  it('v3: unknown user 404 userNotFound, missing body 400, unknown conference 404, not the owner 403, read-only 403', async () => {
    const nobody = await v3('POST', `/conferences/${ID}/participants`, { participant_id: 'nobody' });
    expect(nobody.status).toBe(404);
    expect(nobody.body).toMatchObject({ error: { code: 404, errors: [{ reason: 'userNotFound', location: 'participant_id' }] } });
    const empty = await v3('POST', `/conferences/${ID}/participants`, {});
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error: { errors: [{ reason: 'required', location: 'participant_id' }] } });
    const missing = await v3('POST', '/conferences/55765028992/participants', { participant_id: 'ivanov' });
    expect(missing).toEqual(want('conference-not-found-404'));
    expect(await v3('POST', `/conferences/${ID}/participants`, { participant_id: 'ivanov' }, 'guest7')).toEqual(
      want('forbidden-403'),
    );
    expect(await v3('POST', `/conferences/${ID}/participants`, { participant_id: 'ivanov' }, 'viewer')).toEqual(
      want('forbidden-403'),
    );
    const v4path = await v3('POST', `/conferences/${ID}/invite`, { participants: ['ivanov'] });
    expect(v4path.status).toBe(404);
  });

  it('v3: disconnect drops the user from every conference; unknown user 404; a stranger 403', async () => {
    expect(await v3('POST', '/users/nobody/disconnect')).toEqual(want('user-not-found-404'));
    expect(await v3('POST', '/users/ivanov/disconnect', undefined, 'guest7')).toEqual(want('forbidden-403'));
    emu.participants.other = [{ id: 'ivanov@tcs.example', display_name: 'Ivanov' }];
    emu.conferences.find((c) => c.id === 'other')!.state = 'running';
    expect(await v3('POST', '/users/ivanov/disconnect')).toEqual(want('disconnect-v3-200'));
    expect(await v3('GET', `/conferences/${ID}/participants`)).toMatchObject({ status: 200, body: { count: 0 } });
    expect(emu.participants.other?.[0]?.leave_time).toEqual(expect.any(Number));
  });

  it('v3: records list and one record, recordNotFound 404; v4 paths are 404 on v3', async () => {
    emu.recordings[ID] = [{ id: 9, name: 'record.mkv', size: 8487982, started_at: 1603399762, stopped_at: 1603400000 }];
    const list = await v3('GET', `/conferences/${ID}/records`);
    expect(list.status).toBe(200);
    expect(shape(list.body)).toEqual(shape(want('records-v3-200').body));
    expect(list.body).toMatchObject({ records: [{ name: 'record.mkv', size: '8487982', created: 1603399762 }] });
    const one = await v3('GET', `/conferences/${ID}/records/record.mkv`);
    expect(one.body).toMatchObject({ record: { name: 'record.mkv' } });
    expect(await v3('GET', `/conferences/${ID}/records/webinar.mkv`)).toEqual(want('record-not-found-404'));
    expect((await v3('POST', `/conferences/${ID}/recordings/start`)).status).toBe(404);
    emu.recordings[ID] = [];
  });

  it('v4: invite (204), participants with is_in_conf / display_name / call_id / paging filters', async () => {
    setState('running');
    const inv = await v4('POST', `/conferences/${ID}/invite`, { participants: ['ivanov', 'petrova@tcs.example'] });
    expect(inv).toEqual(want('invite-v4-204'));
    const all = await v4('GET', `/conferences/${ID}/participants`);
    expect(all.status).toBe(200);
    expect(shape(all.body)).toMatchObject({ cnt: 'number' });
    const inConf = await v4('GET', `/conferences/${ID}/participants?is_in_conf=true`);
    expect(listOf(inConf.body).map(shape)[0]).toEqual((shape(want('participants-v4-200').body) as { list: unknown[] }).list[0]);
    expect(inConf.body).toMatchObject({ cnt: 2 });
    const left = await v4('GET', `/conferences/${ID}/participants?is_in_conf=false`);
    expect(left.body).toMatchObject({ cnt: 1, list: [{ call_id: 'ivanov@tcs.example', leave_time: expect.any(String) }] });
    expect((await v4('GET', `/conferences/${ID}/participants?display_name=petr`)).body).toMatchObject({
      cnt: 1,
      list: [{ display_name: 'Petrova' }],
    });
    expect((await v4('GET', `/conferences/${ID}/participants?call_id=petrova@tcs.example`)).body).toMatchObject({ cnt: 1 });
    const page2 = await v4('GET', `/conferences/${ID}/participants?page=2&page_size=2`);
    expect(page2.body).toMatchObject({ cnt: 3 });
    expect(page2.body?.list).toHaveLength(1);
  });

  it('v4: invite errors — unknown user 404, empty list 400, stopped 400, not the owner 403, v3 path 404', async () => {
    const nobody = await v4('POST', `/conferences/${ID}/invite`, { participants: ['ivanov', 'nobody'] });
    expect(nobody.body).toMatchObject({
      error: { code: 404, errors: [{ reason: 'userNotFound', message: "User 'nobody' is not found" }] },
    });
    expect((await v4('POST', `/conferences/${ID}/invite`, { participants: [] })).status).toBe(400);
    expect(await v4('POST', `/conferences/${ID}/invite`, { participants: ['ivanov'] }, 'guest7')).toEqual(want('forbidden-403'));
    expect((await v4('POST', `/conferences/${ID}/participants`, { participant_id: 'ivanov' })).status).toBe(404);
    expect((await v4('POST', '/users/ivanov/disconnect')).status).toBe(404);
    setState('stopped');
    const stopped = await v4('POST', `/conferences/${ID}/invite`, { participants: ['ivanov'] });
    expect(stopped).toEqual({ ...want('not-running-400') });
    setState('running');
  });

  it('v4: recordings start, pause, start again, stop → one finished recording; stopped conference 400; bad token 401', async () => {
    expect(await v4('POST', `/conferences/${ID}/recordings/start`)).toEqual(want('recording-start-v4-204'));
    expect(emu.recordingState[ID]).toBe('recording');
    expect((await v4('POST', `/conferences/${ID}/recordings/pause`)).status).toBe(204);
    expect(emu.recordingState[ID]).toBe('paused');
    expect((await v4('POST', `/conferences/${ID}/recordings/start`)).status).toBe(204);
    expect(emu.recordingState[ID]).toBe('recording');
    expect((await v4('POST', `/conferences/${ID}/recordings/stop`)).status).toBe(204);
    expect(emu.recordingState[ID]).toBeUndefined();
    const list = await v4('GET', `/conferences/${ID}/recordings`);
    expect(list.body?.cnt).toBe(1);
    expect(shape(list.body)).toEqual(shape(want('recordings-v4-200').body));
    const rid = listOf<{ id: number }>(list.body)[0]?.id;
    expect((await v4('GET', `/conferences/${ID}/recordings/${rid}`)).body).toMatchObject({ id: rid, conference_id: ID });
    expect((await v4('GET', `/conferences/${ID}/recordings/999`)).status).toBe(404);
    expect(await v4('POST', `/conferences/${ID}/recordings/start`, undefined, 'viewer')).toEqual(want('forbidden-403'));
    expect(await v4('POST', `/conferences/${ID}/recordings/start`, undefined, 'room101', 'expired')).toEqual(
      want('token-invalid-v4-401'),
    );
    expect((await v3('GET', `/conferences/${ID}/participants`, undefined, 'room101')).status).toBe(200);
    // stopping the conference ends the session: everyone leaves, a recording in progress is finished
    expect((await v4('POST', `/conferences/${ID}/recordings/start`)).status).toBe(204);
    expect((await v4('POST', `/conferences/${ID}/stop`)).status).toBe(200);
    expect(listOf<{ stopped_at: unknown }>((await v4('GET', `/conferences/${ID}/recordings`)).body).at(-1)?.stopped_at).toEqual(
      expect.any(String),
    );
    expect((await v4('GET', `/conferences/${ID}/participants?is_in_conf=true`)).body).toMatchObject({ cnt: 0 });
    const stopped = await v4('POST', `/conferences/${ID}/recordings/start`);
    expect(stopped.status).toBe(400);
    expect(JSON.stringify(stopped.body)).toContain('conferenceNotRunning');
  });

  it('v3 expired token is 403 accessTokenInvalid on the control paths too', async () => {
    const r = await fetch(`${base}/api/v3.11/conferences/${ID}/participants?access_token=expired`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"participant_id":"ivanov"}',
    });
    expect(r.status).toBe(403);
    expect(JSON.stringify(await r.json())).toContain('"reason":"accessTokenInvalid"');
  });
});
