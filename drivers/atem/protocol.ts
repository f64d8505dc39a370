// ATEM state mapping, pure: the part of atem-connection's AtemState we read,
// turned into the common mixer state (program, preview, input names, aux,
// tally). The wire protocol itself (UDP 9910) lives in atem-connection.

/** The subset of atem-connection's `AtemState` this driver reads (structural, so tests can build it). */
export interface AtemStateView {
  video: {
    mixEffects: ReadonlyArray<
      { programInput: number; previewInput: number; transitionPosition?: { inTransition: boolean } } | undefined
    >;
    auxilliaries: ReadonlyArray<number | undefined>;
  };
  inputs: Readonly<Record<number, { inputId: number; longName: string; shortName: string } | undefined>>;
  macro?: { macroPlayer?: { isRunning: boolean; macroIndex: number } };
}

export interface MixerInput {
  number: number;
  title: string;
  short: string;
}

export interface AtemMixerState {
  program: number | null;
  preview: number | null;
  in_transition: boolean;
  inputs: MixerInput[];
  /** Aux bus (1-based, as on the panel) → source input. */
  aux: Record<string, number>;
  /** Input → 'program' | 'preview' on the configured M/E. */
  tally: Record<string, 'program' | 'preview'>;
  /** Running macro (1-based), or null. */
  macro_running: number | null;
}

export function mixerStateFromAtem(state: AtemStateView, me: number): AtemMixerState {
  const m = state.video.mixEffects[me];
  const inputs: MixerInput[] = Object.values(state.inputs)
    .filter((i) => i !== undefined)
    .map((i) => ({ number: i.inputId, title: i.longName, short: i.shortName }))
    .sort((a, b) => a.number - b.number);
  const aux: Record<string, number> = {};
  state.video.auxilliaries.forEach((src, bus) => {
    if (src !== undefined) aux[String(bus + 1)] = src;
  });
  const tally: Record<string, 'program' | 'preview'> = {};
  if (m) {
    tally[String(m.previewInput)] = 'preview';
    tally[String(m.programInput)] = 'program';
  }
  const player = state.macro?.macroPlayer;
  return {
    program: m?.programInput ?? null,
    preview: m?.previewInput ?? null,
    in_transition: m?.transitionPosition?.inTransition ?? false,
    inputs,
    aux,
    tally,
    macro_running: player?.isRunning ? player.macroIndex + 1 : null,
  };
}

/** Whether a `stateChanged` path list touches what we publish for M/E `me`. */
export function touchesMixerState(paths: readonly string[], me: number): boolean {
  return paths.some(
    (p) =>
      p.startsWith(`video.mixEffects.${me}`) ||
      p === 'video.mixEffects' ||
      p.startsWith('video.auxilliaries') ||
      p.startsWith('inputs') ||
      p.startsWith('macro.macroPlayer'),
  );
}

/** Resolves an input given as a number or as a long/short name. */
export function resolveAtemInput(state: AtemStateView | undefined, input: number | string): number | null {
  if (typeof input === 'number') return input;
  const n = Number(input);
  if (input.trim() !== '' && Number.isInteger(n)) return n;
  for (const i of Object.values(state?.inputs ?? {})) {
    if (i && (i.longName === input || i.shortName === input)) return i.inputId;
  }
  return null;
}
