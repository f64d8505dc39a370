import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeCommand,
  encodeRoute,
  encodeRouteQuery,
  encodeSwitch,
  encodeSwitchQuery,
  HANDSHAKE,
  P3kParser,
  type P3kMessage,
  parseInfoIo,
  parseP3kLine,
  type RouteNumbering,
  routesIn,
} from './protocol.js';
import { expectSameWhenRechunked } from '../../test/support/driver-harness.js';

const KRAMER: RouteNumbering = { layers: { video: 1, audio: 2 }, disconnect: 'zero', inputs: 4 };
const COMPANION: RouteNumbering = { layers: { video: 0, audio: 1 }, disconnect: 'inputs_plus_one', inputs: 4 };

// Replies and device-initiated lines as the Kramer Protocol 3000 pages give them (VS-44DT manual p.65, VP-8x8AK p.47).
const TRANSCRIPT =
  'Kramer Electronics LTD., VS-44DT Version 1.20\r\n' +
  '~01@ OK\r\n~OK\r\n~01@ok\r\n' +
  '~01@VID 1>2 OK\r\n~01@VID 1>2\r\n~01@VID 1>1,2>2,3>3,4>4\r\n' +
  '~01@AV 3>7 OK\r\n~01@AUD 2>3 OK\r\n' +
  '~01@ROUTE 1,2,3 OK\r\n~01@ROUTE 2,4,0\r\n' +
  '~01@VID 9>2 ERR003\r\n~01@ERR002\r\n' +
  '~01@INFO-IO IN 4,OUT 4\r\n~01@PRST-RCL 3 OK\r\n' +
  'AV 2>3\r\n';

const parseAll = (chunks: (string | Buffer)[]): P3kMessage[] => {
  const p = new P3kParser();
  return chunks.flatMap((c) => p.push(c));
};
const reply = (command: string, params: string, result: 'ok' | 'error' | null = null, id: number | null = 1) => ({
  kind: 'reply',
  id,
  command,
  params,
  result,
  error: null,
});

describe('kramer protocol 3000', () => {
  it.each<[string, P3kMessage]>([
    ['~01@ OK', { kind: 'ok', id: 1 }],
    ['~OK', { kind: 'ok', id: null }],
    ['~01@ok', { kind: 'ok', id: 1 }],
    ['~01@VID 1>2 OK', reply('VID', '1>2', 'ok') as P3kMessage],
    ['~01@V 1>2 OK', reply('VID', '1>2', 'ok') as P3kMessage],
    ['~01@VID 1>2', reply('VID', '1>2') as P3kMessage],
    ['~01@ROUTE 1,*,2 OK', reply('ROUTE', '1,*,2', 'ok') as P3kMessage],
    ['AV 3>7', reply('AV', '3>7', null, null) as P3kMessage],
    [
      '~01@VID 9>2 ERR003',
      { ...reply('VID', '9>2', 'error'), error: { code: 'ERR003', message: 'parameter out of range' } } as P3kMessage,
    ],
    [
      '~01@AUD 1>1 ERR 002',
      {
        ...reply('AUD', '1>1', 'error'),
        error: { code: 'ERR002', message: 'command not available on this device' },
      } as P3kMessage,
    ],
    ['~01@ERR001', { ...reply('ERR', '', 'error'), error: { code: 'ERR001', message: 'syntax error' } } as P3kMessage],
    [
      '~01@PRST-STO 2 ERR004',
      { ...reply('PRST-STO', '2', 'error'), error: { code: 'ERR004', message: 'unauthorized access' } } as P3kMessage,
    ],
    ['~01@INFO-IO IN 8,OUT 4', reply('INFO-IO', 'IN 8,OUT 4') as P3kMessage],
    [
      'Kramer Electronics LTD., VS-88H Version 1.2',
      { kind: 'start', model: 'VS-88H', version: '1.2', text: 'Kramer Electronics LTD., VS-88H Version 1.2' },
    ],
    ['hello world', { kind: 'garbage', text: 'hello world' }],
    ['~\x01\x02', { kind: 'garbage', text: '~\x01\x02' }],
  ])('parses %j', (line, expected) => {
    expect(parseP3kLine(line)).toEqual(expected);
  });

  it('ignores blank lines and our own echoed commands', () => {
    expect(parseP3kLine('')).toBeNull();
    expect(parseP3kLine('#VID 1>2')).toBeNull();
  });

  it('reads routes with the per-model layer numbers and disconnect value', () => {
    const p = (l: string) => parseP3kLine(l)!;
    expect(routesIn(p('~01@VID 1>1,0>2'), KRAMER)).toEqual([
      { layer: 'video', input: 1, output: 1 },
      { layer: 'video', input: null, output: 2 },
    ]);
    expect(routesIn(p('~01@AV 3>4 OK'), KRAMER)).toEqual([{ layer: 'av', input: 3, output: 4 }]);
    expect(routesIn(p('~01@ROUTE 2,4,3'), KRAMER)).toEqual([{ layer: 'audio', input: 3, output: 4 }]);
    expect(routesIn(p('~01@ROUTE 0,4,5'), COMPANION)).toEqual([{ layer: 'video', input: null, output: 4 }]);
    expect(routesIn(p('~01@ROUTE 1,4,2'), COMPANION)).toEqual([{ layer: 'audio', input: 2, output: 4 }]);
    expect(routesIn(p('~01@ROUTE 3,1,1'), KRAMER)).toEqual([]); // data layer: not a matrix route we track
    expect(routesIn(p('~01@VID 9>2 ERR003'), KRAMER)).toEqual([]);
  });

  it('encodes commands', () => {
    expect(HANDSHAKE).toBe('#\r');
    expect(encodeSwitch('video', 1, 2, KRAMER)).toBe('#VID 1>2\r');
    expect(encodeSwitch('av', 3, 7, KRAMER)).toBe('#AV 3>7\r');
    expect(encodeSwitch('audio', null, 2, KRAMER)).toBe('#AUD 0>2\r');
    expect(encodeSwitch('video', null, 2, COMPANION)).toBe('#VID 5>2\r');
    expect(encodeRoute('video', 2, 3, KRAMER)).toBe('#ROUTE 1,3,2\r');
    expect(encodeRoute('audio', null, 3, COMPANION)).toBe('#ROUTE 1,3,5\r');
    expect(encodeRouteQuery('video', 3, COMPANION)).toBe('#ROUTE? 0,3\r');
    expect(encodeSwitchQuery('audio', 2)).toBe('#AUD? 2\r');
    expect(encodeCommand('PRST-RCL', [3], 5)).toBe('#5@PRST-RCL 3\r');
    expect(parseInfoIo('IN 8,OUT 4')).toEqual({ inputs: 8, outputs: 4 });
  });

  it('parses the same transcript however it is chunked (property)', () => {
    const whole = parseAll([TRANSCRIPT]);
    expect(whole).toHaveLength(16);
    expectSameWhenRechunked(TRANSCRIPT, parseAll, whole);
  });

  it('never throws on random bytes and recovers at the next line (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (bytes) => {
        const p = new P3kParser();
        p.push(Buffer.from(bytes));
        const after = p.push('\r\n~01@VID 3>4\r\n');
        expect(after).toContainEqual(reply('VID', '3>4'));
      }),
      { numRuns: 300 },
    );
  });
});
