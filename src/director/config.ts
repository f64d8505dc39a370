// `[director]` in api.toml. Defaults follow what camera-tracking systems ship:
// Yealink's 1 s voice hold (VC880 manual p.142), AVer PTC's time to quit and
// 3-jump ping-pong rule (PTC V2 manual p.38), Audio-Technica's time to go back
// home (ATND1061 DMM camera settings).
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Shot = Type.Object(
  {
    camera: Type.String({ minLength: 1, description: 'Camera device id (e.g. "cam-1").' }),
    preset: Type.Integer({ minimum: 0, maximum: 255, description: 'Preset the camera recalls for this shot.' }),
  },
  { additionalProperties: false },
);

export const DirectorSourceSchema = Type.Object(
  {
    device: Type.String({ minLength: 1, description: 'Microphone device id.' }),
    channel: Type.Integer({ minimum: 0, description: 'Channel / lobe / coverage area / delegate number on that device.' }),
    camera: Type.String({ minLength: 1 }),
    preset: Type.Integer({ minimum: 0, maximum: 255 }),
    name: Type.Optional(Type.String({ description: 'Seat name used in explanations, e.g. "seat 4".' })),
    chairman: Type.Optional(Type.Boolean({ description: 'Treat this seat as the chairman even if the device does not say so.' })),
  },
  { additionalProperties: false },
);

export const DirectorMixerSchema = Type.Object(
  {
    device: Type.String({ minLength: 1, description: 'Mixer or matrix device id.' }),
    action: Type.String({
      minLength: 1,
      default: 'program',
      description: 'Action that puts an input on air (mixer "program", matrix "route").',
    }),
    params: Type.Record(Type.String(), Type.Unknown(), {
      default: { input: '{input}' },
      description:
        'Action params; the string "{input}" is replaced by the camera\'s input (e.g. { input = "{input}", output = 1 }).',
    }),
    inputs: Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String()]), {
      description: 'Mixer/matrix input of each camera, e.g. { "cam-1" = 1, "cam-2" = 2 }.',
    }),
    cover_input: Type.Optional(
      Type.Union([Type.Integer(), Type.String()], {
        description: 'Input shown while the on-air camera moves, when the overview camera itself has to move.',
      }),
    ),
    move_timeout_s: Type.Number({
      minimum: 0.1,
      maximum: 60,
      default: 3,
      description: "Cut back after this long even without the camera's Completion (some cameras complete early or never).",
    }),
  },
  { additionalProperties: false },
);

export const DirectorFarEndSchema = Type.Object(
  {
    device: Type.String({ minLength: 1, description: 'Audio processor device id.' }),
    state: Type.String({ minLength: 1, description: 'State key that is truthy while the far end speaks.' }),
    delay_s: Type.Number({ minimum: 0, maximum: 60, default: 2, description: 'Far-end speech must last this long.' }),
  },
  { additionalProperties: false },
);

export const DirectorSectionSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('auto'), Type.Literal('paused'), Type.Literal('off')], {
      default: 'auto',
      description: 'Mode at start-up.',
    }),
    overview: Shot,
    sources: Type.Array(DirectorSourceSchema, { minItems: 1, description: 'Which microphone shows which camera preset.' }),
    trigger_s: Type.Number({
      minimum: 0,
      maximum: 30,
      default: 1,
      description: 'Speech must last this long before the camera moves.',
    }),
    gap_s: Type.Number({ minimum: 0, maximum: 30, default: 2, description: 'Pauses shorter than this do not end a talker.' }),
    min_dwell_s: Type.Number({ minimum: 0, maximum: 120, default: 4, description: 'A shot stays at least this long.' }),
    silence_s: Type.Number({ minimum: 0, maximum: 600, default: 5, description: 'Silence this long returns to the overview.' }),
    priority: Type.Union([Type.Literal('first'), Type.Literal('last')], {
      default: 'first',
      description: 'Between non-chairman talkers: first-come keeps the camera, last-come takes it.',
    }),
    ping_pong_switches: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: 3,
      description: 'More switches than this … (0 turns ping-pong damping off)',
    }),
    ping_pong_window_s: Type.Number({ minimum: 1, maximum: 600, default: 20, description: '… within this window → overview.' }),
    ping_pong_hold_s: Type.Number({
      minimum: 0,
      maximum: 600,
      default: 20,
      description: 'How long the overview is held after ping-pong.',
    }),
    override_s: Type.Number({
      minimum: 0,
      maximum: 86_400,
      default: 60,
      description: 'A manual camera action or a scenario pauses the director this long.',
    }),
    decision_log_size: Type.Integer({
      minimum: 10,
      maximum: 100_000,
      default: 500,
      description: 'Decisions kept in the database.',
    }),
    mixer: Type.Optional(DirectorMixerSchema),
    far_end: Type.Optional(DirectorFarEndSchema),
  },
  { additionalProperties: false },
);

export type DirectorSection = Static<typeof DirectorSectionSchema>;
export type DirectorSource = Static<typeof DirectorSourceSchema>;
export type DirectorMode = DirectorSection['mode'];

/** The section with the schema's defaults applied, as the loader does (tests build it by hand). */
export function directorSettings(
  partial: Partial<DirectorSection> & Pick<DirectorSection, 'overview' | 'sources'>,
): DirectorSection {
  return Value.Default(DirectorSectionSchema, Value.Clone(partial)) as DirectorSection;
}
