import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role, TokenConfig } from '../config/schema.js';

export interface Principal {
  /** Token name from api.toml: who did it, for the audit log. Never the secret. */
  name: string;
  role: Role;
}

const RANK: Record<Role, number> = { ingest: 0, identity: 0, viewer: 1, operator: 2, admin: 3 };

/**
 * May `have` do what needs `need`? `ingest` is a separate lane (webhooks only); `identity` is a lane of
 * its own that nobody else is in, not even admin (POST /identity/verify only: a portal's token reaches
 * nothing else, and an admin token is never handed to the portal to make it work).
 */
export function allows(have: Role, need: Role): boolean {
  if (need === 'identity' || have === 'identity') return have === need;
  if (need === 'ingest') return have === 'ingest' || have === 'admin';
  if (have === 'ingest') return false;
  return RANK[have] >= RANK[need];
}

/** Token lookup in constant time per token; secrets are kept only as hashes. */
export class TokenAuth {
  /** The config's tokens, then the agent's own (`temporary`: grantTemporary's, not in any file, kept by a reload). */
  private entries: { hash: Buffer; principal: Principal; temporary?: true }[] = [];
  constructor(tokens: readonly (TokenConfig & { token: string })[]) {
    this.replace(tokens);
  }
  /**
   * The tokens of a reloaded config: from now on only these are accepted. A token that stays (same
   * secret, name and role) keeps its principal, so `isCurrent` tells which open connections still hold one.
   */
  replace(tokens: readonly (TokenConfig & { token: string })[]): void {
    const old = this.entries;
    const fromConfig = tokens.map((t) => {
      const hash = sha(t.token);
      const kept = old.find((e) => e.hash.equals(hash) && e.principal.name === t.name && e.principal.role === t.role);
      return kept ?? { hash, principal: { name: t.name, role: t.role } };
    });
    this.entries = [...fromConfig, ...old.filter((e) => e.temporary)];
  }
  /** False for the principal of a token a reload removed or changed. */
  isCurrent(p: Principal): boolean {
    return this.entries.some((e) => e.principal === p);
  }
  check(token: string | null | undefined): Principal | null {
    if (!token) return null;
    const h = sha(token);
    let found: Principal | null = null;
    for (const e of this.entries) if (timingSafeEqual(e.hash, h)) found = e.principal;
    return found;
  }
  /**
   * A token the agent makes for a client of its own (the API warm-up, src/api/warm-up.ts): 256
   * random bits, accepted until `revoke()`, kept here only as a hash like the config's. The
   * caller holds the only copy and never writes it anywhere.
   */
  grantTemporary(principal: Principal): { token: string; revoke: () => void } {
    const token = randomBytes(32).toString('base64url');
    const entry = { hash: sha(token), principal, temporary: true as const };
    this.entries.push(entry);
    return {
      token,
      revoke: () => {
        this.entries = this.entries.filter((e) => e !== entry);
      },
    };
  }
  /** Bearer header first, then `?token=`. */
  fromRequest(headers: Record<string, string | string[] | undefined>, url: string): Principal | null {
    const h = headers.authorization;
    const auth = Array.isArray(h) ? h[0] : h;
    if (auth?.startsWith('Bearer ')) return this.check(auth.slice(7).trim());
    const q = new URL(url, 'http://x').searchParams.get('token');
    return this.check(q);
  }
}

function sha(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Minimal request/reply shape of a fastify onRequest hook (kept structural so callers need no fastify types here). */
interface HookRequest {
  headers: Record<string, string | string[] | undefined>;
  url: string;
}
interface HookReply {
  code(status: number): { send(body: unknown): unknown };
}

/**
 * The one token check for HTTP routes (fastify `onRequest`): 401 without a
 * valid token, 403 when its role may not do this. Same messages as the WS API.
 */
export function requireRole(auth: TokenAuth, need: Role) {
  return async (req: HookRequest, reply: HookReply): Promise<unknown> => {
    const p = auth.fromRequest(req.headers, req.url);
    if (!p) return reply.code(401).send({ error: 'unauthorized: send a valid token as Authorization: Bearer or ?token=' });
    if (!allows(p.role, need)) return reply.code(403).send({ error: `needs role ${need}; token "${p.name}" has role ${p.role}` });
    return undefined;
  };
}
