// Blackmagic ATEM through atem-connection: the library owns UDP 9910, its
// reliability layer and the switcher's state dump; the host's device lifecycle
// owns status, attempts and backoff (src/transport/session-link.ts): one
// library session per attempt, closed when the lifecycle ends the attempt so
// the library's own 1 s retry loop never runs. Its `stateChanged` state maps to
// ours. Commands resolve when the switcher acknowledges them; state changes
// only when the switcher says so.
import { type Static, Type } from '@sinclair/typebox';
import { type ActionDefinition, type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
import { SessionLink } from '../../src/transport/session-link.js';
import { AgentError, DeviceError, errorMessage } from '../../src/util/errors.js';
import { type AtemLike, createAtemConnection } from './backend.js';
import { mixerStateFromAtem, resolveAtemInput, touchesMixerState } from './protocol.js';

export const AtemConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'Address of the ATEM switcher.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 9910 }),
    me: Type.Integer({ minimum: 0, maximum: 3, default: 0, description: 'Mix/effect bus to control (0 = M/E 1).' }),
    worker_thread: Type.Boolean({
      default: true,
      description: "Run atem-connection's UDP socket in a worker thread (its default); false keeps it in the main thread.",
    }),
    connect_timeout_ms: Type.Integer({
      minimum: 1000,
      maximum: 60_000,
      default: 10_000,
      description:
        'Longest a connection attempt may take: handshake and the whole state dump (a large switcher sends ~1–2 s of it).',
    }),
    probe_interval_ms: Type.Integer({
      minimum: 500,
      maximum: 60_000,
      default: 2000,
      description:
        'How often the lifecycle asks atem-connection whether the session is alive (its own keep-alive declares a switcher gone after 5 s of silence).',
    }),
  },
  { additionalProperties: false },
);
export type AtemConfig = Static<typeof AtemConfigSchema>;

const InputParam = Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.String({ minLength: 1 })], {
  description: 'ATEM input id (1 = Camera 1, 1000 = bars, 3010 = media player 1 …) or its long/short name.',
});

export function createAtem(config: AtemConfig, ctx: DriverContext): DeviceInstance {
  const me = config.me ?? 0;
  const target = `${config.host}:${config.port ?? 9910}`;
  let atem: AtemLike | null = null;
  let stopped = false;

  function publish(): void {
    if (atem?.state) ctx.setState({ ...mixerStateFromAtem(atem.state, me) });
  }

  function device(): AtemLike {
    if (!atem || !sessionUp()) throw new DeviceError(`ATEM at ${target} is not connected`, 'DEVICE_OFFLINE');
    return atem;
  }

  function input(v: number | string): number {
    const n = resolveAtemInput(atem?.state, v);
    if (n === null) throw new AgentError('INVALID_PARAMS', `no ATEM input named "${v}"`);
    return n;
  }

  async function send(what: string, op: () => Promise<void>): Promise<{ ok: true }> {
    try {
      await op();
      return { ok: true };
    } catch (e) {
      throw e instanceof AgentError ? e : new DeviceError(`ATEM ${what} failed: ${errorMessage(e)}`);
    }
  }

  const NoParams = Type.Object({}, { additionalProperties: false });
  const actions: Record<string, ActionDefinition> = {
    program: defineAction({
      description: 'Put an input on program (cut) on the configured M/E.',
      params: Type.Object({ input: InputParam }, { additionalProperties: false }),
      run: (p) => send('program', () => device().changeProgramInput(input(p.input), me)),
    }),
    preview: defineAction({
      description: 'Put an input on preview on the configured M/E.',
      params: Type.Object({ input: InputParam }, { additionalProperties: false }),
      run: (p) => send('preview', () => device().changePreviewInput(input(p.input), me)),
    }),
    cut: defineAction({
      description: 'Cut preview to program.',
      params: NoParams,
      run: () => send('cut', () => device().cut(me)),
    }),
    auto: defineAction({
      description: 'Auto transition (the transition set on the switcher).',
      params: NoParams,
      run: () => send('auto', () => device().autoTransition(me)),
    }),
    aux: defineAction({
      description: 'Route a source to an aux output.',
      params: Type.Object(
        {
          bus: Type.Integer({ minimum: 1, maximum: 24, description: 'Aux number as on the panel (1 = Aux 1).' }),
          input: InputParam,
        },
        { additionalProperties: false },
      ),
      run: (p) => send('aux', () => device().setAuxSource(input(p.input), p.bus - 1)),
    }),
    'macro.run': defineAction({
      description: 'Run a stored macro.',
      params: Type.Object(
        { macro: Type.Integer({ minimum: 1, maximum: 100, description: 'Macro number as on the panel (1 = first).' }) },
        { additionalProperties: false },
      ),
      run: (p) => send('macro.run', () => device().macroRun(p.macro - 1)),
    }),
  };

  /** The library's session is up (atem-connection's AtemConnectionStatus.CONNECTED = 2). */
  const sessionUp = () => atem !== null && atem.status === 2;
  let connected: (() => void) | null = null;
  let library: Promise<AtemLike> | null = null;

  /** One atem-connection instance for the device's life; sessions on it open and close per attempt. */
  function ensureLibrary(): Promise<AtemLike> {
    library ??= createAtemConnection({ disableMultithreaded: config.worker_thread === false }).then((a) => {
      atem = a;
      a.on('connected', () => {
        // atem-connection fires this once the switcher's full state dump arrived.
        connected?.();
      });
      a.on('disconnected', () => link.sessionLost('no packet from the switcher for 5 s (atem-connection timeout)'));
      a.on('stateChanged', (_state, paths) => {
        if (!stopped && link.connected && touchesMixerState(paths, me)) publish();
      });
      a.on('error', (msg) => ctx.reportError(`atem-connection: ${msg}`));
      a.on('info', (msg) => ctx.logger.info({ atem: msg }, 'atem-connection info'));
      a.on('debug', (msg) => ctx.logger.debug({ atem: msg }, 'atem-connection debug'));
      return a;
    });
    return library;
  }

  const link = new SessionLink({
    label: `ATEM at ${target}`,
    clock: ctx.clock,
    openTimeoutMs: config.connect_timeout_ms ?? 10_000,
    async open(signal) {
      const a = await ensureLibrary();
      const ready = new Promise<void>((resolve, reject) => {
        connected = resolve;
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
      try {
        await a.connect(config.host, config.port ?? 9910);
        await ready;
      } finally {
        connected = null;
      }
    },
    async close() {
      // Stops the library's session and its own reconnect timer; the lifecycle decides when to try again.
      await atem?.disconnect().catch(() => undefined);
    },
  });

  const conn = ctx.connect(link, {
    handshake: async () => {
      publish();
      return `connected to ATEM at ${target}`;
    },
    // No request on the wire: atem-connection acknowledges the switcher's packets and watches its silence
    // itself; the probe asks it whether the session is still up.
    probe: async () => {
      if (!sessionUp()) throw new DeviceError(`ATEM at ${target}: session not up`, 'DEVICE_OFFLINE');
      link.heard();
    },
    probeIntervalMs: config.probe_interval_ms ?? 2000,
    probeTimeoutMs: 5000,
  });

  return {
    actions,
    async start() {
      stopped = false;
      conn.start();
    },
    async stop() {
      stopped = true;
      await conn.stop();
      const a = atem;
      atem = null;
      library = null;
      if (!a) return;
      a.removeAllListeners();
      await a.disconnect().catch(() => undefined);
      await a.destroy().catch(() => undefined);
    },
  };
}
