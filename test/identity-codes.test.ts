// The pure part of verification codes: drawing, hashing, contacts, the
// verify decision table and the rate limit arithmetic.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CodeRow,
  codeHash,
  codeMessage,
  contactFor,
  decideVerify,
  maskAddress,
  newCode,
  normaliseCode,
  rateLimitHit,
  sameHash,
} from '../src/identity/codes.js';
import { loadOrCreateKey } from '../src/identity/store.js';

const KEY = Buffer.alloc(32, 7);
const NOW = Date.UTC(2026, 11, 6, 8);

function row(over: Partial<CodeRow>): CodeRow {
  return {
    id: 1,
    meeting: 'm',
    person: 'alice',
    channel: 'email',
    hash: codeHash(KEY, 'm', '123456'),
    issued_at: NOW - 1000,
    expires_at: NOW + 900_000,
    attempts: 0,
    state: 'live',
    used_at: null,
    participant: null,
    ...over,
  };
}

describe('codes', () => {
  it('draws codes of the configured length, keeping leading zeros', () => {
    expect(newCode(6, () => 42)).toBe('000042');
    expect(newCode(4, (max) => max - 1)).toBe('9999');
    for (let i = 0; i < 200; i++) expect(newCode(8)).toMatch(/^\d{8}$/);
  });

  it('hashes with the key and the meeting: another key or meeting gives another hash', () => {
    const h = codeHash(KEY, 'm', '123456');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toContain('123456');
    expect(sameHash(h, codeHash(KEY, 'm', '123456'))).toBe(true);
    expect(sameHash(h, codeHash(Buffer.alloc(32, 8), 'm', '123456'))).toBe(false);
    expect(sameHash(h, codeHash(KEY, 'm2', '123456'))).toBe(false);
    expect(sameHash(h, 'zz')).toBe(false);
  });

  it('reads a typed code without spaces or dashes', () => {
    expect(normaliseCode(' 123-456 ')).toBe('123456');
  });

  it('picks the first e-mail or E.164 number of the contacts, skipping SIP accounts', () => {
    const e = {
      person: 'a',
      contacts: ['sip:a@tcs.example.com', '0301234567', 'tel:+49 (30) 123-4567', 'mailto:a@example.com', 'b@example.com'],
    };
    expect(contactFor(e, 'email')).toBe('a@example.com');
    expect(contactFor(e, 'sms')).toBe('+49301234567');
    expect(contactFor({ person: 'b', contacts: ['sip:b@x.example', '030 1234'] }, 'sms')).toBeNull();
    expect(contactFor({ person: 'b' }, 'email')).toBeNull();
  });

  it('masks addresses for answers and audit rows', () => {
    expect(maskAddress('alice@example.com')).toBe('a***@example.com');
    expect(maskAddress('+4930123456')).toBe('+49******56');
    expect(maskAddress('123')).toBe('***');
  });

  it('writes the code, what it is for and its lifetime', () => {
    expect(codeMessage('012345', '"Review"', 900)).toEqual({
      subject: 'Verification code for "Review"',
      text: 'Your verification code for "Review" is 012345. It expires in 15 minutes.',
    });
    expect(codeMessage('1', 'x', 60).text).toMatch(/1 minute\.$/);
  });
});

describe('decideVerify', () => {
  const live = row({});
  it('accepts a live, unexpired match with attempts left', () => {
    expect(decideVerify([live], [live], NOW, 5)).toEqual({ ok: true, code: live });
  });
  it('names the reason of each refusal', () => {
    expect(decideVerify([row({ state: 'used' })], [], NOW, 5)).toMatchObject({ ok: false, reason: 'used' });
    expect(decideVerify([row({ state: 'superseded' })], [], NOW, 5)).toMatchObject({ ok: false, reason: 'superseded' });
    expect(decideVerify([row({ expires_at: NOW })], [], NOW, 5)).toMatchObject({ ok: false, reason: 'expired' });
    expect(decideVerify([row({ attempts: 5 })], [], NOW, 5)).toMatchObject({ ok: false, reason: 'too_many_attempts' });
  });
  it('counts a wrong code against every live, unexpired code with attempts left', () => {
    const a = row({ id: 1 });
    const b = row({ id: 2, attempts: 5 });
    const c = row({ id: 3, expires_at: NOW - 1 });
    const d = row({ id: 4, attempts: 4 });
    expect(decideVerify([], [a, b, c, d], NOW, 5)).toEqual({ ok: false, reason: 'wrong_code', countAgainst: [1, 4] });
    expect(decideVerify([], [], NOW, 5)).toEqual({ ok: false, reason: 'wrong_code', countAgainst: [] });
  });
  it('says too_many_attempts once every live code is locked', () => {
    expect(decideVerify([], [row({ attempts: 5 })], NOW, 5)).toMatchObject({ reason: 'too_many_attempts' });
  });
  it('treats a match on a code that was never delivered as a wrong code', () => {
    expect(decideVerify([row({ id: 9, state: 'failed' })], [live], NOW, 5)).toMatchObject({
      reason: 'wrong_code',
      countAgainst: [1],
    });
  });
  it('lets the newest of several past matches speak', () => {
    const old = row({ id: 1, state: 'used', issued_at: NOW - 5000 });
    const newer = row({ id: 2, state: 'superseded', issued_at: NOW - 100 });
    expect(decideVerify([old, newer], [], NOW, 5)).toMatchObject({ reason: 'superseded' });
  });
});

describe('rateLimitHit', () => {
  it('is null below every limit, and else names the scope and when the oldest counted issue leaves the window', () => {
    expect(rateLimitHit([{ scope: 'person', limit: 3, times: [1, 2] }], 100)).toBeNull();
    expect(rateLimitHit([{ scope: 'person', limit: 3, times: [10, 20, 30] }], 100)).toEqual({ scope: 'person', retry_at: 110 });
    // A lowered limit: more than `limit` in the window; one more fits once all but limit-1 have left it.
    expect(rateLimitHit([{ scope: 'meeting', limit: 2, times: [10, 20, 30, 40] }], 100)).toEqual({
      scope: 'meeting',
      retry_at: 130,
    });
    expect(
      rateLimitHit(
        [
          { scope: 'person', limit: 3, times: [50] },
          { scope: 'meeting', limit: 1, times: [5] },
        ],
        100,
      ),
    ).toEqual({ scope: 'meeting', retry_at: 105 });
  });
});

describe('the install key', () => {
  it('is made once (32 bytes, mode 0600) and read back; a damaged key file is refused with its path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'identity-key-'));
    try {
      const k = loadOrCreateKey(dir);
      expect(k.length).toBe(32);
      expect(fs.statSync(path.join(dir, 'identity.key')).mode & 0o777).toBe(0o600);
      expect(loadOrCreateKey(dir).equals(k)).toBe(true);
      fs.writeFileSync(path.join(dir, 'identity.key'), 'short');
      expect(() => loadOrCreateKey(dir)).toThrow(/identity\.key: expected 32 bytes, found 5/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
