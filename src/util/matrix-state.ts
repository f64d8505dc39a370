// The state a matrix switcher with configured labels publishes (extron-sis,
// kramer-p3000): one builder, so the keys the console, director and scenarios
// read (`routes`, `audio_routes`, `*_labels`) stay the same across drivers.

/** Output number (1-based, as a string) → input number; null = untied / disconnected. */
export type RouteTable = Record<string, number | null>;

export interface MatrixTables {
  inputs: number;
  outputs: number;
  video: RouteTable;
  /** null: a video-only model, no `audio_routes` key. */
  audio: RouteTable | null;
  /** Names for inputs 1, 2, …; a missing one is the number itself. */
  inputLabels: string[];
  outputLabels: string[];
}

/** A state patch with copies of the tables (later changes to them do not leak into published state). */
export function matrixState(t: MatrixTables): Record<string, unknown> {
  return {
    inputs: t.inputs,
    outputs: t.outputs,
    routes: { ...t.video },
    ...(t.audio === null ? {} : { audio_routes: { ...t.audio } }),
    input_labels: numberedLabels(t.inputLabels, t.inputs),
    output_labels: numberedLabels(t.outputLabels, t.outputs),
  };
}

/** `{ "1": names[0] ?? "1", … }` for n entries. */
export function numberedLabels(names: string[], n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i + 1), names[i] ?? `${i + 1}`]));
}
