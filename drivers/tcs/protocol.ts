// TrueConf Server REST API: pure parsing and mapping (no I/O): v3 integer enums
// vs v4 strings, schedule fields, error envelopes, paging fields. Sources:
// developers.trueconf.com/api/server (token, Conference object fields);
// teachbase/true-conf entity/*.rb and spec/fixtures (v3); TrueConf's official
// bot (v3.3 paging, accessTokenInvalid); TrueConf/trueconf-server-mcp models.py (v4).
import type { CalendarEvent, CalendarPerson, CalendarRoom } from '../../src/calendar/model.js';
import { fromWallClock, toWallClock } from '../../src/calendar/zone.js';

export type ApiVersion = { major: 3; path: string } | { major: 4; path: 'v4' };

/** "v3.11" | "v3" | "v4" → version info; null when unsupported. */
export function parseApiVersion(v: string): ApiVersion | null {
  const m = /^v?(3(?:\.\d+)?|4)$/.exec(v.trim());
  if (!m?.[1]) return null;
  if (m[1] === '4') return { major: 4, path: 'v4' };
  return { major: 3, path: `v${m[1]}` };
}

export interface ConnectionInfo {
  /** Base URL without trailing slash, e.g. https://tcs.example */
  server: string;
  clientId: string;
  user: string;
  password: string;
}

/** Accepted keys (lower case, `_`/`-`/spaces removed) → the field they set. */
const CONNECTION_KEYS: ReadonlyMap<string, 'server' | 'user' | 'password' | 'client_id'> = new Map([
  ['server', 'server'],
  ['url', 'server'],
  ['host', 'server'],
  ['baseurl', 'server'],
  ['user', 'user'],
  ['username', 'user'],
  ['userid', 'user'],
  ['login', 'user'],
  ['password', 'password'],
  ['pwd', 'password'],
  ['clientid', 'client_id'],
  ['client', 'client_id'],
]);

/**
 * Parses `server=https://tcs.example; user=room101; password=…; client_id=…`.
 * Keys are case-insensitive (`Server`, `ClientId`, `client_id` all work);
 * a value may be double-quoted to contain `;` (a `""` inside quotes is one `"`).
 * Errors say where the text is malformed by naming the key before it, never
 * quoting any of the text: an unquoted password with a `;` in it would
 * otherwise show its tail as the "unknown key".
 */
export function parseConnectionString(s: string): ConnectionInfo {
  const fields = new Map<string, string>();
  let previous: string | null = null;
  const where = () => (previous ? `after the value of "${previous}"` : 'at the start');
  const QUOTE_HINT = 'a value containing ";" must be in double quotes';
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /[\s;]/.test(s.charAt(i))) i++;
    if (i >= s.length) break;
    const eq = s.indexOf('=', i);
    if (eq < 0 || s.slice(i, eq).includes(';')) {
      throw new Error(`connectionString: ${where()}: expected key=value (${QUOTE_HINT})`);
    }
    const field = CONNECTION_KEYS.get(
      s
        .slice(i, eq)
        .trim()
        .toLowerCase()
        .replace(/[\s_-]/g, ''),
    );
    if (!field) {
      throw new Error(`connectionString: unknown key ${where()} (keys: server, user, password, client_id; ${QUOTE_HINT})`);
    }
    i = eq + 1;
    while (s.charAt(i) === ' ') i++;
    let value = '';
    if (s.charAt(i) === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`connectionString: unterminated quote in the value of "${field}"`);
        const c = s.charAt(i);
        if (c === '"' && s.charAt(i + 1) === '"') {
          value += '"';
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      while (s.charAt(i) === ' ' || s.charAt(i) === '\t') i++;
      if (i < s.length && s.charAt(i) !== ';') {
        throw new Error(`connectionString: text after the closing quote of "${field}" (expected ";")`);
      }
    } else {
      const end = s.indexOf(';', i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
    }
    if (value !== '') fields.set(field, value);
    previous = field;
  }
  const server = fields.get('server');
  const user = fields.get('user');
  const password = fields.get('password');
  const clientId = fields.get('client_id') ?? 'trueconf_server_users';
  const missing = [!server && 'server', !user && 'user', !password && 'password'].filter(Boolean);
  if (missing.length) throw new Error(`connectionString: missing ${missing.join(', ')}`);
  let base = server as string;
  if (!/^https?:\/\//i.test(base)) base = `https://${base}`;
  try {
    new URL(base);
  } catch {
    throw new Error('connectionString: server is not a valid URL');
  }
  return { server: base.replace(/\/+$/, ''), clientId, user: user as string, password: password as string };
}

export interface TokenInfo {
  accessToken: string;
  /** Seconds; 3600 when the server omits it (what the official MCP client assumes). */
  expiresIn: number;
}

export function parseTokenResponse(body: unknown): TokenInfo {
  const o = asObject(body);
  const token = o?.access_token;
  if (typeof token !== 'string' || !token) throw new Error('token response has no access_token');
  const exp = Number(o?.expires_in);
  return { accessToken: token, expiresIn: Number.isFinite(exp) && exp > 0 ? exp : 3600 };
}

/** The server's reason for a refused token request, e.g. "InvalidCredentials: Invalid username…". */
export function tokenErrorReason(status: number, body: unknown): string {
  const o = asObject(body);
  const parts = [o?.reason, o?.error, o?.error_description].filter((x): x is string => typeof x === 'string' && !!x);
  return parts.length ? [...new Set(parts)].join(': ') : `HTTP ${status}`;
}

/** v3: 403 with errors[].reason accessTokenInvalid; v4 (and some v3 proxies): 401. */
export function isTokenRejected(status: number, body: unknown): boolean {
  if (status === 401) return true;
  if (status !== 403) return false;
  const err = asObject(asObject(body)?.error);
  const errors = Array.isArray(err?.errors) ? err.errors : [];
  return errors.some((e) => asObject(e)?.reason === 'accessTokenInvalid');
}

/** A readable message from a REST error envelope (v3 `{error:{code,message,errors}}` or v4 `{error,message}`). */
export function restErrorMessage(status: number, body: unknown): string {
  const o = asObject(body);
  const err = o?.error;
  if (typeof err === 'string') return `HTTP ${status} ${err}${typeof o?.message === 'string' ? `: ${o.message}` : ''}`;
  const e = asObject(err);
  const first = asObject(Array.isArray(e?.errors) ? e.errors[0] : undefined);
  const reason = typeof first?.reason === 'string' ? ` ${first.reason}` : '';
  const msg = typeof first?.message === 'string' ? first.message : typeof e?.message === 'string' ? e.message : '';
  return `HTTP ${status}${reason}${msg ? `: ${msg}` : ''}`;
}

// ---------------------------------------------------------------- conferences

export type ScheduleKind = 'none' | 'once' | 'week';

export interface Schedule {
  kind: ScheduleKind;
  /** Unix seconds (once: the start; week: the first occurrence or series start, if given). */
  startTime: number | null;
  /** Seconds. */
  duration: number;
  /** week: ISO weekday numbers 1 (Monday) … 7 (Sunday). */
  days: number[];
  /** week: "HH:MM" wall clock. */
  time: string | null;
  /** week: minutes east of UTC the `time` is written in. */
  offsetMinutes: number;
}

export interface Conference {
  id: string;
  topic: string;
  owner: string | null;
  description: string | null;
  state: 'running' | 'stopped' | null;
  url: string | null;
  webclientUrl: string | null;
  invitations: CalendarPerson[];
  schedule: Schedule;
}

const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function parseDays(raw: unknown): number[] {
  if (!Array.isArray(raw)) return [];
  // VideoSDK form: seven 0/1 flags starting on Sunday.
  if (raw.length === 7 && raw.every((x) => x === 0 || x === 1)) {
    return raw.flatMap((x, i) => (x === 1 ? [i === 0 ? 7 : i] : [])).sort((a, b) => a - b);
  }
  const out = new Set<number>();
  for (const d of raw) {
    if (typeof d === 'string') {
      const idx = DAY_NAMES.findIndex((n) => n.startsWith(d.trim().toLowerCase().slice(0, 3)));
      if (idx >= 0) out.add(idx + 1);
    } else if (typeof d === 'number' && d >= 0 && d <= 7) {
      out.add(d === 0 ? 7 : d);
    }
  }
  return [...out].sort((a, b) => a - b);
}

export function parseSchedule(raw: unknown): Schedule {
  const s = asObject(raw) ?? {};
  const t = s.type;
  const kind: ScheduleKind =
    t === 0 || t === 'week' || t === 'weekly' ? 'week' : t === 1 || t === 'once' || t === 'one_time' ? 'once' : 'none';
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN);
  const start = num(s.start_time);
  const duration = num(s.duration);
  const offset = [s.time_offset, s.special_time_offset].map(num).find((x) => Number.isFinite(x));
  return {
    kind,
    startTime: Number.isFinite(start) ? start : null,
    duration: Number.isFinite(duration) && duration > 0 ? duration : 3600,
    days: parseDays(s.days),
    time: typeof s.time === 'string' && /^\d{1,2}:\d{2}/.test(s.time) ? s.time : null,
    offsetMinutes: offset ?? 0,
  };
}

export function parseConference(raw: unknown): Conference | null {
  const o = asObject(raw);
  const id = o?.id;
  if (!o || (typeof id !== 'string' && typeof id !== 'number')) return null;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const inv = Array.isArray(o.invitations) ? o.invitations : [];
  return {
    id: String(id),
    topic: str(o.topic) ?? String(id),
    owner: str(o.owner),
    description: str(o.description),
    state: o.state === 'running' ? 'running' : o.state === 'stopped' ? 'stopped' : null,
    url: str(o.url),
    webclientUrl: str(o.webclient_url),
    invitations: inv
      .map(asObject)
      .filter((x): x is Record<string, unknown> => !!x)
      .map((x) => ({ id: str(x.id) ?? str(x.uid), name: str(x.display_name) })),
    schedule: parseSchedule(o.schedule),
  };
}

export interface ConferencePage {
  conferences: Conference[];
  /** v3 cursor; null when there is no next page. */
  nextPageId: number | string | null;
  /** Rows on the page as sent, before dropping unreadable ones (v4 paging). */
  rawCount: number;
  total: number | null;
}

/** A list page: `{conferences:[…], next_page_id}` (v3), or v4's `{conferences|data|list: […]}` / bare array. */
export function parseConferencePage(body: unknown): ConferencePage {
  const o = asObject(body);
  const rows = Array.isArray(body) ? body : ([o?.conferences, o?.data, o?.list].find(Array.isArray) as unknown[] | undefined);
  if (!rows) throw new Error('conference list: no conferences array in the response');
  const next = o?.next_page_id;
  const total = Number(o?.total ?? o?.cnt);
  return {
    conferences: rows.map(parseConference).filter((c): c is Conference => c !== null),
    nextPageId:
      (typeof next === 'number' && next >= 0) || (typeof next === 'string' && next !== '' && next !== '-1') ? next : null,
    rawCount: rows.length,
    total: Number.isFinite(total) ? total : null,
  };
}

/** Participants of a running conference (v3 `{participants:[…]}`, v4 may wrap in `data`). */
export function parseParticipants(body: unknown): { id: string | null; name: string | null }[] {
  const o = asObject(body);
  const rows = Array.isArray(body) ? body : ([o?.participants, o?.data, o?.list].find(Array.isArray) as unknown[] | undefined);
  if (!rows) throw new Error('participants: no participants array in the response');
  return rows
    .map(asObject)
    .filter((x): x is Record<string, unknown> => !!x)
    .map((x) => {
      const id = x.participant_id ?? x.id ?? x.uid ?? x.call_id;
      const name = x.display_name ?? x.name;
      return { id: typeof id === 'string' ? id : null, name: typeof name === 'string' ? name : null };
    });
}

// ------------------------------------------------------------ expansion

export interface ExpandOptions {
  /** When set, weekly `time` is wall clock in this IANA zone (DST-aware) instead of the fixed `time_offset`. */
  weeklyZone?: string | null;
}

/** Start instants (ms) of a conference's occurrences that overlap [fromMs, toMs). */
export function occurrences(s: Schedule, fromMs: number, toMs: number, opts: ExpandOptions = {}): number[] {
  const dur = s.duration * 1000;
  if (s.kind === 'once') {
    if (s.startTime === null) return [];
    const st = s.startTime * 1000;
    return st < toMs && st + dur > fromMs ? [st] : [];
  }
  if (s.kind !== 'week' || !s.time || !s.days.length) return [];
  const [hh, mm] = s.time.split(':').map(Number) as [number, number];
  const seriesStart = s.startTime !== null ? s.startTime * 1000 : Number.NEGATIVE_INFINITY;
  const out: number[] = [];
  // Walk calendar days in the schedule's own clock, one day before the range to catch overlaps.
  const zone = opts.weeklyZone ?? null;
  const fixed = s.offsetMinutes * 60_000;
  const wallFrom = zone ? toWallClock(fromMs - dur - 86_400_000, zone) : toWallClock(fromMs - dur - 86_400_000 + fixed, 'UTC');
  let day = Date.UTC(wallFrom.year, wallFrom.month - 1, wallFrom.day);
  for (let guard = 0; guard < 4000; guard++, day += 86_400_000) {
    const d = new Date(day);
    const wall = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: hh, minute: mm, second: 0 };
    const start = zone ? fromWallClock(wall, zone) : Date.UTC(wall.year, wall.month - 1, wall.day, hh, mm) - fixed;
    if (start >= toMs) break;
    const iso = ((d.getUTCDay() + 6) % 7) + 1;
    if (!s.days.includes(iso) || start + dur <= fromMs || start < seriesStart - 60_000) continue;
    out.push(start);
  }
  return out;
}

/** Maps conferences to calendar events in [fromMs, toMs) and lists the virtual rooms. */
export function toCalendar(
  confs: Conference[],
  fromMs: number,
  toMs: number,
  opts: ExpandOptions = {},
): { events: CalendarEvent[]; rooms: CalendarRoom[] } {
  const events: CalendarEvent[] = [];
  const rooms: CalendarRoom[] = [];
  for (const c of confs) {
    if (c.schedule.kind === 'none') {
      rooms.push({ id: c.id, title: c.topic, join_url: c.url ?? c.webclientUrl, state: c.state, owner: c.owner });
      continue;
    }
    for (const st of occurrences(c.schedule, fromMs, toMs, opts)) {
      const start = new Date(st).toISOString();
      events.push({
        id: c.schedule.kind === 'once' ? c.id : `${c.id}@${start}`,
        source_id: c.id,
        title: c.topic,
        start,
        end: new Date(st + c.schedule.duration * 1000).toISOString(),
        all_day: false,
        organizer: c.owner,
        invitees: c.invitations,
        join_url: c.url ?? c.webclientUrl,
        location: null,
        state: c.state,
        links: [c.url, c.webclientUrl].filter((x): x is string => !!x),
      });
    }
  }
  return { events, rooms };
}

/** Does the conference belong to this user's calendar (owner or invited)? Ids compare with or without "@server". */
export function involvesUser(c: Conference, userId: string): boolean {
  const bare = (s: string) => s.toLowerCase().split('@')[0];
  const u = bare(userId);
  return (!!c.owner && bare(c.owner) === u) || c.invitations.some((p) => !!p.id && bare(p.id) === u);
}

export function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
