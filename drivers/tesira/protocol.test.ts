import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRecallPreset,
  encodeSubscribe,
  encodeTtp,
  parseFields,
  parseTtpLine,
  type TtpMessage,
  TtpParser,
} from './protocol.js';

// Lines as documented by Biamp (Tesira Text Protocol, tesira-help.biamp.com: Responses, Subscriptions), as a session transcript.
const TRANSCRIPT = Buffer.from(
  [
    'Welcome to the Tesira Text Protocol Server...',
    '+OK',
    '+OK "value":-10.000000',
    '! "publishToken":"MyLabel" "value":-100.000000',
    '+OK',
    '! "publishToken":"MyLabel" "value":-98.1',
    '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}',
    '-ERR Parse error at 8: verb was not one of the commands supported by Services',
    '-CANNOT_DELIVER',
    '-GENERAL_FAILURE',
    'Level1 get level 1',
    '! "publishToken":"Mute-1" "value":true +OK',
    '+OK "value":{"minLevel":-100 "maxLevel":12 "labels":["a b" "c"]}',
  ].join('\r\n') + '\r\n',
  'utf8',
);

function parseChunks(chunks: Buffer[]): TtpMessage[] {
  const p = new TtpParser();
  return chunks.flatMap((c) => p.push(c));
}

describe('TTP parser', () => {
  it.each<[string, TtpMessage[]]>([
    ['+OK', [{ kind: 'ok', fields: {}, value: undefined }]],
    ['+OK "value":-10.000000', [{ kind: 'ok', fields: { value: -10 }, value: -10 }]],
    ['+OK "value":true', [{ kind: 'ok', fields: { value: true }, value: true }]],
    ['+OK -10.000000', [{ kind: 'ok', fields: {}, value: -10 }]],
    [
      '! "publishToken":"MyLabel" "value":-100.000000 +OK',
      [
        { kind: 'publish', label: 'MyLabel', value: -100, fields: { publishToken: 'MyLabel', value: -100 } },
        { kind: 'ok', fields: {}, value: undefined },
      ],
    ],
    [
      '! "publishToken":"MyLabel" "value":-98.1',
      [{ kind: 'publish', label: 'MyLabel', value: -98.1, fields: { publishToken: 'MyLabel', value: -98.1 } }],
    ],
    [
      '-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}',
      [{ kind: 'error', code: 'ERR', text: 'address not found: {"deviceId":0 "classCode":0 "instanceNum":0}' }],
    ],
    [
      '-ERR Parse error at 22: not enough parameters supplied',
      [{ kind: 'error', code: 'ERR', text: 'Parse error at 22: not enough parameters supplied' }],
    ],
    ['-CANNOT_DELIVER', [{ kind: 'error', code: 'CANNOT_DELIVER', text: '' }]],
    ['-GENERAL_FAILURE', [{ kind: 'error', code: 'GENERAL_FAILURE', text: '' }]],
    [
      'Welcome to the Tesira Text Protocol Server...',
      [{ kind: 'banner', text: 'Welcome to the Tesira Text Protocol Server...' }],
    ],
    ['Mute1 set mute 1 true', [{ kind: 'other', line: 'Mute1 set mute 1 true' }]],
    ['! garbage', [{ kind: 'other', line: '! garbage' }]],
    ['', []],
  ])('%j', (line, expected) => {
    expect(parseTtpLine(line)).toEqual(expected);
  });

  it('parses space-separated lists and objects', () => {
    expect(parseFields('"value":{"minLevel":-100 "maxLevel":12 "labels":["a b" "c"]}')).toEqual({
      value: { minLevel: -100, maxLevel: 12, labels: ['a b', 'c'] },
    });
    expect(parseFields('"value":[1 2')).toBeNull();
  });

  it('encodes commands', () => {
    expect(encodeTtp('Level1', 'set', 'level', [1], -10)).toBe('Level1 set level 1 -10\n');
    expect(encodeTtp('Level1', 'set', 'level', [1], -10.25)).toBe('Level1 set level 1 -10.25\n');
    expect(encodeTtp('Mute1', 'set', 'mute', [1], true)).toBe('Mute1 set mute 1 true\n');
    expect(encodeTtp('Mute1', 'toggle', 'mute', [1])).toBe('Mute1 toggle mute 1\n');
    expect(encodeTtp('Room Level', 'get', 'level', [2])).toBe('"Room Level" get level 2\n');
    expect(encodeSubscribe('Level1', 'level', 1, 'MyLabel', 500)).toBe('Level1 subscribe level 1 MyLabel 500\n');
    expect(encodeRecallPreset(1001)).toBe('DEVICE recallPreset 1001\n');
    expect(encodeRecallPreset('All Off')).toBe('DEVICE recallPresetByName "All Off"\n');
  });

  it('property: the transcript re-chunked at random points parses the same', () => {
    const whole = parseChunks([TRANSCRIPT]);
    expect(whole).toHaveLength(14);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: TRANSCRIPT.length - 1 }), { maxLength: 50 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), TRANSCRIPT.length];
        expect(parseChunks(points.slice(1).map((end, i) => TRANSCRIPT.subarray(points[i], end)))).toEqual(whole);
      }),
    );
  });

  it('property: random bytes never throw, and a good line after a line end still parses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const p = new TtpParser();
        p.push(Buffer.from(bytes));
        expect(p.push(Buffer.from('\n+OK "value":-3\n')).at(-1)).toEqual({ kind: 'ok', fields: { value: -3 }, value: -3 });
      }),
    );
  });
});
