// Codec tables from the Sony manuals (Sony BRC-X400 VISCA command list and EVI-H100S command list p.29: message layer; Sony SRG-300H technical manual, "VISCA over IP" pp.31-32: IP header)
// plus property tests: random bytes never throw, re-chunked streams decode the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, encodeReset, nextSequence, PAYLOAD } from './ip-header.js';
import { PROFILES, presetByte, presetNumber } from './profiles.js';
import { SIMULATED_MODELS } from './sim-models.js';
import { type CameraMessage, decodeMessage, encode, hex, inquiry, parseRequest, reply, ViscaStreamDecoder } from './protocol.js';

const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('VISCA commands (controller → camera)', () => {
  const table: [string, Buffer, string][] = [
    ['preset reset 0', encode.preset(1, 'reset', 0), '81 01 04 3F 00 00 FF'],
    ['preset set 5', encode.preset(1, 'set', 5), '81 01 04 3F 01 05 FF'],
    ['preset recall 9 on camera 2', encode.preset(2, 'recall', 9), '82 01 04 3F 02 09 FF'],
    ['drive up', encode.panTiltDrive(1, 'up', 0x0c, 0x0a), '81 01 06 01 0C 0A 03 01 FF'],
    ['drive down', encode.panTiltDrive(1, 'down', 1, 1), '81 01 06 01 01 01 03 02 FF'],
    ['drive left', encode.panTiltDrive(1, 'left', 1, 1), '81 01 06 01 01 01 01 03 FF'],
    ['drive right', encode.panTiltDrive(1, 'right', 1, 1), '81 01 06 01 01 01 02 03 FF'],
    ['drive up-left', encode.panTiltDrive(1, 'up-left', 1, 1), '81 01 06 01 01 01 01 01 FF'],
    ['drive up-right', encode.panTiltDrive(1, 'up-right', 1, 1), '81 01 06 01 01 01 02 01 FF'],
    ['drive down-left', encode.panTiltDrive(1, 'down-left', 1, 1), '81 01 06 01 01 01 01 02 FF'],
    ['drive down-right', encode.panTiltDrive(1, 'down-right', 1, 1), '81 01 06 01 01 01 02 02 FF'],
    ['drive stop', encode.panTiltDrive(1, 'stop', 0x18, 0x17), '81 01 06 01 18 17 03 03 FF'],
    [
      'absolute (Sony, ww=00) pan -0x2200 tilt 0x1200',
      encode.absolute(1, 0x18, 0, -0x2200, 0x1200),
      '81 01 06 02 18 00 0D 0E 00 00 01 02 00 00 FF',
    ],
    [
      'absolute (PTZOptics, tilt speed) pan 0x2200 tilt -0x400',
      encode.absolute(1, 5, 7, 0x2200, -0x400),
      '81 01 06 02 05 07 02 02 00 00 0F 0C 00 00 FF',
    ],
    ['home', encode.home(1), '81 01 06 04 FF'],
    ['zoom stop', encode.zoom(1, 'stop'), '81 01 04 07 00 FF'],
    ['zoom tele', encode.zoom(1, 'tele'), '81 01 04 07 02 FF'],
    ['zoom wide', encode.zoom(1, 'wide'), '81 01 04 07 03 FF'],
    ['zoom tele speed 5', encode.zoom(1, 'tele', 5), '81 01 04 07 25 FF'],
    ['zoom wide speed 7', encode.zoom(1, 'wide', 7), '81 01 04 07 37 FF'],
    ['zoom direct 0x4000', encode.zoomDirect(1, 0x4000), '81 01 04 47 04 00 00 00 FF'],
    ['zoom direct 0x7AC0', encode.zoomDirect(1, 0x7ac0), '81 01 04 47 07 0A 0C 00 FF'],
    ['power on', encode.power(1, true), '81 01 04 00 02 FF'],
    ['power standby', encode.power(1, false), '81 01 04 00 03 FF'],
    ['cancel socket 2', encode.cancel(1, 2), '81 22 FF'],
    ['IF_Clear', encode.ifClear(1), '81 01 00 01 FF'],
    ['IF_Clear broadcast', encode.ifClearBroadcast(), '88 01 00 01 FF'],
    ['AddressSet broadcast', encode.addressSetBroadcast(), '88 30 01 FF'],
    ['pan-tilt position inquiry', encode.inqPanTilt(1), '81 09 06 12 FF'],
    ['zoom position inquiry', encode.inqZoom(1), '81 09 04 47 FF'],
    ['power inquiry', encode.inqPower(1), '81 09 04 00 FF'],
    ['last preset inquiry', encode.inqLastPreset(1), '81 09 04 3F FF'],
    ['pan-tilt status inquiry', encode.inqPanTiltStatus(1), '81 09 06 10 FF'],
  ];
  it.each(table)('%s', (_name, bytes, expected) => {
    expect(hex(bytes)).toBe(expected);
    // The simulator's parser reads back what the driver encodes.
    expect(parseRequest(bytes).kind).not.toMatch(/unknown|malformed/);
  });

  it('parses requests back into their fields', () => {
    expect(parseRequest(h('81 01 04 3F 02 09 FF'))).toEqual({ kind: 'preset', address: 1, op: 'recall', byte: 9 });
    expect(parseRequest(h('81 01 06 01 0C 0A 02 02 FF'))).toEqual({
      kind: 'pan-tilt-drive',
      address: 1,
      direction: 'down-right',
      panSpeed: 12,
      tiltSpeed: 10,
    });
    expect(parseRequest(h('81 01 06 02 18 00 0D 0E 00 00 01 02 00 00 FF'))).toMatchObject({
      kind: 'absolute',
      pan: -0x2200,
      tilt: 0x1200,
    });
    expect(parseRequest(h('81 01 04 47 07 0A 0C 00 FF'))).toMatchObject({ kind: 'zoom-direct', position: 0x7ac0 });
    expect(parseRequest(h('88 30 01 FF'))).toEqual({ kind: 'address-set', address: 8, next: 1 });
    expect(parseRequest(h('81 2 1 FF'.replace('2 1', '21')))).toEqual({ kind: 'cancel', address: 1, socket: 1 });
    expect(parseRequest(h('81 01 04 3F 07 09 FF')).kind).toBe('unknown');
    expect(parseRequest(h('81 01 06 01 01 01 03 03 03 FF')).kind).toBe('unknown');
    expect(parseRequest(h('01 04 FF')).kind).toBe('malformed');
    expect(parseRequest(h('81 01 04')).kind).toBe('malformed');
  });
});

describe('camera messages (camera → controller), PROTOCOLS §1.1 table', () => {
  const table: [string, string, CameraMessage][] = [
    ['ACK socket 1', '90 41 FF', { type: 'ack', from: 1, socket: 1 }],
    ['ACK socket 2', '90 42 FF', { type: 'ack', from: 1, socket: 2 }],
    ['Completion socket 1', '90 51 FF', { type: 'completion', from: 1, socket: 1 }],
    ['Completion from camera 2', 'A0 52 FF', { type: 'completion', from: 2, socket: 2 }],
    ['inquiry reply (power on)', '90 50 02 FF', { type: 'reply', from: 1, data: h('02') }],
    ['IF_Clear reply (no data)', '90 50 FF', { type: 'reply', from: 1, data: Buffer.alloc(0) }],
    ['message length error', '90 60 01 FF', { type: 'error', from: 1, socket: 0, code: 1, reason: 'message length error' }],
    ['syntax error', '90 60 02 FF', { type: 'error', from: 1, socket: 0, code: 2, reason: 'syntax error' }],
    ['command buffer full', '90 60 03 FF', { type: 'error', from: 1, socket: 0, code: 3, reason: 'command buffer full' }],
    ['command canceled', '90 61 04 FF', { type: 'error', from: 1, socket: 1, code: 4, reason: 'command canceled' }],
    ['no socket', '90 62 05 FF', { type: 'error', from: 1, socket: 2, code: 5, reason: 'no socket' }],
    ['not executable', '90 61 41 FF', { type: 'error', from: 1, socket: 1, code: 0x41, reason: 'command not executable' }],
    ['network change (80 38 FF, field report)', '80 38 FF', { type: 'network-change', from: 0 }],
    ['network change (A0 38 FF, PTZOptics tests)', 'A0 38 FF', { type: 'network-change', from: 2 }],
    ['AddressSet came back, one camera', '88 30 02 FF', { type: 'address-set', next: 2 }],
    ['IF_Clear broadcast came back', '88 01 00 01 FF', { type: 'if-clear-broadcast' }],
  ];
  it.each(table)('%s', (_name, bytes, expected) => {
    expect(decodeMessage(h(bytes))).toEqual(expected);
  });

  it('reply builders produce what the decoder reads', () => {
    expect(hex(reply.ack(1, 2))).toBe('90 42 FF');
    expect(hex(reply.completion(2, 1))).toBe('A0 51 FF');
    expect(hex(reply.error(1, 0, 3))).toBe('90 60 03 FF');
    expect(hex(reply.addressSet(2))).toBe('88 30 02 FF');
  });

  it('rejects what is not a camera message', () => {
    for (const s of ['81 01 FF', '90 41', '00 41 FF', '90 41 00 FF', '90 60 FF', '90 ' + '01 '.repeat(15) + 'FF']) {
      expect(decodeMessage(h(s)).type).toBe('unknown');
    }
  });

  it('decodes inquiry payloads', () => {
    expect(inquiry.panTilt(h('0D 0E 00 00 01 02 00 00'))).toEqual({ pan: -0x2200, tilt: 0x1200 });
    expect(inquiry.panTilt(h('00 00 00 00 0F 0C 00 00'))).toEqual({ pan: 0, tilt: -0x400 });
    expect(inquiry.panTilt(h('0D 0E 00'))).toBeNull();
    expect(inquiry.zoom(h('04 00 00 00'))).toBe(0x4000);
    expect(inquiry.zoom(h('14 00 00 00'))).toBeNull();
    expect(inquiry.power(h('02'))).toBe('on');
    expect(inquiry.power(h('03'))).toBe('standby');
    expect(inquiry.power(h('04'))).toBeNull();
    expect(inquiry.lastPreset(h('7F'))).toBeNull();
    expect(inquiry.lastPreset(h('09'))).toBe(9);
  });
});

describe('Sony VISCA over IP header (§1.2)', () => {
  it('encodes a command with its sequence number', () => {
    expect(hex(encodeFrame(PAYLOAD.command, 0x1234, h('81 01 04 3F 02 09 FF')))).toBe(
      '01 00 00 07 00 00 12 34 81 01 04 3F 02 09 FF',
    );
    expect(hex(encodeFrame(PAYLOAD.inquiry, 1, h('81 09 04 00 FF')))).toBe('01 10 00 05 00 00 00 01 81 09 04 00 FF');
  });
  it('RESET is 02 00 00 01 <seq> 01', () => {
    expect(hex(encodeReset())).toBe('02 00 00 01 00 00 00 00 01');
  });
  it('decodes replies (01 11), control replies (02 01) and rejects bad frames', () => {
    expect(decodeFrame(h('01 11 00 03 FF FF FF FF 90 41 FF'))).toEqual({
      ok: true,
      frame: { payloadType: 0x0111, sequence: 0xffffffff, payload: h('90 41 FF') },
    });
    expect(decodeFrame(h('02 01 00 02 00 00 00 05 0F 01'))).toMatchObject({
      ok: true,
      frame: { payloadType: 0x0201, payload: h('0F 01') },
    });
    expect(decodeFrame(h('01 11 00 04 00 00 00 01 90 41 FF')).ok).toBe(false); // length field says 4, 3 follow
    expect(decodeFrame(h('07 77 00 01 00 00 00 01 01')).ok).toBe(false); // unknown payload type
    expect(decodeFrame(h('01 11 00')).ok).toBe(false);
  });
  it('sequence numbers wrap to 0 at the limit', () => {
    expect(nextSequence(0)).toBe(1);
    expect(nextSequence(0xffffffff)).toBe(0);
  });
});

describe('preset numbering per profile (§1.1)', () => {
  it('Sony: preset N is byte N − 1, presets 1–100', () => {
    expect(presetByte(PROFILES.sony, 1)).toEqual({ ok: true, byte: 0x00 });
    expect(presetByte(PROFILES.sony, 100)).toEqual({ ok: true, byte: 0x63 });
    expect(presetByte(PROFILES.sony, 0).ok).toBe(false);
    expect(presetByte(PROFILES.sony, 101).ok).toBe(false);
    expect(presetNumber(PROFILES.sony, 0x09)).toBe(10);
  });
  it('PTZOptics: as-is, 90–99 and 255 reserved', () => {
    expect(presetByte(PROFILES.ptzoptics, 0)).toEqual({ ok: true, byte: 0 });
    expect(presetByte(PROFILES.ptzoptics, 89)).toEqual({ ok: true, byte: 89 });
    expect(presetByte(PROFILES.ptzoptics, 90).ok).toBe(false);
    expect(presetByte(PROFILES.ptzoptics, 99).ok).toBe(false);
    expect(presetByte(PROFILES.ptzoptics, 100)).toEqual({ ok: true, byte: 100 });
    expect(presetByte(PROFILES.ptzoptics, 254)).toEqual({ ok: true, byte: 254 });
    expect(presetByte(PROFILES.ptzoptics, 255).ok).toBe(false);
  });
  it('Lumens: as-is, 0–127', () => {
    expect(presetByte(PROFILES.lumens, 127)).toEqual({ ok: true, byte: 127 });
    expect(presetByte(PROFILES.lumens, 128).ok).toBe(false);
  });
});

describe("the driver's profiles and the simulator's models agree (each written from the manuals on its own)", () => {
  for (const name of ['sony', 'ptzoptics', 'lumens', 'generic'] as const) {
    it(name, () => {
      const profile = PROFILES[name];
      const model = SIMULATED_MODELS[name];
      // Every preset the driver would send is one the camera has, under the same number, and no other.
      const sent = new Set<number>();
      for (let n = -1; n <= 256; n++) {
        const b = presetByte(profile, n);
        if (!b.ok) continue;
        sent.add(b.byte);
        expect(model.hasPresetByte(b.byte), `preset ${n}`).toBe(true);
        expect(model.presetOfByte(b.byte)).toBe(n);
      }
      for (let pp = 0; pp <= 0xfe; pp++) if (model.hasPresetByte(pp)) expect(sent.has(pp), `byte ${pp}`).toBe(true);
      expect([profile.panSpeedMax, profile.tiltSpeedMax]).toEqual([model.panSpeed[1], model.tiltSpeed[1]]);
    });
  }
});

describe('stream decoder', () => {
  it('reads until FF across chunks and skips garbage', () => {
    const d = new ViscaStreamDecoder();
    expect(d.push(h('00 12 90'))).toEqual([]);
    expect(d.push(h('41 FF 90 5'.replace('5', '51')))).toEqual([h('90 41 FF')]);
    expect(d.push(h('FF'))).toEqual([h('90 51 FF')]);
    expect(d.garbageBytes).toBe(2);
    expect(d.push(h('FF FF 90 FF 90 50 02 FF'))).toEqual([h('90 50 02 FF')]);
    expect(d.garbageBytes).toBe(2 + 2 + 2); // two stray FF, and "90 FF" too short
  });
  it('drops over-long runs and resynchronises', () => {
    const d = new ViscaStreamDecoder();
    const junk = Buffer.alloc(40, 0x90);
    expect(d.push(Buffer.concat([junk, h('41 FF')]))).toHaveLength(1);
    expect(d.garbageBytes).toBeGreaterThan(0);
  });
});

// A realistic camera transcript: ACKs, completions, inquiry replies, errors, network change.
const transcript = Buffer.concat(
  [
    '90 41 FF',
    '90 51 FF',
    '90 50 02 FF',
    '90 50 0D 0E 00 00 01 02 00 00 FF',
    '90 60 03 FF',
    '90 62 41 FF',
    'A0 38 FF',
    '88 30 02 FF',
  ].map(h),
);

describe('properties', () => {
  it('random bytes never throw out of any decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes);
        decodeMessage(b);
        parseRequest(b);
        decodeFrame(b);
        const d = new ViscaStreamDecoder();
        for (const p of d.push(b)) decodeMessage(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('a stream split or merged at random points decodes to the same messages', () => {
    const whole = new ViscaStreamDecoder().push(transcript).map(decodeMessage);
    expect(whole).toHaveLength(8);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: transcript.length }), { maxLength: 12 }),
        fc.uint8Array({ maxLength: 8 }),
        (cuts, noise) => {
          // Leading noise (no FF, so it cannot merge into a message) is skipped.
          const prefix = Buffer.from(noise.filter((x) => x < 0x80));
          const data = Buffer.concat([prefix, transcript]);
          const points = [...new Set(cuts.map((c) => Math.min(c + prefix.length, data.length)))].sort((a, b) => a - b);
          const d = new ViscaStreamDecoder();
          const out: CameraMessage[] = [];
          let at = 0;
          for (const p of [...points, data.length]) {
            for (const m of d.push(data.subarray(at, p))) out.push(decodeMessage(m));
            at = p;
          }
          expect(out).toEqual(whole);
          expect(d.garbageBytes).toBe(prefix.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
