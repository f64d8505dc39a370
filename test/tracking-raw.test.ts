// Each event's text sliced from the body as received must parse to exactly
// the event JSON.parse gave, for any JSON and any layout.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventTexts } from '../src/tracking/raw.js';

describe('eventTexts', () => {
  it('slices every element of a top-level array, whatever the values and whitespace', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n '), (list, space) => {
        const body = ` ${JSON.stringify(list, null, space)}\n`;
        const texts = eventTexts(body, list.length);
        expect(texts?.map((t) => JSON.parse(t))).toEqual(JSON.parse(body));
        for (const t of texts ?? []) expect(t).toBe(t.trim());
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps the exact text received: escapes, duplicate keys, number spellings', () => {
    const a = '{"event":"x","id":"a\\"],{b\\\\","n":1.50,"n":2e3}';
    const b = '[ "s\\\\", [1, {"k": "]"}] ]';
    expect(eventTexts(`[${a} ,${b}, 7,"\\"" ]`, 4)).toEqual([a, b, '7', '"\\""']);
    expect(eventTexts(` ${a}\n`, 1)).toEqual([a]);
    expect(eventTexts('[]', 0)).toEqual([]);
  });

  it('gives up (undefined) on a count that does not match or a body that is not an array or object', () => {
    expect(eventTexts('[1,2]', 3)).toBeUndefined();
    expect(eventTexts('"x"', 1)).toBeUndefined();
    expect(eventTexts('{"a":1}', 2)).toBeUndefined();
  });
});
