// The TrueConf rows that the driver's control actions read first (GET
// /conferences/{id} on v3 and v4, an unknown id, the v4 conference list; rows
// in conformance.ts, each citing its source) against the emulator over real
// HTTP on loopback. The driver side is conformance-control.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { parseAnswer } from '../../test/support/conformance-http.js';
import { oneTimeConference, tcsTable as T } from './conformance.js';
import type { Row } from './conformance-server.js';
import { TcsEmulator } from './simulator.js';

const ID = '5576502892';
const V3 = '/api/v3.11';
const V4 = '/api/v4';
const TOKEN_PATH = '/oauth2/v1/token';

/** A JSON body with its values blanked to their types, for a shape comparison. */
const shape = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(shape);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? null : typeof v;
};
const rowBody = (row: Row) => JSON.parse(parseAnswer(T[row].reply).body) as unknown;

describe('tcs emulator: the rows the control actions read first (one conference, the v4 list)', () => {
  const emu = new TcsEmulator({ users: { room101: 'pw' }, conferences: [{ ...oneTimeConference(), state: 'running' }] });
  afterAll(() => emu.stop());

  it('GET /conferences/{id} on v3 and v4, an unknown id, the v4 list', async () => {
    const url = await emu.start();
    const grant = { grant_type: 'password', username: 'room101', password: 'pw', client_id: 'trueconf_server_users' };
    const tok = await fetch(`${url}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(grant),
    });
    const token = ((await tok.json()) as { access_token: string }).access_token;
    const get = async (path: string, v4: boolean) => {
      const r = await fetch(`${url}${path}${v4 ? '' : `${path.includes('?') ? '&' : '?'}access_token=${token}`}`, {
        headers: v4 ? { authorization: `Bearer ${token}` } : {},
      });
      return { status: r.status, body: (await r.json()) as unknown };
    };
    const v3 = await get(`${V3}/conferences/${ID}`, false);
    expect(v3.status).toBe(200);
    expect(shape(v3.body)).toMatchObject(shape(rowBody('conference-v3-200')) as object);
    expect(v3.body).toMatchObject({ conference: { id: ID, state: 'running' } });
    const missing = await get(`${V3}/conferences/55765028992`, false);
    expect(missing).toEqual({ status: 404, body: rowBody('conference-get-not-found-404') });
    // v4: the "conference" envelope or a bare object (the row marks which one as [I]; the MCP and the driver read both).
    const v4 = await get(`${V4}/conferences/${ID}`, true);
    expect(v4.status).toBe(200);
    const one = (v4.body as { conference?: unknown }).conference ?? v4.body;
    expect(one).toMatchObject({ id: ID, state: 'running' });
    const list = await get(`${V4}/conferences?page=1&page_size=50`, true);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ conferences: [expect.objectContaining({ id: ID })] });
  });
});
