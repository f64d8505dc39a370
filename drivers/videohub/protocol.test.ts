import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeLabel,
  encodeLock,
  encodeQuery,
  encodeRouting,
  interpretBlock,
  PING,
  VideohubParser,
  type VideohubMessage,
} from './protocol.js';
import { expectSameWhenRechunked } from '../../test/support/driver-harness.js';

// A connect dump as the Blackmagic Videohub Ethernet Protocol describes it (Videohub manual pp.75-77), followed by an ACK and an update.
const TRANSCRIPT =
  'PROTOCOL PREAMBLE:\nVersion: 2.3\n\n' +
  'VIDEOHUB DEVICE:\nDevice present: true\nModel name: Smart Videohub 16x16\nVideo inputs: 16\nVideo outputs: 16\nFuture key: x\n\n' +
  'INPUT LABELS:\n0 Camera 1\n1 Lectern PC\n\n' +
  'OUTPUT LABELS:\n0 Projector\n7 Codec\n\n' +
  'VIDEO OUTPUT LOCKS:\n0 U\n1 O\n2 L\n\n' +
  'VIDEO OUTPUT ROUTING:\n0 1\n7 2\n\n' +
  'SERIAL PORT ROUTING:\n0 0\n\n' +
  'CONFIGURATION:\nTake Mode: true\n\n' +
  'END PRELUDE:\n\n' +
  'ACK\n\n' +
  'VIDEO OUTPUT ROUTING:\n3 4\n\n' +
  'NAK\n\n';

const parseAll = (chunks: (string | Buffer)[]): VideohubMessage[] => {
  const p = new VideohubParser();
  return chunks.flatMap((c) => p.push(c));
};

describe('videohub protocol', () => {
  it('splits the connect dump into blocks, ACK and NAK', () => {
    const msgs = parseAll([TRANSCRIPT]);
    expect(msgs.map((m) => (m.kind === 'block' ? m.header : m.kind))).toEqual([
      'PROTOCOL PREAMBLE',
      'VIDEOHUB DEVICE',
      'INPUT LABELS',
      'OUTPUT LABELS',
      'VIDEO OUTPUT LOCKS',
      'VIDEO OUTPUT ROUTING',
      'SERIAL PORT ROUTING',
      'CONFIGURATION',
      'END PRELUDE',
      'ack',
      'VIDEO OUTPUT ROUTING',
      'nak',
    ]);
  });

  it.each([
    ['PROTOCOL PREAMBLE', ['Version: 2.3'], { type: 'preamble', version: '2.3' }],
    [
      'VIDEOHUB DEVICE',
      ['Device present: true', 'Model name: Smart Videohub 16x16', 'Video inputs: 16', 'Video outputs: 12', 'Unknown: 1'],
      { type: 'device', present: 'true', model: 'Smart Videohub 16x16', inputs: 16, outputs: 12 },
    ],
    [
      'VIDEOHUB DEVICE',
      ['Device present: false'],
      { type: 'device', present: 'false', model: null, inputs: null, outputs: null },
    ],
    [
      'VIDEOHUB DEVICE',
      ['Device present: needs_update'],
      { type: 'device', present: 'needs_update', model: null, inputs: null, outputs: null },
    ],
    [
      'VIDEO OUTPUT ROUTING',
      ['7 2', 'garbage line', '0 0'],
      {
        type: 'routing',
        routes: [
          [7, 2],
          [0, 0],
        ],
      },
    ],
    [
      'VIDEO OUTPUT LOCKS',
      ['7 O', '1 L', '2 U', '3 X'],
      {
        type: 'locks',
        locks: [
          [7, 'owned'],
          [1, 'locked'],
          [2, 'unlocked'],
        ],
      },
    ],
    [
      'INPUT LABELS',
      ['0 Camera 1', '3 Lectern: PC'],
      {
        type: 'input_labels',
        labels: [
          [0, 'Camera 1'],
          [3, 'Lectern: PC'],
        ],
      },
    ],
    ['OUTPUT LABELS', ['2 '], { type: 'output_labels', labels: [[2, '']] }],
    ['CONFIGURATION', ['Take Mode: true'], { type: 'configuration', values: { 'Take Mode': 'true' } }],
    ['END PRELUDE', [], { type: 'end_prelude' }],
    ['VIDEO MONITORING OUTPUT ROUTING', ['0 1'], { type: 'unknown', header: 'VIDEO MONITORING OUTPUT ROUTING' }],
  ])('interprets %s %j', (header, lines, expected) => {
    expect(interpretBlock(header, lines)).toEqual(expected);
  });

  it('encodes requests with 0-based indexes and a closing blank line', () => {
    expect(encodeRouting([[7, 2]])).toBe('VIDEO OUTPUT ROUTING:\n7 2\n\n');
    expect(
      encodeRouting([
        [0, 1],
        [1, 0],
      ]),
    ).toBe('VIDEO OUTPUT ROUTING:\n0 1\n1 0\n\n');
    expect(encodeLock(7, 'lock')).toBe('VIDEO OUTPUT LOCKS:\n7 O\n\n');
    expect(encodeLock(7, 'unlock')).toBe('VIDEO OUTPUT LOCKS:\n7 U\n\n');
    expect(encodeLock(7, 'force_unlock')).toBe('VIDEO OUTPUT LOCKS:\n7 F\n\n');
    expect(encodeQuery('OUTPUT LABELS')).toBe('OUTPUT LABELS:\n\n');
    expect(PING).toBe('PING:\n\n');
    expect(encodeLabel('input', 2, 'Cam\nera')).toBe('INPUT LABELS:\n2 Cam era\n\n');
  });

  it('accepts CRLF line ends and reports stray lines as garbage', () => {
    const msgs = parseAll(['ACK\r\n\r\nhello there\r\nVIDEO OUTPUT ROUTING:\r\n1 2\r\n\r\n']);
    expect(msgs).toEqual([
      { kind: 'ack' },
      { kind: 'garbage', line: 'hello there' },
      { kind: 'block', header: 'VIDEO OUTPUT ROUTING', lines: ['1 2'] },
    ]);
  });

  it('parses the same transcript however it is chunked (property)', () => {
    const whole = parseAll([TRANSCRIPT]);
    expectSameWhenRechunked(TRANSCRIPT, parseAll, whole);
  });

  it('never throws on random bytes, and resynchronises on the next block (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const p = new VideohubParser();
        p.push(Buffer.from(bytes));
        p.push('\n\n');
        const after = p.push('VIDEO OUTPUT ROUTING:\n1 2\n\n');
        expect(after).toContainEqual({ kind: 'block', header: 'VIDEO OUTPUT ROUTING', lines: ['1 2'] });
      }),
      { numRuns: 300 },
    );
  });
});

describe('videohub labels are UTF-8 (issue 17 §5)', () => {
  it('a label is decoded as UTF-8, even with a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('INPUT LABELS:\n0 Sala Süd\n\n', 'utf8');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "ü"
    const p = new VideohubParser();
    const out = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
    expect(out).toEqual([{ kind: 'block', header: 'INPUT LABELS', lines: ['0 Sala Süd'] }]);
  });
});
