// JSON nesting depth without recursion: the text scan and the value walk agree
// with each other on any JSON, ignore brackets inside strings, and stop early.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDepth, jsonValueDepth } from '../src/util/json-depth.js';

/** Reference depth by recursion: fine for the small values fast-check makes. */
function depthByRecursion(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const kids = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...kids.map(depthByRecursion));
}

describe('JSON depth', () => {
  it('text scan, value walk and a recursive reference agree on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), (v) => {
        const want = depthByRecursion(v);
        expect(jsonDepth(JSON.stringify(v), 100)).toBe(want);
        expect(jsonValueDepth(v, 100)).toBe(want);
      }),
      { numRuns: 500 },
    );
  });
  it('brackets and escaped quotes inside strings do not count', () => {
    expect(jsonDepth(JSON.stringify({ a: '[[[{{{', b: 'say \\"[[[\\"', c: ['\\'] }), 100)).toBe(2);
  });
  it('stops at limit + 1 on input far deeper than the stack', () => {
    const text = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(jsonDepth(text, 64)).toBe(65);
    expect(jsonValueDepth(JSON.parse(text), 64)).toBe(65);
  });
});
