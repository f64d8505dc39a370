import { type Static, type TSchema, Type } from '@sinclair/typebox';

const Params = Type.Record(Type.String(), Type.Unknown(), { description: 'The action parameters.' });

/** A condition on state: a device's status or one of its state values. */
export const ConditionSchema = Type.Object(
  {
    device: Type.String({ minLength: 1 }),
    key: Type.String({ minLength: 1, description: '"status" for the device status, else a state key.' }),
    equals: Type.Optional(Type.Unknown()),
    not_equals: Type.Optional(Type.Unknown()),
    in: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof ConditionSchema>;

const Selector = Type.Object(
  {
    kind: Type.Optional(Type.String({ description: 'Every device of this kind (camera, matrix, mixer, audio, …).' })),
    ids: Type.Optional(Type.Array(Type.String(), { description: 'These devices.' })),
  },
  { additionalProperties: false },
);

// Keys every step may carry, whatever it does.
const common = {
  name: Type.Optional(Type.String({ description: 'Shown in progress and run records.' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
  on_error: Type.Optional(Type.Union([Type.Literal('stop'), Type.Literal('continue')], { default: 'stop' })),
  if: Type.Optional(ConditionSchema),
  if_false: Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('stop')], { default: 'skip' })),
};

export type Step = {
  name?: string;
  timeout_ms?: number;
  on_error?: 'stop' | 'continue';
  if?: Condition;
  if_false?: 'skip' | 'stop';
  device?: string;
  devices?: { kind?: string; ids?: string[] };
  action?: string;
  params?: Record<string, unknown>;
  wait_ms?: number;
  parallel?: Step[];
  scenario?: string;
  director?: 'auto' | 'paused' | 'off';
  loop?: { count?: number; steps: Step[] };
};

/** A step: exactly one of action / wait / parallel / scenario / director / loop (checked by the loader). */
export const StepSchema: TSchema = Type.Recursive((Self) =>
  Type.Object(
    {
      ...common,
      device: Type.Optional(Type.String({ minLength: 1 })),
      devices: Type.Optional(Selector),
      action: Type.Optional(Type.String({ minLength: 1 })),
      params: Type.Optional(Params),
      wait_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
      parallel: Type.Optional(Type.Array(Self, { minItems: 1 })),
      scenario: Type.Optional(Type.String({ minLength: 1 })),
      director: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('paused'), Type.Literal('off')])),
      loop: Type.Optional(
        Type.Object(
          {
            count: Type.Optional(Type.Integer({ minimum: 1, description: 'Omit to loop until cancelled.' })),
            steps: Type.Array(Self, { minItems: 1 }),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
);

export const TriggerSchema = Type.Union([
  Type.Object(
    {
      type: Type.Literal('calendar'),
      event: Type.Union([Type.Literal('before'), Type.Literal('start'), Type.Literal('end')]),
      minutes: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 1440, description: 'For "before": how long before the start.' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('mic'),
      device: Type.String({ minLength: 1 }),
      channel: Type.Optional(Type.Integer({ minimum: 0, description: 'Omit for any channel of the device.' })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('state'), when: ConditionSchema }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('time'),
      at: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM in the room time zone.' }),
      days: Type.Optional(
        Type.Array(Type.Union(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => Type.Literal(d))), { minItems: 1 }),
      ),
    },
    { additionalProperties: false },
  ),
]);
export type Trigger = Static<typeof TriggerSchema>;

export const ScenarioFileSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    description: Type.Optional(Type.String()),
    mode: Type.Union([Type.Literal('single'), Type.Literal('restart'), Type.Literal('queued'), Type.Literal('parallel')], {
      default: 'single',
    }),
    max_runs: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'queued/parallel: runs waiting or running at most.',
    }),
    triggers: Type.Array(TriggerSchema, { default: [] }),
    steps: Type.Array(StepSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export interface Scenario {
  name: string;
  description?: string;
  mode: 'single' | 'restart' | 'queued' | 'parallel';
  max_runs: number;
  triggers: Trigger[];
  steps: Step[];
  /** Where it was read from, for errors and the UI. */
  file: string;
}

export const ScenariosSectionSchema = Type.Object(
  {
    folder: Type.Optional(Type.String({ description: 'Extra folder of scenario files (beside the shipped scenarios/).' })),
    shipped: Type.Boolean({
      default: false,
      description:
        'Load the scenario files shipped with the agent (written for the demo room; copy and adapt them for a real one).',
    }),
    automation: Type.Boolean({
      default: true,
      description: 'Automatic triggers on at start (scenarios.automation switches it).',
    }),
    catch_up_minutes: Type.Integer({
      minimum: 0,
      maximum: 1440,
      default: 15,
      description: 'After a restart, a time trigger missed less than this long ago still runs (once).',
    }),
    runs_kept: Type.Integer({ minimum: 10, maximum: 100_000, default: 1000, description: 'Run records kept in SQLite.' }),
  },
  { additionalProperties: false, description: 'Scenario engine: where scenario files are and how triggers behave.' },
);
export type ScenariosSection = Static<typeof ScenariosSectionSchema>;
