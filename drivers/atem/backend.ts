// The slice of atem-connection's `Atem` class this driver uses. Tests replace
// the library with a fake of exactly this interface (no JS ATEM simulator
// exists); production loads the real library lazily.
import type { AtemStateView } from './protocol.js';

export interface AtemLikeEvents {
  connected: [];
  disconnected: [];
  stateChanged: [state: AtemStateView, paths: string[]];
  error: [message: string];
  info: [message: string];
  debug: [message: string];
}

export interface AtemLike {
  readonly state: AtemStateView | undefined;
  /** atem-connection's AtemConnectionStatus: 0 closed, 1 connecting, 2 connected. */
  readonly status: number;
  on<E extends keyof AtemLikeEvents>(event: E, listener: (...args: AtemLikeEvents[E]) => void): unknown;
  removeAllListeners(): unknown;
  connect(address: string, port?: number): Promise<void>;
  disconnect(): Promise<void>;
  destroy(): Promise<void>;
  changeProgramInput(input: number, me?: number): Promise<void>;
  changePreviewInput(input: number, me?: number): Promise<void>;
  cut(me?: number): Promise<void>;
  autoTransition(me?: number): Promise<void>;
  setAuxSource(source: number, bus?: number): Promise<void>;
  macroRun(index?: number): Promise<void>;
}

export interface AtemFactoryOptions {
  /** Run the UDP socket in the main thread instead of a worker (atem-connection's `disableMultithreaded`). */
  disableMultithreaded: boolean;
}

export type AtemFactory = (o: AtemFactoryOptions) => Promise<AtemLike>;

const realFactory: AtemFactory = async (o) => {
  const { Atem } = await import('atem-connection');
  return new Atem({ disableMultithreaded: o.disableMultithreaded }) as unknown as AtemLike;
};

let factory: AtemFactory = realFactory;

/** Test seam: swap the library for a fake; `null` restores atem-connection. */
export function setAtemFactory(f: AtemFactory | null): void {
  factory = f ?? realFactory;
}

export function createAtemConnection(o: AtemFactoryOptions): Promise<AtemLike> {
  return factory(o);
}
