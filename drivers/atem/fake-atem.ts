// A fake of atem-connection's `Atem` class, limited to what the driver calls
// (see backend.ts). It behaves like the library: `connected` after the state
// dump, `stateChanged(state, paths)` after the switcher applied a command,
// promises resolved on "ack" and rejected when told to fail.
import { EventEmitter } from 'node:events';
import type { AtemLike, AtemLikeEvents } from './backend.js';
import type { AtemStateView } from './protocol.js';

type MutableState = {
  video: {
    mixEffects: { programInput: number; previewInput: number; transitionPosition: { inTransition: boolean } }[];
    auxilliaries: (number | undefined)[];
  };
  inputs: Record<number, { inputId: number; longName: string; shortName: string }>;
  macro: { macroPlayer: { isRunning: boolean; macroIndex: number } };
};

export function sampleAtemState(): MutableState {
  const inputs: MutableState['inputs'] = {};
  const add = (inputId: number, longName: string, shortName: string) => (inputs[inputId] = { inputId, longName, shortName });
  add(0, 'Black', 'BLK');
  add(1, 'Camera 1', 'CAM1');
  add(2, 'Camera 2', 'CAM2');
  add(3, 'Laptop', 'LAP');
  add(1000, 'Color Bars', 'BARS');
  add(3010, 'Media Player 1', 'MP1');
  return {
    video: {
      mixEffects: [{ programInput: 1, previewInput: 2, transitionPosition: { inTransition: false } }],
      auxilliaries: [1, 3],
    },
    inputs,
    macro: { macroPlayer: { isRunning: false, macroIndex: 0 } },
  };
}

export class FakeAtem extends EventEmitter implements AtemLike {
  state: AtemStateView | undefined = undefined;
  private s: MutableState = sampleAtemState();
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** false: `connect` never completes the handshake (switcher off). */
  reachable = true;
  /** The next command is rejected, as the library does when the connection drops mid-command. */
  failNext: string | null = null;
  /** Commands are acknowledged but the switcher changes nothing (no stateChanged). */
  ackWithoutChange = false;
  destroyed = false;
  connectedTo: { address: string; port?: number } | null = null;

  override on<E extends keyof AtemLikeEvents>(event: E, listener: (...args: AtemLikeEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** The switcher as configured now (tests change it while "disconnected"). */
  get switcher(): MutableState {
    return this.s;
  }

  /** atem-connection's AtemConnectionStatus: 0 closed, 1 connecting (or retrying on its own), 2 connected. */
  status = 0;

  async connect(address: string, port?: number): Promise<void> {
    this.calls.push({ method: 'connect', args: [address, port] });
    this.connectedTo = { address, port };
    this.status = 1;
    // Like the library, connect() returns once HELLO is sent, not when the switcher answered.
    if (this.reachable) setImmediate(() => this.handshake());
  }

  private handshake(): void {
    if (this.status !== 1) return;
    this.status = 2;
    this.state = structuredClone(this.s);
    this.emit('connected');
  }

  /** The switcher goes away: after its 5 s timeout the library emits `disconnected` and starts retrying. */
  drop(): void {
    this.reachable = false;
    if (this.status !== 2) return;
    this.status = 1;
    this.emit('disconnected');
  }

  /** The switcher is back: a library still retrying re-handshakes and rebuilds state from the dump. */
  comeBack(): void {
    this.reachable = true;
    if (this.status === 1) setImmediate(() => this.handshake());
  }

  /** A change made on the switcher's own panel. */
  panel(mutate: (s: MutableState) => void, paths: string[]): void {
    mutate(this.s);
    this.state = structuredClone(this.s);
    this.emit('stateChanged', this.state, paths);
  }

  async disconnect(): Promise<void> {
    this.calls.push({ method: 'disconnect', args: [] });
    this.status = 0;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  private async command(method: string, args: unknown[], apply: (s: MutableState) => string[]): Promise<void> {
    this.calls.push({ method, args });
    await new Promise((r) => setImmediate(r));
    if (this.failNext) {
      const msg = this.failNext;
      this.failNext = null;
      throw new Error(msg);
    }
    if (this.ackWithoutChange) return;
    const paths = apply(this.s);
    this.state = structuredClone(this.s);
    this.emit('stateChanged', this.state, paths);
  }

  changeProgramInput(input: number, me = 0): Promise<void> {
    return this.command('changeProgramInput', [input, me], (s) => {
      s.video.mixEffects[me].programInput = input;
      return [`video.mixEffects.${me}.programInput`];
    });
  }
  changePreviewInput(input: number, me = 0): Promise<void> {
    return this.command('changePreviewInput', [input, me], (s) => {
      s.video.mixEffects[me].previewInput = input;
      return [`video.mixEffects.${me}.previewInput`];
    });
  }
  cut(me = 0): Promise<void> {
    return this.command('cut', [me], (s) => {
      const m = s.video.mixEffects[me];
      [m.programInput, m.previewInput] = [m.previewInput, m.programInput];
      return [`video.mixEffects.${me}.programInput`, `video.mixEffects.${me}.previewInput`];
    });
  }
  autoTransition(me = 0): Promise<void> {
    return this.cut(me).then(() => {
      this.calls.at(-1)!.method = 'autoTransition';
    });
  }
  setAuxSource(source: number, bus = 0): Promise<void> {
    return this.command('setAuxSource', [source, bus], (s) => {
      s.video.auxilliaries[bus] = source;
      return [`video.auxilliaries.${bus}`];
    });
  }
  macroRun(index = 0): Promise<void> {
    return this.command('macroRun', [index], (s) => {
      s.macro.macroPlayer = { isRunning: true, macroIndex: index };
      return ['macro.macroPlayer'];
    });
  }
}
