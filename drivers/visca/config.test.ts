// Config checks the schema cannot express: they put the device in bad_config with a clear message.
import { describe, expect, it } from 'vitest';
import { ViscaCamera } from './driver.js';
import { recordingContext, viscaConfig } from './test-support.js';

const make = (cfg: Parameters<typeof viscaConfig>[0]) => new ViscaCamera(viscaConfig(cfg), recordingContext());

describe('VISCA config checks', () => {
  it.each([
    [{ framing: 'serial' as const }, /framing "serial" needs path/],
    [{ framing: 'raw-tcp' as const }, /framing "raw-tcp" needs host/],
    [{ framing: 'sony-udp' as const, host: 'cam1.example.com' }, /needs host as an IP address/],
    [{ framing: 'raw-tcp' as const, host: '10.0.0.5', local_port: 52381 }, /local_port applies to framing "sony-udp" only/],
    [{ host: '10.0.0.5', profile: 'ptzoptics' as const, presets: { odd: 95 } }, /presets\.odd: preset 95 is reserved/],
    [{ host: '10.0.0.5', profile: 'sony' as const, presets: { zero: 0 } }, /presets\.zero: preset 0 is outside 1–100/],
    [{ host: '10.0.0.5', profile: 'ptzoptics' as const, tilt_speed: 0x17 }, /tilt_speed: ptzoptics cameras accept 1–20/],
  ])('%o is refused', (cfg, message) => {
    expect(() => make(cfg)).toThrow(message);
    try {
      make(cfg);
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_PARAMS' });
    }
  });

  it('defaults: Sony framing and profile, address 1, ports per framing', () => {
    const c = viscaConfig({ host: '10.0.0.5' });
    expect(c).toMatchObject({ framing: 'sony-udp', profile: 'sony', address: 1, local_port: 0, retries: 2, baud_rate: 9600 });
  });

  it('presets resolve by name, by number and by a number written as text', () => {
    const cam = make({ host: '10.0.0.5', presets: { down: 10 } });
    expect(cam.resolvePreset('down')).toEqual({ number: 10, name: 'down', byte: 9 });
    expect(cam.resolvePreset(10)).toEqual({ number: 10, name: 'down', byte: 9 });
    expect(cam.resolvePreset('3')).toEqual({ number: 3, name: null, byte: 2 });
    expect(() => cam.resolvePreset('up')).toThrow(/unknown preset "up"; named presets: down/);
  });
});
