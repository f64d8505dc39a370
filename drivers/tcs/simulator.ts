// A TrueConf Server emulator (fastify) speaking the REST API as TrueConf's
// documentation and official clients show it (docs/drivers/tcs.md, Conformance): password-grant tokens from JSON or form bodies, v3
// (`?access_token=`, 403 accessTokenInvalid, page_id/next_page_id) and v4
// (Bearer, 401, page/page_size, after/before), run/stop/participants.
// Used by the tests and by `simulated = true` devices. Faults are injected
// one request at a time so tests can script a server's bad day. The
// in-meeting control endpoints (invite, participants with filters, user
// disconnect, recordings) live in simulator-control.ts, written from
// TrueConf's public clients (teachbase/true-conf, trueconf-server-mcp), never from our driver.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type EmulatorParticipant, type EmulatorRecording, registerControlRoutes, tcsError } from './simulator-control.js';

export interface EmulatorConference {
  id: string;
  [key: string]: unknown;
}

export interface EmulatorFault {
  /** Only requests whose path (no query) matches; default: any API or token request. */
  path?: RegExp;
  /** Only requests carrying these query parameters with these values (say one page of a list). */
  query?: Record<string, string>;
  status?: number;
  body?: unknown;
  /** Raw text sent instead of JSON (malformed-JSON tests). */
  raw?: string;
  /** Hold the answer this long (slower-than-timeout tests). */
  delayMs?: number;
}

export interface EmulatorOptions {
  /** login → password. */
  users?: Record<string, string>;
  conferences?: EmulatorConference[];
  /** Seconds a token lives (`expires_in`). */
  tokenLifetimeS?: number;
  /** Page size when the client sends none. */
  defaultPageSize?: number;
  /** Participants returned for running conferences (by conference id). */
  participants?: Record<string, EmulatorParticipant[]>;
  /**
   * TrueConf IDs of users the server knows besides the login users and the
   * conferences' invitees (invite / disconnect of anyone else is userNotFound).
   */
  directory?: Record<string, { display_name?: string }>;
  /** Logins allowed to control every conference and to disconnect any user (besides each conference's owner). */
  operators?: string[];
  /** Logins whose tokens lack write rights: every control request is 403 forbidden. */
  readOnlyUsers?: string[];
  /** Finished recordings already on the server (by conference id). */
  recordings?: Record<string, EmulatorRecording[]>;
  /**
   * Makes the access and refresh tokens (default: 40 random hex digits; TrueConf's docs give no
   * format). Tests that search logs for any 4-character piece of an issued token pass tokens
   * that cannot match digits of timestamps or hex ids by chance.
   */
  issueToken?: () => string;
  host?: string;
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | null;
  contentType: string | null;
  /** Parsed JSON or form body (null when none). */
  body: unknown;
}

export class TcsEmulator {
  readonly app: FastifyInstance;
  readonly users: Record<string, string>;
  conferences: EmulatorConference[];
  readonly participants: Record<string, EmulatorParticipant[]>;
  readonly directory: Record<string, { display_name?: string }>;
  readonly operators: string[];
  readonly readOnlyUsers: string[];
  readonly recordings: Record<string, EmulatorRecording[]>;
  /** Live recording state by conference id (v4 recordings/start|pause|stop). */
  readonly recordingState: Record<string, 'recording' | 'paused'> = {};
  tokenLifetimeS: number;
  readonly faults: EmulatorFault[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Token requests answered, successful or not. */
  tokenRequests = 0;
  private readonly tokens = new Map<string, { user: string; expiresAt: number }>();
  private readonly allIssued: string[] = [];
  private readonly defaultPageSize: number;
  private readonly issueToken: () => string;
  private readonly recorded = new WeakMap<FastifyRequest, RecordedRequest>();
  url = '';

  constructor(private readonly o: EmulatorOptions = {}) {
    this.users = { ...(o.users ?? { room101: 'secret-pass' }) };
    this.conferences = o.conferences ?? [];
    this.participants = o.participants ?? {};
    this.directory = { ...(o.directory ?? {}) };
    this.operators = [...(o.operators ?? [])];
    this.readOnlyUsers = [...(o.readOnlyUsers ?? [])];
    this.recordings = o.recordings ?? {};
    this.tokenLifetimeS = o.tokenLifetimeS ?? 604_800;
    this.defaultPageSize = o.defaultPageSize ?? 100;
    this.issueToken = o.issueToken ?? (() => randomBytes(20).toString('hex'));
    this.app = Fastify({ logger: false, forceCloseConnections: true });
    this.app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    this.app.addHook('onRequest', async (req, reply) => {
      const u = new URL(req.url, 'http://x');
      const rec: RecordedRequest = {
        method: req.method,
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        authorization: (req.headers.authorization as string | undefined) ?? null,
        contentType: (req.headers['content-type'] as string | undefined) ?? null,
        body: null,
      };
      this.requests.push(rec);
      this.recorded.set(req, rec);
      const i = this.faults.findIndex(
        (f) =>
          (!f.path || f.path.test(u.pathname)) && Object.entries(f.query ?? {}).every(([k, v]) => u.searchParams.get(k) === v),
      );
      if (i < 0) return;
      const [f] = this.faults.splice(i, 1);
      if (!f) return;
      if (f.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
      if (f.status === undefined && f.raw === undefined && f.body === undefined) return;
      reply.code(f.status ?? 200).header('content-type', 'application/json; charset=utf-8');
      return reply.send(f.raw ?? JSON.stringify(f.body ?? {}));
    });
    this.app.addHook('preHandler', async (req) => {
      const rec = this.recorded.get(req);
      if (rec) rec.body = req.body ?? null;
    });
    this.routes();
    registerControlRoutes(this);
  }

  async start(): Promise<string> {
    const addr = await this.app.listen({ host: this.o.host ?? '127.0.0.1', port: this.o.port ?? 0 });
    this.url = addr;
    return addr;
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  /** Access tokens issued so far (tests assert none of them leaks). */
  get issuedTokens(): string[] {
    return [...this.allIssued];
  }

  /** Every token issued so far stops working (the server restarted or revoked them). */
  expireAllTokens(): void {
    this.tokens.clear();
  }

  private routes(): void {
    const token = async (req: FastifyRequest, reply: FastifyReply) => {
      this.tokenRequests++;
      const b = (req.body ?? {}) as Record<string, string>;
      reply.header('cache-control', 'no-store');
      if (b.grant_type !== 'password') {
        return reply.code(400).send({
          error: 'unsupported_grant_type',
          error_description: `Grant type "${b.grant_type ?? ''}" not supported`,
        });
      }
      if (b.client_id !== 'trueconf_server_users') {
        return reply.code(400).send({ error: 'invalid_client', error_description: 'The client credentials are invalid' });
      }
      if (!b.username || this.users[b.username] === undefined || this.users[b.username] !== b.password) {
        return reply.code(401).send({
          error: 'invalid_grant',
          error_description: 'Invalid username and password combination',
          reason: 'InvalidCredentials',
        });
      }
      const access = this.issueToken();
      this.tokens.set(access, { user: b.username, expiresAt: Date.now() + this.tokenLifetimeS * 1000 });
      this.allIssued.push(access);
      return {
        access_token: access,
        expires_in: this.tokenLifetimeS,
        token_type: 'Bearer',
        scope: 'conferences conferences:read conferences:write conferences.participants',
        refresh_token: this.issueToken(),
      };
    };
    this.app.post('/oauth2/v1/token', token);
    this.app.post('/api/v4/oauth2/token', token);

    this.app.get('/api/v4/server', async () => ({
      product: {
        display_name: 'TrueConf Server (emulator)',
        id: 'tcs',
        name: 'TrueConf Server',
        version: '5.5.3',
        platform: 'linux',
      },
      links: {},
      web_config: { url: this.url },
    }));

    this.app.get('/api/:ver/conferences', async (req, reply) => {
      const v = this.auth(req, reply);
      if (!v) return reply;
      const q = req.query as Record<string, string>;
      const size = Math.max(1, Number(q.page_size) || this.defaultPageSize);
      let list = this.visible(v.user);
      if (v.major === 4) {
        const after = Number(q.after);
        const before = Number(q.before);
        // [I] one-time conferences are filtered by start; weekly series always match.
        list = list.filter((c) => {
          const s = (c.schedule ?? {}) as { type?: unknown; start_time?: number };
          if (s.type !== 'once' || typeof s.start_time !== 'number') return true;
          return (!Number.isFinite(after) || s.start_time >= after) && (!Number.isFinite(before) || s.start_time < before);
        });
        const page = Math.max(1, Number(q.page) || 1);
        return { conferences: list.slice((page - 1) * size, page * size), page, page_size: size, total: list.length };
      }
      const pageId = Math.max(0, Number(q.page_id) || 0);
      const rows = list.slice(pageId * size, (pageId + 1) * size);
      return { conferences: rows, next_page_id: (pageId + 1) * size < list.length ? pageId + 1 : -1 };
    });

    this.app.get('/api/:ver/conferences/:id', async (req, reply) => {
      const v = this.auth(req, reply);
      if (!v) return reply;
      const c = this.find(req, reply);
      return c ? (v.major === 4 ? c : { conference: c }) : reply;
    });
    for (const action of ['run', 'stop'] as const) {
      this.app.post(`/api/:ver/conferences/:id/${action}`, async (req, reply) => {
        if (!this.auth(req, reply)) return reply;
        const c = this.find(req, reply);
        if (!c) return reply;
        c.state = action === 'run' ? 'running' : 'stopped';
        if (action === 'stop') this.endSession(c.id);
        return { state: c.state };
      });
    }
  }

  private visible(user: string): EmulatorConference[] {
    // A user-scoped token sees only conferences the user owns or is invited to (trueconf.com/docs/server/en/admin/api: the user's scope covers
    // only conferences where the user is the owner or a listed participant).
    const bare = (s: unknown) =>
      String(s ?? '')
        .toLowerCase()
        .split('@')[0];
    return this.conferences.filter(
      (c) =>
        bare(c.owner) === user.toLowerCase() ||
        (Array.isArray(c.invitations) && c.invitations.some((i: { id?: string }) => bare(i.id) === user.toLowerCase())),
    );
  }

  /** A stopped conference's session ends: everyone leaves, a recording in progress is finished. */
  endSession(conferenceId: string, at = Date.now()): void {
    for (const p of this.participants[conferenceId] ?? []) if (p.leave_time == null) p.leave_time = Math.floor(at / 1000);
    const open = (this.recordings[conferenceId] ?? []).find((r) => r.stopped_at == null);
    if (open) open.stopped_at = Math.floor(at / 1000);
    delete this.recordingState[conferenceId];
  }

  /** The conference named by the `:id` path parameter, or a 404 conferenceNotFound answer (v3 fixture errors/not_found.json). */
  find(req: FastifyRequest, reply: FastifyReply): EmulatorConference | null {
    const id = (req.params as { id: string }).id;
    const c = this.conferences.find((x) => x.id === id);
    if (c) return c;
    tcsError(reply, 404, 'conferenceNotFound', `Conference '${id}' is not found.`, 'path', 'conference_id');
    return null;
  }

  /** Checks the token: v3 in the query (or header), v4 as Bearer; never both. */
  auth(req: FastifyRequest, reply: FastifyReply): { user: string; major: 3 | 4 } | null {
    const ver = (req.params as { ver: string }).ver;
    const major = ver === 'v4' ? 4 : /^v3(\.\d+)?$/.test(ver) ? 3 : 0;
    if (!major) {
      void reply.code(404).send({ error: { code: 404, message: 'Not Found', errors: [] } });
      return null;
    }
    const q = (req.query as Record<string, string>).access_token;
    const h = req.headers.authorization;
    const bearer = typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
    if (q && bearer) {
      void reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'Only one method may be used to authenticate at a time' });
      return null;
    }
    const t = bearer ?? q;
    const rec = t ? this.tokens.get(t) : undefined;
    if (rec && rec.expiresAt > Date.now()) return { user: rec.user, major: major as 3 | 4 };
    if (major === 4) {
      void reply.code(401).send({ error: 'invalid_token', message: 'The access token provided is invalid or has expired' });
    } else {
      tcsError(reply, 403, 'accessTokenInvalid', 'Access token is invalid or expired.', 'parameter', 'access_token');
    }
    return null;
  }
}

export { demoConferences } from './simulator-demo.js';
