// Verification codes, the pure part: making a code, its keyed hash, which
// roster contact a channel uses, and the decisions of issue (rate limits) and
// verify (right, wrong, expired, used, too many attempts). No I/O here.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { RosterEntry } from '../tracking/types.js';

export type Channel = 'sms' | 'email';
export const CHANNELS: readonly Channel[] = ['sms', 'email'];

/** live: may be entered; used: bound a participant; superseded: a newer code went to the person; failed: never delivered. */
export type CodeState = 'live' | 'used' | 'superseded' | 'failed';

/** One issued code as stored (the code itself never is: only its keyed hash). */
export interface CodeRow {
  id: number;
  meeting: string;
  person: string;
  channel: Channel;
  hash: string;
  issued_at: number;
  expires_at: number;
  attempts: number;
  state: CodeState;
  used_at: number | null;
  participant: string | null;
}

/** Why a verify or an issue was refused; stable names for clients (error `data.reason`). */
export type RefusalReason = 'wrong_code' | 'expired' | 'used' | 'superseded' | 'too_many_attempts' | 'rate_limited';

/** A numeric code of `length` digits, uniformly drawn (leading zeros kept). */
export function newCode(length: number, draw: (max: number) => number = (max) => randomInt(max)): string {
  return String(draw(10 ** length)).padStart(length, '0');
}

/**
 * The stored form of a code: HMAC-SHA256 under the install's secret key over
 * the meeting and the code, hex. Without the key file the database cannot be
 * searched for the few million possible codes (docs/security.md).
 */
export function codeHash(key: Buffer, meeting: string, code: string): string {
  return createHmac('sha256', key)
    .update('room-agent identity code v1\0')
    .update(meeting)
    .update('\0')
    .update(code)
    .digest('hex');
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** What a person typed, as a code: digits only (spaces and dashes people add are dropped). */
export function normaliseCode(input: string): string {
  return input.replace(/[\s-]/g, '');
}

const EMAIL_RE = /^[^\s@<>,;:"]+@[^\s@<>,;:"]+\.[^\s@<>,;:"]+$/;
const E164_RE = /^\+[1-9]\d{6,14}$/;

/** The address a channel sends to: the first e-mail (bare or mailto:) or E.164 phone number (bare or tel:) in the contacts. */
export function contactFor(entry: RosterEntry, channel: Channel): string | null {
  for (const raw of entry.contacts ?? []) {
    const c = raw.trim();
    if (channel === 'email') {
      const a = c.replace(/^mailto:/i, '');
      if (!/^sips?:/i.test(c) && EMAIL_RE.test(a)) return a;
    } else {
      const n = c.replace(/^tel:/i, '').replace(/[\s().-]/g, '');
      if (E164_RE.test(n)) return n;
    }
  }
  return null;
}

/** An address shown in answers and the audit log: enough to recognise, not to harvest. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at > 0) return `${address[0]}***${address.slice(at)}`;
  if (address.length <= 4) return '*'.repeat(address.length);
  return `${address.slice(0, 3)}${'*'.repeat(address.length - 5)}${address.slice(-2)}`;
}

/** The text sent: the code, what it is for and how long it lasts. */
export function codeMessage(code: string, what: string, ttlS: number): { subject: string; text: string } {
  const minutes = Math.max(1, Math.round(ttlS / 60));
  return {
    subject: `Verification code for ${what}`,
    text: `Your verification code for ${what} is ${code}. It expires in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
  };
}

/** Issue times (epoch ms, ascending) within the window; the limit is hit when there are `limit` of them. */
export interface IssueLimit {
  scope: 'meeting' | 'person';
  limit: number;
  times: readonly number[];
}

/** The first limit an issue would exceed, with when the oldest counted issue leaves the window; null = may issue. */
export function rateLimitHit(
  limits: readonly IssueLimit[],
  windowMs: number,
): { scope: 'meeting' | 'person'; retry_at: number } | null {
  for (const l of limits) {
    if (l.times.length >= l.limit) {
      // The issue that must leave the window before one more fits.
      const oldest = l.times[l.times.length - l.limit] as number;
      return { scope: l.scope, retry_at: oldest + windowMs };
    }
  }
  return null;
}

export type VerifyDecision =
  | { ok: true; code: CodeRow }
  | {
      ok: false;
      reason: Exclude<RefusalReason, 'rate_limited'>;
      /** Live codes whose attempt count this wrong code raises. */
      countAgainst: number[];
    };

/**
 * The verify decision. `matches`: the meeting's codes whose hash equals the
 * entered code's; `live`: the meeting's live codes. A wrong code counts as one
 * attempt against every live, unexpired code of the meeting (the entered code
 * names no person, so a guess is a guess at each of them); a code with
 * `maxAttempts` wrong attempts is refused even when right.
 */
export function decideVerify(
  matches: readonly CodeRow[],
  live: readonly CodeRow[],
  now: number,
  maxAttempts: number,
): VerifyDecision {
  const delivered = matches.filter((c) => c.state !== 'failed');
  // Two codes of one meeting never share a hash while live (issue draws again); among past ones the newest speaks.
  const hit = [...delivered].sort((a, b) => b.issued_at - a.issued_at || b.id - a.id)[0];
  if (hit) {
    if (hit.state === 'used') return { ok: false, reason: 'used', countAgainst: [] };
    if (hit.state === 'superseded') return { ok: false, reason: 'superseded', countAgainst: [] };
    if (now >= hit.expires_at) return { ok: false, reason: 'expired', countAgainst: [] };
    if (hit.attempts >= maxAttempts) return { ok: false, reason: 'too_many_attempts', countAgainst: [] };
    return { ok: true, code: hit };
  }
  const open = live.filter((c) => c.state === 'live' && now < c.expires_at);
  const counting = open.filter((c) => c.attempts < maxAttempts);
  if (open.length > 0 && counting.length === 0) return { ok: false, reason: 'too_many_attempts', countAgainst: [] };
  return { ok: false, reason: 'wrong_code', countAgainst: counting.map((c) => c.id) };
}

/** The message of each refusal: what happened and what to do. */
export function refusalMessage(reason: RefusalReason): string {
  switch (reason) {
    case 'wrong_code':
      return 'wrong code: no live code of this meeting matches; check the digits or issue a new code';
    case 'expired':
      return 'expired code: issue a new code';
    case 'used':
      return 'code already used: each code binds one participant once; issue a new code';
    case 'superseded':
      return 'code superseded: a newer code was sent to this person; enter that one';
    case 'too_many_attempts':
      return 'too many attempts: the code is locked after too many wrong codes; issue a new code';
    case 'rate_limited':
      return 'rate limited: too many codes issued';
  }
}
