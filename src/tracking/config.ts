import { type Static, Type } from '@sinclair/typebox';

/** `[tracking]` in api.toml. Present (even empty) = meeting tracking is on. */
export const TrackingSectionSchema = Type.Object(
  {
    timer_requires: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Roles that must all be connected for the meeting timer to run (e.g. ["expert", "client"]). ' +
        'Empty: the timer runs while at least two participants are connected. ' +
        'A meeting overrides this with user_data.timer_requires on its create event.',
    }),
    zoom_secret_token: Type.Optional(
      Type.String({
        'x-secret': true,
        minLength: 8,
        description: "The Zoom app's secret token (use ${ENV_VAR}); without it POST /hooks/zoom answers 503.",
      }),
    ),
    zoom_max_skew_s: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 300,
      description: 'Zoom requests whose x-zm-request-timestamp is further than this from our clock are rejected.',
    }),
    max_body_bytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * 1024 * 1024,
      default: 1024 * 1024,
      description: 'Largest webhook body accepted (413 above it).',
    }),
    max_json_depth: Type.Integer({
      minimum: 2,
      maximum: 512,
      default: 64,
      description: 'Deepest nesting of arrays/objects in a webhook body (400 above it, before anything is stored).',
    }),
    max_batch: Type.Integer({ minimum: 1, maximum: 100_000, default: 5000, description: 'Most events in one POST.' }),
    publish_delay_ms: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 100,
      description: 'Insight changes are coalesced for this long before they are pushed (as deltas) on topic `meetings`.',
    }),
    publish_delay_max_ms: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 500,
      description:
        'A big meeting coalesces longer: publish_delay_ms per 1,000 calls it holds, up to this (a push rebuilds and diffs the ' +
        'whole meeting, so this bounds what a huge webinar costs the CPU). Not below publish_delay_ms.',
    }),
    delta_base_meetings: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 64,
      description:
        'Meetings whose last published insight is kept as the base of their next delta; ' +
        'a meeting beyond it starts a new stream with one full insight.',
    }),
    dedup_conferences: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 64,
      description:
        "Conferences whose stored events' duplicate keys are kept in memory (least recently used beyond it are read " +
        'back from SQLite when an event for them arrives; at most 1,000,000 keys in all).',
    }),
    final_cache_mb: Type.Number({
      minimum: 0,
      maximum: 1024,
      default: 4,
      description:
        "Megabytes (of JSON text) of ended meetings' final insights kept in memory; older ones are read back from SQLite when asked for.",
    }),
  },
  { additionalProperties: false },
);

export type TrackingConfig = Static<typeof TrackingSectionSchema>;
