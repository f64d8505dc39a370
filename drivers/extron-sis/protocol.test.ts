import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodePresetRecall,
  encodePresetSave,
  encodeReadTie,
  encodeTie,
  encodeVerbose,
  parseSisLine,
  SisParser,
  type SisMessage,
} from './protocol.js';
import { expectSameWhenRechunked } from '../../test/support/driver-harness.js';

// A Telnet session as the Extron SIS pages describe it (DXP DVI Pro user guide p.56) (IAC already stripped).
const TRANSCRIPT =
  '(c) Copyright 2026, Extron Electronics, DXP 88 HDMI, V1.05, 60-1080-01\r\nSun, 22 Nov 2026 12:00:00\r\n' +
  '\r\nPassword:' +
  '\r\nLogin Administrator\r\n' +
  'Vrb3\r\nV8X4 A8X4\r\n1.23\r\n' +
  'Out03 In01 All\r\nOut05 In07 Vid\r\nOut14 In12 Aud\r\nIn05 All\r\nOut003 In001 All\r\n' +
  'Qik\r\nRpr05\r\nSpr12\r\nE14\r\n07\r\n60-882-01\r\nVmt1\r\nExe1\r\n';

const parseAll = (chunks: (string | Buffer)[]): SisMessage[] => {
  const p = new SisParser();
  return chunks.flatMap((c) => p.push(c));
};

describe('extron sis protocol', () => {
  it.each<[string, SisMessage]>([
    ['Out03 In01 All', { kind: 'tie', output: 3, input: 1, layer: 'av' }],
    ['Out05 In07 Vid', { kind: 'tie', output: 5, input: 7, layer: 'video' }],
    ['Out05 In07 RGB', { kind: 'tie', output: 5, input: 7, layer: 'video' }],
    ['Out14 In12 Aud', { kind: 'tie', output: 14, input: 12, layer: 'audio' }],
    ['Out003 In001 All', { kind: 'tie', output: 3, input: 1, layer: 'av' }],
    ['Out3 In1 All', { kind: 'tie', output: 3, input: 1, layer: 'av' }],
    ['In05 All', { kind: 'tie_all', input: 5, layer: 'av' }],
    ['In00 Vid', { kind: 'tie_all', input: 0, layer: 'video' }],
    ['Qik', { kind: 'qik' }],
    ['Rpr05', { kind: 'preset', op: 'recall', preset: 5 }],
    ['Spr12', { kind: 'preset', op: 'save', preset: 12 }],
    ['Vrb3', { kind: 'verbose', mode: 3 }],
    ['V8X4 A8X4', { kind: 'size', videoInputs: 8, videoOutputs: 4, audioInputs: 8, audioOutputs: 4 }],
    ['V12X8', { kind: 'size', videoInputs: 12, videoOutputs: 8, audioInputs: null, audioOutputs: null }],
    ['E01', { kind: 'error', code: 'E01', message: 'invalid input number' }],
    ['E10', { kind: 'error', code: 'E10', message: 'invalid command' }],
    ['E24', { kind: 'error', code: 'E24', message: 'privilege violation' }],
    ['E99', { kind: 'error', code: 'E99', message: 'unknown error' }],
    ['07', { kind: 'value', text: '07' }],
    ['1.23', { kind: 'value', text: '1.23' }],
    ['60-882-01', { kind: 'value', text: '60-882-01' }],
    ['Login User', { kind: 'login', role: 'User' }],
    ['Password:', { kind: 'password_prompt' }],
    ['Vmt1', { kind: 'other', text: 'Vmt1' }],
    [
      '(c) Copyright 2026, Extron Electronics, DXP 88 HDMI, V1.05, 60-1080-01',
      {
        kind: 'banner',
        text: '(c) Copyright 2026, Extron Electronics, DXP 88 HDMI, V1.05, 60-1080-01',
        model: 'DXP 88 HDMI',
        firmware: '1.05',
      },
    ],
    ['ab\x00\x07cd', { kind: 'garbage', text: 'ab\x00\x07cd' }],
  ])('parses %j', (line, expected) => {
    expect(parseSisLine(line)).toEqual(expected);
  });

  it('ignores blank lines', () => {
    expect(parseSisLine('   ')).toBeNull();
  });

  it('encodes commands with unpadded numbers and no terminator', () => {
    expect(encodeTie(1, 3, 'av')).toBe('1*3!');
    expect(encodeTie(7, 5, 'video')).toBe('7*5%');
    expect(encodeTie(12, 14, 'audio')).toBe('12*14$');
    expect(encodeTie(0, 2, 'av')).toBe('0*2!');
    expect(encodeReadTie(5, 'video')).toBe('5%');
    expect(encodeReadTie(5, 'audio')).toBe('5$');
    expect(encodePresetRecall(5)).toBe('5.');
    expect(encodePresetSave(5)).toBe('5,');
    expect(encodeVerbose(3)).toBe('\x1b3CV');
  });

  it('recognises the password prompt, which has no line end', () => {
    const p = new SisParser();
    expect(p.push('(c) Copyright 2026, Extron Electronics, X, V1.00\r\n\r\nPass')).toHaveLength(1);
    expect(p.push('word:')).toEqual([{ kind: 'password_prompt' }]);
  });

  it('parses the same transcript however it is chunked (property)', () => {
    const whole = parseAll([TRANSCRIPT]);
    expect(whole).toHaveLength(20);
    expectSameWhenRechunked(TRANSCRIPT, parseAll, whole);
  });

  it('never throws on random bytes and recovers at the next line (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (bytes) => {
        const p = new SisParser();
        p.push(Buffer.from(bytes));
        const after = p.push('\r\nOut02 In04 Vid\r\n');
        expect(after).toContainEqual({ kind: 'tie', output: 2, input: 4, layer: 'video' });
      }),
      { numRuns: 300 },
    );
  });
});
