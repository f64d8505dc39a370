// pickLink: the "tcp or serial" choice of the matrix drivers, from their config keys.
import { describe, expect, it } from 'vitest';
import { pickLink } from '../src/transport/pick-link.js';
import { SerialLink } from '../src/transport/serial.js';
import { TcpLink } from '../src/transport/tcp.js';
import { AgentError } from '../src/util/errors.js';

const device = { id: 'sw1' };
const defaults = { port: 23, baudRate: 9600 };

describe('pickLink', () => {
  it('TCP by default, to host and the configured port or the default one', () => {
    const a = pickLink(device, { host: '192.0.2.5' }, defaults);
    expect(a).toBeInstanceOf(TcpLink);
    expect(a.describe()).toContain('192.0.2.5:23');
    expect(pickLink(device, { transport: 'tcp', host: '192.0.2.5', port: 5000 }, defaults).describe()).toContain(
      '192.0.2.5:5000',
    );
  });

  it('serial on path, at the configured speed or the default one', () => {
    const a = pickLink(device, { transport: 'serial', path: '/dev/ttyUSB0', host: 'ignored' }, defaults);
    expect(a).toBeInstanceOf(SerialLink);
    expect(a.describe()).toBe('serial:///dev/ttyUSB0@9600');
    expect(pickLink(device, { transport: 'serial', path: '/dev/ttyS1', baud_rate: 115_200 }, defaults).describe()).toBe(
      'serial:///dev/ttyS1@115200',
    );
  });

  it('a missing address is a config error naming the device', () => {
    const noPath = () => pickLink(device, { transport: 'serial', host: '192.0.2.5' }, defaults);
    expect(noPath).toThrow(AgentError);
    expect(noPath).toThrow('device sw1: transport "serial" needs "path"');
    expect(() => pickLink(device, { path: '/dev/ttyUSB0' }, defaults)).toThrow(
      'device sw1: transport "tcp" needs "host" (or simulated = true)',
    );
  });
});
