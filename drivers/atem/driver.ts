// Blackmagic ATEM through atem-connection: the library owns UDP 9910, its
// reliability layer and reconnects; we map its `connected`/`disconnected`
// events to status and its `stateChanged` state to ours. Commands resolve when
// the switcher acknowledges them; state changes only when the switcher says so.
import { type Static, Type } from '@sinclair/typebox';
import { type ActionDefinition, type DeviceInstance, type DriverContext, defineAction } from '../../src/host/contract.js';
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
    if (!atem) throw new DeviceError('ATEM connection not started', 'DEVICE_OFFLINE');
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

  return {
    actions,
    async start() {
      stopped = false;
      const a = await createAtemConnection({ disableMultithreaded: config.worker_thread === false });
      atem = a;
      a.on('connected', () => {
        if (stopped) return;
        // atem-connection fires this once the switcher's full state dump arrived; re-read all of it.
        publish();
        ctx.setStatus('online', `connected to ATEM at ${target}`);
      });
      a.on('disconnected', () => {
        if (stopped) return;
        ctx.setStatus('offline', `ATEM at ${target} not answering; atem-connection keeps retrying`);
      });
      a.on('stateChanged', (_state, paths) => {
        if (!stopped && touchesMixerState(paths, me)) publish();
      });
      a.on('error', (msg) => ctx.reportError(`atem-connection: ${msg}`));
      a.on('info', (msg) => ctx.logger.info({ atem: msg }, 'atem-connection info'));
      a.on('debug', (msg) => ctx.logger.debug({ atem: msg }, 'atem-connection debug'));
      ctx.setStatus('connecting', `connecting to ATEM at ${target}`);
      try {
        await a.connect(config.host, config.port ?? 9910);
      } catch (e) {
        // An unreachable switcher is not a driver crash: the library retries by itself.
        ctx.setStatus('offline', `ATEM at ${target}: ${errorMessage(e)}`);
      }
    },
    async stop() {
      stopped = true;
      const a = atem;
      atem = null;
      if (!a) return;
      a.removeAllListeners();
      await a.disconnect().catch(() => undefined);
      await a.destroy().catch(() => undefined);
    },
  };
}
