// The binding-mock serial "device" shared by the matrix and DSP simulators:
// bytes both ways through a real SerialLink, unplug / plug-in of the adapter.
import { afterEach, describe, expect, it } from 'vitest';
import { SerialLink } from '../src/transport/serial.js';
import { type SerialPeer, serialDevice, serialSessionDevice } from '../src/transport/serial-mock.js';
import { until } from './support/wait.js';

let link: SerialLink | null = null;
afterEach(async () => {
  await link?.stop();
  link = null;
});

describe('serialDevice (binding-mock)', () => {
  it('hands what the link writes to the device and what the device sends to the link', async () => {
    const got: string[] = [];
    const events: string[] = [];
    const device: { peer: SerialPeer | null } = { peer: null };
    const dev = serialDevice('/dev/serial-mock-echo', {
      onOpen: (p) => {
        device.peer = p;
        events.push('open');
      },
      onData: (d) => {
        got.push(d.toString('latin1'));
        device.peer?.send(`echo ${d.toString('latin1')}`);
      },
      onClose: () => events.push('close'),
    });
    link = new SerialLink({ path: '/dev/serial-mock-echo', baudRate: 9600, binding: dev.binding });
    const received: Buffer[] = [];
    link.on('data', (c) => received.push(c));
    link.start();
    await until(() => link?.connected === true, 'link up');
    expect(device.peer?.open).toBe(true);
    link.write('ping\r');
    await until(() => Buffer.concat(received).toString('latin1') === 'echo ping\r', 'the echo');
    expect(got.join('')).toBe('ping\r');
    // Strings from the device are sent as latin1: every byte value survives.
    device.peer?.send('\xff\x00');
    await until(
      () =>
        Buffer.concat(received)
          .subarray(-2)
          .equals(Buffer.from([0xff, 0x00])),
      'raw bytes',
    );
    await link.stop();
    expect(events).toEqual(['open', 'close']);
    expect(device.peer?.open).toBe(false);
  });

  it('an unplugged adapter fails the open port and refuses to reopen until plugged in', async () => {
    let opens = 0;
    const dev = serialDevice('/dev/serial-mock-unplug', {
      onOpen: () => void opens++,
      onData: () => undefined,
      onClose: () => undefined,
    });
    link = new SerialLink({
      path: '/dev/serial-mock-unplug',
      baudRate: 9600,
      binding: dev.binding,
      backoff: { initialMs: 10, maxMs: 20 },
    });
    const downs: string[] = [];
    link.on('down', (reason) => downs.push(reason));
    link.start();
    await until(() => link?.connected === true, 'link up');
    dev.unplug();
    await until(() => link?.connected === false && downs.length > 0, 'link down after unplug');
    // Retries while unplugged do not open the port.
    await new Promise((r) => setTimeout(r, 60));
    expect(opens).toBe(1);
    dev.plugIn();
    await until(() => link?.connected === true, 'link up again after plug-in');
    expect(opens).toBe(2);
  });

  it('serialSessionDevice: one session per open of the port, fed its bytes, ended on close', async () => {
    const log: string[] = [];
    let n = 0;
    const dev = serialSessionDevice('/dev/serial-mock-sessions', {
      open: (peer) => {
        n++;
        log.push(`open ${n}`);
        return { n, peer };
      },
      data: (s, d) => {
        log.push(`${s.n}: ${d.toString('latin1')}`);
        s.peer.send(`ok ${s.n}\r`);
      },
      close: (s) => log.push(`close ${s.n}`),
    });
    link = new SerialLink({
      path: '/dev/serial-mock-sessions',
      baudRate: 9600,
      binding: dev.binding,
      backoff: { initialMs: 10, maxMs: 20 },
    });
    const received: Buffer[] = [];
    link.on('data', (c) => received.push(c));
    link.start();
    await until(() => link?.connected === true, 'link up');
    link.write('a');
    await until(() => Buffer.concat(received).toString() === 'ok 1\r', 'answer from session 1');
    dev.unplug();
    await until(() => link?.connected === false, 'link down');
    dev.plugIn();
    await until(() => link?.connected === true, 'link up again');
    link.write('b');
    await until(() => Buffer.concat(received).toString() === 'ok 1\rok 2\r', 'answer from session 2');
    await link.stop();
    expect(log).toEqual(['open 1', '1: a', 'close 1', 'open 2', '2: b', 'close 2']);
  });
});
