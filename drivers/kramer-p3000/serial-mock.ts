// A serial "device" on @serialport/binding-mock: a binding whose ports hand
// every byte the driver writes to a simulator, and let the simulator answer.
// Tests pass this binding to the driver (SerialLink's per-link `binding`).
import { createRequire } from 'node:module';
import type { BindingInterface } from '../../src/transport/serial.js';

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
  onOpen(peer: SerialPeer): void;
  onData(data: Buffer): void;
  onClose(): void;
}

/** Creates the mock port `path` and a binding that connects it to `handlers`. */
export function serialDeviceBinding(path: string, handlers: SerialDeviceHandlers): BindingInterface {
  MockBinding.createPort(path, { echo: false, record: false });
  const binding = {
    list: () => MockBinding.list(),
    async open(options: Parameters<typeof MockBinding.open>[0]) {
      const port: MockPortBinding = await MockBinding.open(options);
      const write = port.write.bind(port);
      const close = port.close.bind(port);
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
      port.close = async () => {
        await close();
        handlers.onClose();
      };
      handlers.onOpen(peer);
      return port;
    },
  };
  return binding as unknown as BindingInterface;
}
