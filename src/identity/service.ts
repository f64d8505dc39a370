// Issuing and verifying codes: the roster lookup, the rate limits, the
// delivery, the binding into meeting tracking and the audit rows. The code
// itself leaves this file only towards the recipient's channel.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Cause } from '../host/contract.js';
import type { AuditLog } from '../store/audit.js';
import type { Clock } from '../util/clock.js';
import { AgentError, errorMessage } from '../util/errors.js';
import { iso } from '../util/iso.js';
import type { BindingRecord, RosterEntry } from '../tracking/types.js';
import {
  type Channel,
  codeHash,
  codeMessage,
  contactFor,
  decideVerify,
  maskAddress,
  newCode,
  normaliseCode,
  rateLimitHit,
  type RefusalReason,
  refusalMessage,
} from './codes.js';
import type { IdentityConfig } from './config.js';
import type { IdentityStore } from './store.js';

/** Hands a message to one channel (SMTP, Twilio); throws with a reason when it was not accepted. */
export interface CodeSender {
  send(to: string, message: { subject: string; text: string }): Promise<void>;
}

/** What meeting tracking records when a code binds a participant (TrackingService.recordBinding). */
export type BindingInput = BindingRecord & { at: number };

export interface IdentityDeps {
  cfg: IdentityConfig;
  store: IdentityStore;
  /** The install's HMAC key (made on first use). */
  key(): Buffer;
  clock: Clock;
  audit: AuditLog;
  logger: Logger;
  /** The meeting's title and roster (from the calendar hook of meeting tracking); undefined: no such meeting. */
  meeting(id: string): { title: string | null; roster: RosterEntry[] } | undefined;
  /** Records the binding; called inside the verify transaction, so a throw leaves the code live. */
  bind(b: BindingInput): void;
  senders: Partial<Record<Channel, CodeSender>>;
  /** What to say where a channel is missing, e.g. "set [identity.smtp]". */
  missing: Record<Channel, string>;
}

export interface IssueParams {
  meeting: string;
  person: string;
  channel: Channel;
}
export interface IssueResult {
  code_id: number;
  meeting: string;
  person: string;
  channel: Channel;
  sent_to: string;
  expires_at: string;
}
export interface VerifyParams {
  meeting: string;
  code: string;
  participant: string;
}
export interface VerifyResult {
  meeting: string;
  participant: string;
  person: string;
  code_id: number;
  bound_at: string;
}

/** The attempts that can go into a code before issue draws again (a clash needs two live codes with the same digits). */
const DRAWS = 20;

/** A refusal of a code or an issue, with its stable reason in `data.reason`. */
export function refusal(reason: RefusalReason, extra: Record<string, unknown> = {}): AgentError {
  const code = reason === 'rate_limited' ? 'TOO_MANY_REQUESTS' : 'CODE_REFUSED';
  return new AgentError(code, refusalMessage(reason), { reason, ...extra });
}

export class IdentityService {
  constructor(private readonly d: IdentityDeps) {}

  async issue(p: IssueParams, cause: Cause): Promise<IssueResult> {
    return this.audited('identity.issue', { meeting: p.meeting, person: p.person, channel: p.channel }, cause, () =>
      this.doIssue(p),
    );
  }

  async verify(p: VerifyParams, cause: Cause): Promise<VerifyResult> {
    // Never the code: the audit row names the meeting and the participant only.
    return this.audited('identity.verify', { meeting: p.meeting, participant: p.participant }, cause, async () =>
      this.doVerify(p),
    );
  }

  private async doIssue(p: IssueParams): Promise<IssueResult> {
    const { cfg, store, clock } = this.d;
    const m = this.d.meeting(p.meeting);
    if (!m)
      throw new AgentError(
        'NOT_FOUND',
        `no roster for meeting "${p.meeting}": codes go to people of a scheduled meeting's roster`,
      );
    const entry = m.roster.find((r) => r.person === p.person);
    if (!entry) throw new AgentError('NOT_FOUND', `"${p.person}" is not in the roster of meeting "${p.meeting}"`);
    const sender = this.d.senders[p.channel];
    if (!sender) throw new AgentError('UNAVAILABLE', `${p.channel} codes are off: ${this.d.missing[p.channel]}`);
    const to = contactFor(entry, p.channel);
    if (!to) {
      const what = p.channel === 'email' ? 'e-mail address' : 'phone number in E.164 form (+ and country code)';
      throw new AgentError('INVALID_PARAMS', `"${p.person}" has no ${what} among the roster contacts of meeting "${p.meeting}"`);
    }
    const now = clock.now();
    const windowMs = cfg.issue_window_s * 1000;
    const ttlMs = cfg.code_ttl_s * 1000;
    const drawn = store.tx(() => {
      store.prune(now - Math.max(windowMs, ttlMs) - 86_400_000);
      const hit = rateLimitHit(
        [
          { scope: 'person', limit: cfg.max_issues_per_person, times: store.issuedSince(p.meeting, now - windowMs, p.person) },
          { scope: 'meeting', limit: cfg.max_issues_per_meeting, times: store.issuedSince(p.meeting, now - windowMs) },
        ],
        windowMs,
      );
      if (hit) {
        return {
          refused: refusal('rate_limited', {
            scope: hit.scope,
            retry_after_s: Math.max(1, Math.ceil((hit.retry_at - now) / 1000)),
          }),
        };
      }
      const taken = new Set(store.live(p.meeting, now).map((c) => c.hash));
      for (let i = 0; i < DRAWS; i++) {
        const code = newCode(cfg.code_length);
        const hash = codeHash(this.d.key(), p.meeting, code);
        if (taken.has(hash)) continue;
        const id = store.insert({
          meeting: p.meeting,
          person: p.person,
          channel: p.channel,
          hash,
          issued_at: now,
          expires_at: now + ttlMs,
        });
        return { id, code };
      }
      throw new AgentError(
        'CONFLICT',
        `meeting "${p.meeting}" has too many live codes to draw a new one; wait for some to expire`,
      );
    });
    if ('refused' in drawn) throw drawn.refused;
    try {
      await sender.send(to, codeMessage(drawn.code, m.title ? `"${m.title}"` : `meeting ${p.meeting}`, cfg.code_ttl_s));
    } catch (e) {
      store.setState(drawn.id, 'failed');
      // Whatever the server answered, the code is not repeated (a server may quote the message back).
      const why = errorMessage(e).replaceAll(drawn.code, '[code]');
      // A refusal that says whose fault it is keeps its code (Twilio: 400 bad number → INVALID_PARAMS, 429); else UNAVAILABLE.
      const code =
        e instanceof AgentError && (e.code === 'INVALID_PARAMS' || e.code === 'TOO_MANY_REQUESTS') ? e.code : 'UNAVAILABLE';
      const upstream = e instanceof AgentError ? (e.data as { twilio_code?: unknown } | undefined) : undefined;
      const data = { reason: 'not_sent', ...(upstream?.twilio_code != null ? { twilio_code: upstream.twilio_code } : {}) };
      throw new AgentError(code, `${p.channel === 'email' ? 'e-mail' : 'SMS'} not sent: ${why}`, data);
    }
    store.supersedeOthers(p.meeting, p.person, drawn.id);
    this.d.logger.info({ meeting: p.meeting, person: p.person, channel: p.channel, code_id: drawn.id }, 'verification code sent');
    return {
      code_id: drawn.id,
      meeting: p.meeting,
      person: p.person,
      channel: p.channel,
      sent_to: maskAddress(to),
      expires_at: iso(now + ttlMs) as string,
    };
  }

  private doVerify(p: VerifyParams): VerifyResult {
    const { cfg, store, clock } = this.d;
    const code = normaliseCode(p.code);
    const now = clock.now();
    const outcome = store.tx(() => {
      const hash = codeHash(this.d.key(), p.meeting, code);
      const decision = decideVerify(store.byHash(p.meeting, hash), store.live(p.meeting, now), now, cfg.max_attempts);
      if (!decision.ok) {
        store.countAttempt(decision.countAgainst);
        return decision;
      }
      const c = decision.code;
      store.use(c.id, now, p.participant);
      this.d.bind({ meeting: p.meeting, participant: p.participant, person: c.person, at: now, by: 'code' });
      return decision;
    });
    if (!outcome.ok) {
      this.d.logger.debug(
        { meeting: p.meeting, participant: p.participant, reason: outcome.reason },
        'verification code refused',
      );
      throw refusal(outcome.reason);
    }
    const c = outcome.code;
    this.d.logger.info(
      { meeting: p.meeting, participant: p.participant, person: c.person, code_id: c.id },
      'participant verified by code',
    );
    return { meeting: p.meeting, participant: p.participant, person: c.person, code_id: c.id, bound_at: iso(now) as string };
  }

  /** Runs one issue or verify and writes its audit row (params without the code) before answering. */
  private async audited<T>(action: string, params: Record<string, unknown>, cause: Cause, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const at = iso(this.d.clock.now()) as string;
    const row = { at, cause, device: 'identity', action, params };
    try {
      const result = await fn();
      await this.d.audit.append({ ...row, ok: true, result, error: null, duration_ms: performance.now() - started });
      return result;
    } catch (e) {
      const reason = e instanceof AgentError ? (e.data as { reason?: string } | undefined)?.reason : undefined;
      const error = reason ? `${reason}: ${errorMessage(e)}` : errorMessage(e);
      await this.d.audit.append({ ...row, ok: false, result: null, error, duration_ms: performance.now() - started });
      throw e;
    }
  }
}
