// A serial "device" on @serialport/binding-mock: a binding whose ports hand
// every byte the driver writes to a simulator, and let the simulator answer.
// Shared by the simulators (they ship in `room-agent simulate`, so it lives
// here and not in test/); tests pass the binding to SerialLink's `binding`.
// `unplug()` fails the port the way a pulled USB adapter does; `plugIn()` brings it back.
import { createRequire } from 'node:module';
import type { BindingInterface } from './serial.js';

// binding-mock ships types only for its CommonJS build, so load that one.
type BindingMockModule = typeof import('@serialport/binding-mock', { with: { 'resolution-mode': 'require' }});
type MockPortBinding = import('@serialport/binding-mock', { with: { 'resolution-mode': 'require' }}).MockPortBinding;
const { MockBinding } = createRequire(import.meta.url)('@serialport/binding-mock') as BindingMockModule;

export interface SerialPeer {
  /** Bytes from the device to the driver. */
  send(data: string | Buffer): void;
  readonly open: boolean;
}

export interface SerialDeviceHandlers {
  /** `opened`: the line settings the driver opened the port with (a unit at another speed reads garbage). */
  onOpen(peer: SerialPeer, opened: { baudRate: number }): void;
  onData(data: Buffer): void;
  onClose(): void;
}

export interface SerialDevice {
  binding: BindingInterface;
  /** The adapter disappears: the open port fails and cannot be reopened until `plugIn`. */
  unplug(): void;
  plugIn(): void;
  /** Every open of the port the driver tried, failed ones (adapter unplugged) included. */
  readonly openAttempts: number;
}

/** Creates the mock port `path` and a binding that connects it to `handlers`. */
export function serialDevice(path: string, handlers: SerialDeviceHandlers): SerialDevice {
  MockBinding.createPort(path, { echo: false, record: false });
  let unplugged = false;
  let current: MockPortBinding | null = null;
  let openAttempts = 0;
  const binding = {
    list: () => MockBinding.list(),
    async open(options: Parameters<typeof MockBinding.open>[0]) {
      openAttempts++;
      if (unplugged) throw new Error(`${path}: no such device (unplugged)`);
      const port: MockPortBinding = await MockBinding.open(options);
      current = port;
      const write = port.write.bind(port);
      const close = port.close.bind(port);
      const read = port.read.bind(port);
      const peer: SerialPeer = {
        send: (d) => {
          if (port.isOpen) port.emitData(Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1'));
        },
        get open() {
          return port.isOpen;
        },
      };
      port.write = async (buf: Buffer) => {
        await write(buf);
        handlers.onData(Buffer.from(buf));
      };
      // A read on an unplugged adapter fails with a real (not "canceled") error: the stream closes.
      port.read = async (buffer, offset, length) => {
        if (unplugged) throw new Error('device unplugged');
        return read(buffer, offset, length);
      };
      port.close = async () => {
        if (current === port) current = null;
        await close();
        handlers.onClose();
      };
      handlers.onOpen(peer, { baudRate: options.baudRate });
      return port;
    },
  };
  return {
    binding: binding as unknown as BindingInterface,
    unplug() {
      unplugged = true;
      // Wake the pending read so it fails now.
      if (current?.isOpen) current.emitData(Buffer.alloc(0));
    },
    plugIn() {
      unplugged = false;
    },
    get openAttempts() {
      return openAttempts;
    },
  };
}

/** What a simulator does with a session it serves on the port: one per open of the port. */
export interface SerialSessionHandlers<S> {
  open(peer: SerialPeer): S;
  data(session: S, data: Buffer): void;
  close(session: S): void;
}

/** `serialDevice` for a simulator that starts a session each time the port opens and ends it when the port closes. */
export function serialSessionDevice<S>(path: string, h: SerialSessionHandlers<S>): SerialDevice {
  let session: S | null = null;
  return serialDevice(path, {
    onOpen: (peer) => {
      session = h.open(peer);
    },
    onData: (d) => {
      if (session !== null) h.data(session, d);
    },
    onClose: () => {
      if (session !== null) h.close(session);
      session = null;
    },
  });
}
