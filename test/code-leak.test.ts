import { describe, expect, it } from 'vitest';
import { codeAlone } from './support/code-leak.js';

describe('codeAlone (the leak search of the identity tests)', () => {
  it('finds a code written in any way the agent could write it', () => {
    for (const text of ['{"code":"965476"}', '{"code":965476}', 'code=965476 refused', '965476', 'x 965476.']) {
      expect(text).toMatch(codeAlone('965476'));
    }
    expect('{"code":"012345"}').toMatch(codeAlone('012345'));
  });

  it('does not take a code inside a longer number (an epoch-ms time, an id) for a leak', () => {
    // The CI failure of 2026-12-06: an audit row's time held the 6 digits of a code issued in the same run.
    expect('{"ts":1796547600001,"durationMs":3}').not.toMatch(codeAlone('965476'));
    expect('{"id":19654761}').not.toMatch(codeAlone('965476'));
    expect('{"ts":1796547600001}').toContain('965476');
  });

  it('refuses what is not a numeric code', () => {
    expect(() => codeAlone('12.4')).toThrow(/not a numeric code/);
  });
});
