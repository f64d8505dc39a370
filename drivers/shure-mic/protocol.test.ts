import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateOf, getCommand, parseMessage, repMessage, ShureFramer } from './protocol.js';

describe('Shure command strings (pubs.shure.com/command-strings/MXA910)', () => {
  it.each([
    ['REP 01 AUTOMIX_GATE_OUT_EXT_SIG ON', { kind: 'rep', channel: 1, param: 'AUTOMIX_GATE_OUT_EXT_SIG', value: 'ON' }],
    ['REP 1 AUTOMIX_GATE_OUT_EXT_SIG OFF', { kind: 'rep', channel: 1, param: 'AUTOMIX_GATE_OUT_EXT_SIG', value: 'OFF' }],
    ['REP 10 AUTOMIX_GATE_OUT_EXT_SIG ON', { kind: 'rep', channel: 10, param: 'AUTOMIX_GATE_OUT_EXT_SIG', value: 'ON' }],
    ['REP 008 AUTOMIX_GATE_OUT_CA ON', { kind: 'rep', channel: 8, param: 'AUTOMIX_GATE_OUT_CA', value: 'ON' }],
    ['REP 01 AUDIO_MUTE ON', { kind: 'rep', channel: 1, param: 'AUDIO_MUTE', value: 'ON' }],
    ['REP PRESET 03', { kind: 'rep', channel: null, param: 'PRESET', value: '03' }],
    ['REP 01 CHAN_NAME {Seat 1 left}', { kind: 'rep', channel: 1, param: 'CHAN_NAME', value: '{Seat 1 left}' }],
    ['REP ERR', { kind: 'error', text: 'REP ERR' }],
    ['SAMPLE 012 034 000', { kind: 'sample', values: ['012', '034', '000'] }],
    ['', { kind: 'other', text: '' }],
  ])('parses "< %s >"', (body, want) => {
    expect(parseMessage(body)).toEqual(want);
  });

  it.each([
    ['REP 01 AUTOMIX_GATE_OUT_EXT_SIG ON', 'lobes', { channel: 1, on: true }],
    ['REP 07 AUTOMIX_GATE_OUT_EXT_SIG OFF', 'lobes', { channel: 7, on: false }],
    ['REP 03 AUTOMIX_GATE_OUT_CA ON', 'coverage_areas', { channel: 3, on: true }],
    ['REP 03 AUTOMIX_GATE_OUT_CA ON', 'lobes', null],
    ['REP 03 AUTOMIX_GATE_OUT_EXT_SIG ON', 'coverage_areas', null],
    ['REP 01 AUDIO_MUTE ON', 'lobes', null],
  ] as const)('gate of "%s" (%s)', (body, source, want) => {
    expect(gateOf(parseMessage(body), source)).toEqual(want);
  });

  it('builds commands with two-digit channels', () => {
    expect(getCommand('AUTOMIX_GATE_OUT_EXT_SIG', 0)).toBe('< GET 00 AUTOMIX_GATE_OUT_EXT_SIG >');
    expect(getCommand('ALL')).toBe('< GET ALL >');
    expect(repMessage(3, 'AUTOMIX_GATE_OUT_CA', 'ON')).toBe('< REP 03 AUTOMIX_GATE_OUT_CA ON >');
  });

  it('frames on ">" from the last "<", across fragments, dropping text outside', () => {
    const f = new ShureFramer();
    expect(f.push('junk < REP 01 AUTOMIX_GATE')).toEqual([]);
    expect(f.push('_OUT_EXT_SIG ON >< REP 02 AUTOMIX_GATE_OUT_EXT_SIG OFF >\r\n<')).toEqual([
      'REP 01 AUTOMIX_GATE_OUT_EXT_SIG ON',
      'REP 02 AUTOMIX_GATE_OUT_EXT_SIG OFF',
    ]);
    expect(f.push(' REP ERR >')).toEqual(['REP ERR']);
    expect(f.push('stray > text')).toEqual([]);
  });

  it('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const f = new ShureFramer();
        for (const c of chunks) for (const body of f.push(Buffer.from(c))) parseMessage(body);
      }),
    );
  });

  it('a transcript re-chunked at random points parses the same', () => {
    const transcript = [
      repMessage(1, 'AUTOMIX_GATE_OUT_EXT_SIG', 'ON'),
      repMessage(12, 'AUTOMIX_GATE_OUT_EXT_SIG', 'OFF', 3),
      '< SAMPLE 001 002 >',
      '< REP ERR >',
      repMessage(4, 'AUTOMIX_GATE_OUT_CA', 'ON', 1),
    ].join('\r\n');
    const whole = new ShureFramer().push(transcript).map(parseMessage);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: transcript.length - 1 }), { maxLength: 12 }), (cuts) => {
        const f = new ShureFramer();
        const points = [0, ...cuts.sort((a, b) => a - b), transcript.length];
        const got = points.slice(1).flatMap((end, i) => f.push(Buffer.from(transcript.slice(points[i], end), 'latin1')));
        expect(got.map(parseMessage)).toEqual(whole);
      }),
    );
  });
});
