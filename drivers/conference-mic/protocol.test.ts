import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfideaParser, confideaDatagram, parseConfidea } from './confidea.js';
import type { MicParser } from './protocol.js';
import { parseSdcBody, SdcParser, sdcChecksum, sdcFrame } from './sdc8000.js';
import { TaidenParser, taidenPosition } from './taiden.js';

describe('Taiden camera positions (HCS-3600 manual p.106)', () => {
  it.each([
    [[0xe5, 0x00, 0x03], [{ kind: 'position', channel: 3 }]],
    [[0xe5, 0x01, 0x02], [{ kind: 'position', channel: 258 }]],
    [[0xe5, 0x00, 0x00], [{ kind: 'all_off', why: 'panorama (E5 00 00)' }]],
    [[0xe6, 0x01, 0xe5, 0x00, 0x07], [{ kind: 'position', channel: 7 }]],
    [[0xe5, 0x00], []],
  ])('%j', (bytes, want) => {
    expect(new TaidenParser().push(Buffer.from(bytes))).toEqual(want);
  });
  it('keeps a frame split across chunks', () => {
    const p = new TaidenParser();
    expect(p.push(Buffer.from([0x00, 0xe5]))).toEqual([]);
    expect(p.push(Buffer.from([0x00]))).toEqual([]);
    expect(p.push(Buffer.from([0x09, 0xe5, 0x00, 0x00]))).toEqual([
      { kind: 'position', channel: 9 },
      { kind: 'all_off', why: 'panorama (E5 00 00)' },
    ]);
  });
  it('encodes a position', () => {
    expect(taidenPosition(0x0102)).toEqual(Buffer.from([0xe5, 0x01, 0x02]));
  });
});

describe('Sennheiser SDC 8000 serial output', () => {
  // The vendor examples of the Sennheiser SDC 8000 camera control protocol (manual pp.110-111), checked by hand.
  it.each([
    ['M00030110', { kind: 'mic', channel: 3, on: true, chairman: false }],
    ['m00030130', { kind: 'mic', channel: 3, on: false, chairman: false }],
    ['P00010111', { kind: 'mic', channel: 1, on: true, chairman: true }],
    ['p00010131', { kind: 'mic', channel: 1, on: false, chairman: true }],
    ['V00000116', { kind: 'all_off', why: 'all microphones off (%V)' }],
    ['S00000113', { kind: 'sync', active: [] }],
    ['S000200030004029C', { kind: 'sync', active: [2, 3, 4] }],
    [`1r0000${sdcChecksum('1r0000')}`, { kind: 'all_off', why: 'last microphone off, camera to neutral (%1r)' }],
    [`1R0003${sdcChecksum('1R0003')}`, { kind: 'info', text: 'first microphone on (%1R)' }],
  ])('%%%s', (body, want) => {
    expect(parseSdcBody(body)).toEqual(want);
  });
  it.each([
    ['M00030111', /bad checksum 0111, expected 0110/],
    ['M0003011G', /bad checksum/],
    ['M0A', /too short/],
    [`M003${sdcChecksum('M003')}`, /4-digit/],
    [`X0001${sdcChecksum('X0001')}`, /unknown command "X"/],
  ])('rejects %%%s', (body, reason) => {
    const u = parseSdcBody(body);
    expect(u.kind).toBe('bad_frame');
    expect(u.kind === 'bad_frame' && u.reason).toMatch(reason);
  });
  it('frames on CR, from the last "%"', () => {
    const p = new SdcParser();
    expect(p.push(Buffer.from('noise%M0003'))).toEqual([]);
    expect(p.push(Buffer.from('0110\r%m00030130\r'))).toEqual([
      { kind: 'mic', channel: 3, on: true, chairman: false },
      { kind: 'mic', channel: 3, on: false, chairman: false },
    ]);
    expect(sdcFrame('M0003')).toBe('%M00030110\r');
  });
});

describe('Televic Confidea UDP JSON', () => {
  it.each([
    ['{"UID": 7, "status": 1}', { kind: 'mic', channel: 7, on: true }],
    ['{"UID": 7, "status": 0}', { kind: 'mic', channel: 7, on: false }],
    ['{"UID": 7, "status": 2}', { kind: 'mic', channel: 7, on: false }],
    ['{"UID": 1, "status": 3}', { kind: 'mic', channel: 1, on: true, chairman: true }],
  ])('%s', (json, want) => {
    expect(parseConfidea(Buffer.from(json))).toEqual(want);
  });
  it.each([['{"UID":'], ['[1,2]'], ['{"UID":"7","status":1}'], ['{"UID":7,"status":9}'], ['null']])('rejects %s', (json) => {
    expect(parseConfidea(Buffer.from(json)).kind).toBe('bad_frame');
  });
  it('encodes a datagram', () => {
    expect(JSON.parse(confideaDatagram(4, 1).toString())).toEqual({ UID: 4, status: 1 });
  });
});

describe('parser properties', () => {
  const parsers: [string, () => MicParser, Buffer][] = [
    [
      'taiden',
      () => new TaidenParser(),
      Buffer.concat([taidenPosition(3), Buffer.from([0xe6, 0x01]), taidenPosition(0x0102), taidenPosition(0)]),
    ],
    [
      'sdc8000',
      () => new SdcParser(),
      Buffer.from(sdcFrame('M0003') + sdcFrame('P0001') + '%M00030111\r' + sdcFrame('S00020003') + sdcFrame('V0000'), 'latin1'),
    ],
  ];
  for (const [name, make, transcript] of parsers) {
    it(`${name}: random bytes never throw`, () => {
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
          const p = make();
          for (const c of chunks) p.push(Buffer.from(c));
        }),
      );
    });
    it(`${name}: a transcript re-chunked at random points parses the same`, () => {
      const whole = make().push(transcript);
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: transcript.length - 1 }), { maxLength: 10 }), (cuts) => {
          const p = make();
          const points = [0, ...cuts.sort((a, b) => a - b), transcript.length];
          expect(points.slice(1).flatMap((end, i) => p.push(transcript.subarray(points[i], end)))).toEqual(whole);
        }),
      );
    });
  }
  it('confidea: random datagrams never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (d) => {
        new ConfideaParser().push(Buffer.from(d));
      }),
    );
  });
});
