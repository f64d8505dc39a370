// The simulator's camera-side codec against packets copied from the Sony
// VISCA command and inquiry lists (BRC-X400 Command List; EVI-H100S command list p.29),
// and the rule that it owes nothing to the driver's code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CameraStreamDecoder, cameraReply, hexBytes, parseCameraRequest } from './sim-codec.js';
import { SIMULATED_MODELS } from './sim-models.js';

const bytes = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const parse = (s: string) => parseCameraRequest(bytes(s));

describe('simulator codec (Sony VISCA command list)', () => {
  it('reads the commands of the X400 command list', () => {
    expect(parse('81 01 04 3F 02 0A FF')).toEqual({ kind: 'preset', address: 1, op: 'recall', byte: 0x0a });
    expect(parse('83 01 04 3F 01 00 FF')).toEqual({ kind: 'preset', address: 3, op: 'set', byte: 0 });
    expect(parse('81 01 06 01 05 06 01 02 FF')).toMatchObject({
      kind: 'pan-tilt-drive',
      panSpeed: 5,
      tiltSpeed: 6,
      direction: 'down-left',
    });
    expect(parse('81 01 06 01 05 06 03 03 FF')).toMatchObject({ kind: 'pan-tilt-drive', direction: 'stop' });
    // Pan DE00 = −8704 (−170°), tilt 1200 = +4608.
    expect(parse('81 01 06 02 18 00 0D 0E 00 00 01 02 00 00 FF')).toEqual({
      kind: 'absolute',
      address: 1,
      panSpeed: 0x18,
      tiltSpeedByte: 0,
      pan: -0x2200,
      tilt: 0x1200,
    });
    expect(parse('81 01 06 03 01 00 00 00 01 00 0F 0F 0F 0F FF')).toMatchObject({ kind: 'relative', pan: 0x10, tilt: -1 });
    expect(parse('81 01 06 04 FF')).toMatchObject({ kind: 'home' });
    expect(parse('81 01 06 05 FF')).toMatchObject({ kind: 'pan-tilt-reset' });
    expect(parse('81 01 04 07 25 FF')).toMatchObject({ kind: 'zoom', op: 'tele', speed: 5 });
    expect(parse('81 01 04 07 03 FF')).toMatchObject({ kind: 'zoom', op: 'wide' });
    expect(parse('81 01 04 47 07 0A 0C 00 FF')).toMatchObject({ kind: 'zoom-direct', position: 0x7ac0 });
    expect(parse('81 01 04 00 03 FF')).toMatchObject({ kind: 'power', on: false });
    expect(parse('82 22 FF')).toEqual({ kind: 'cancel', address: 2, socket: 2 });
    expect(parse('88 01 00 01 FF')).toEqual({ kind: 'if-clear', address: 8 });
    expect(parse('88 30 01 FF')).toEqual({ kind: 'address-set', address: 8, next: 1 });
  });

  it('reads the inquiries of the X400 inquiry list', () => {
    const what = (s: string) => (parse(s) as { what?: string }).what;
    expect(['81 09 06 12 FF', '81 09 04 47 FF', '81 09 04 00 FF', '81 09 04 3F FF', '81 09 06 10 FF'].map(what)).toEqual([
      'pan-tilt',
      'zoom',
      'power',
      'last-preset',
      'pan-tilt-status',
    ]);
  });

  it('tells a length error from a syntax error', () => {
    expect(parse('81 FF').kind).toBe('malformed');
    expect(parse(`81 ${'01 '.repeat(15)}FF`).kind).toBe('malformed');
    expect(parse('81 01 04 3F 02').kind).toBe('malformed');
    expect(parse('81 01 04 3F 03 00 FF').kind).toBe('unknown');
    expect(parse('81 01 06 01 05 06 00 00 FF').kind).toBe('unknown');
    expect(parse('81 01 06 02 01 00 10 00 00 00 00 00 00 00 FF').kind).toBe('unknown');
    expect(parse('90 41 FF').kind).toBe('unknown');
  });

  it('builds the camera messages of the X400 list', () => {
    expect(hexBytes(cameraReply.ack(1, 2))).toBe('90 42 FF');
    expect(hexBytes(cameraReply.completion(2, 1))).toBe('A0 51 FF');
    expect(hexBytes(cameraReply.error(1, 0, 0x03))).toBe('90 60 03 FF');
    expect(hexBytes(cameraReply.data(1, [0x02]))).toBe('90 50 02 FF');
    expect(hexBytes(cameraReply.addressSet(3))).toBe('88 30 03 FF');
    expect(hexBytes(cameraReply.networkChange(2))).toBe('A0 38 FF');
  });

  it('splits a stream at FF, across chunks, and turns an endless run into one over-long packet', () => {
    const dec = new CameraStreamDecoder();
    expect(dec.push(bytes('81 01 04'))).toEqual([]);
    expect(dec.push(bytes('3F 02 00 FF 81 09')).map(hexBytes)).toEqual(['81 01 04 3F 02 00 FF']);
    expect(dec.push(bytes('04 00 FF')).map(hexBytes)).toEqual(['81 09 04 00 FF']);
    const long = dec.push(Buffer.concat([Buffer.alloc(40, 0x01), bytes('FF')]));
    expect(long).toHaveLength(1);
    expect(parseCameraRequest(long[0]).kind).toBe('malformed');
  });

  it("imports nothing from the driver's code (test/simulator-independence.test.ts checks every file the driver reaches)", () => {
    const driverFiles = ['protocol', 'session', 'driver', 'actions', 'ip-header', 'shared-udp', 'config', 'profiles', 'index'];
    for (const file of ['sim-codec.ts', 'sim-models.ts', 'camera-model.ts', 'simulator.ts', 'serial-sim.ts']) {
      const source = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
      const imports = [...source.matchAll(/from '\.\/([\w-]+)\.js'/g)].map((m) => m[1]);
      expect(
        imports.filter((i) => driverFiles.includes(i)),
        file,
      ).toEqual([]);
    }
  });
});

describe("the simulator's camera models (sim-models.ts, from the vendors' command lists)", () => {
  it('Sony BRC-X400: pp = preset No. − 1 (00–63), pan 01–18, tilt 01–17', () => {
    const m = SIMULATED_MODELS.sony;
    expect([m.presetOfByte(0x00), m.presetOfByte(0x09), m.presetOfByte(0x63)]).toEqual([1, 10, 100]);
    expect([m.hasPresetByte(0x63), m.hasPresetByte(0x64)]).toEqual([true, false]);
    expect([m.panSpeed, m.tiltSpeed]).toEqual([
      [0x01, 0x18],
      [0x01, 0x17],
    ]);
  });
  it('PTZOptics: presets as-is, 90–99 and 255 run special functions; tilt up to 14', () => {
    const m = SIMULATED_MODELS.ptzoptics;
    expect([89, 90, 99, 100, 254, 255].map((n) => m.hasPresetByte(n))).toEqual([true, false, false, true, true, false]);
    expect(m.presetOfByte(10)).toBe(10);
    expect(m.tiltSpeed[1]).toBe(0x14);
  });
  it('Lumens: presets 0–127 as-is', () => {
    expect([127, 128].map((n) => SIMULATED_MODELS.lumens.hasPresetByte(n))).toEqual([true, false]);
  });
});
