import { SerialPortStream } from '@serialport/stream';
import { Link, type LinkOptions } from './link.js';

export type BindingInterface = ConstructorParameters<typeof SerialPortStream>[0]['binding'];

export interface SerialLinkOptions extends LinkOptions {
  path: string;
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  /** This link's own binding (e.g. a simulator's binding-mock port); default: the module-wide one. */
  binding?: BindingInterface;
}

// The OS binding is loaded lazily and can be swapped (binding-mock in tests
// and in `room-agent simulate`), the seam node-serialport itself provides.
let binding: BindingInterface | null = null;
export function setSerialBinding(b: BindingInterface | null): void {
  binding = b;
}
async function currentBinding(): Promise<BindingInterface> {
  if (binding) return binding;
  const { autoDetect } = await import('@serialport/bindings-cpp');
  binding = autoDetect() as unknown as BindingInterface;
  return binding;
}

/** Serial port link; reopens with backoff when the adapter is unplugged. */
export class SerialLink extends Link {
  private port: SerialPortStream | null = null;
  private readonly o: SerialLinkOptions;
  constructor(o: SerialLinkOptions) {
    super(o);
    this.o = o;
  }
  describe(): string {
    return `serial://${this.o.path}@${this.o.baudRate}`;
  }
  protected async open(): Promise<void> {
    const b = this.o.binding ?? (await currentBinding());
    await new Promise<void>((resolve, reject) => {
      const p = new SerialPortStream({
        binding: b,
        path: this.o.path,
        baudRate: this.o.baudRate,
        dataBits: this.o.dataBits ?? 8,
        stopBits: this.o.stopBits ?? 1,
        parity: this.o.parity ?? 'none',
        autoOpen: false,
      });
      p.open((err) => {
        if (err) return reject(err);
        this.port = p;
        p.on('data', (chunk: Buffer) => this.emit('data', chunk));
        p.on('error', (e: Error) => this.logger?.debug({ link: this.describe(), err: e.message }, 'serial error'));
        p.on('close', () => {
          if (this.port === p) {
            this.port = null;
            this.lost('serial port closed');
          }
        });
        resolve();
      });
    });
  }
  protected async close(): Promise<void> {
    const p = this.port;
    this.port = null;
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  }
  write(data: Buffer | string): void {
    if (!this.port) {
      this.logger?.debug({ link: this.describe() }, 'write while down dropped');
      return;
    }
    this.port.write(data);
  }
}
