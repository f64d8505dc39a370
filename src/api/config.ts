// `[api]` in api.toml: the limits of the WebSocket door (docs/api.md, "Limits").
// Each is what one client may take; breaking one gets that client a clear error
// or a documented close code and costs the other clients nothing.
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const MiB = 1024 * 1024;

export const ApiSectionSchema = Type.Object(
  {
    max_frame_bytes: Type.Integer({
      minimum: 1024,
      maximum: 64 * MiB,
      default: MiB,
      description: 'Largest WebSocket message a client may send; a bigger one closes the socket with 1009.',
    }),
    max_json_depth: Type.Integer({
      minimum: 4,
      maximum: 1000,
      default: 64,
      description:
        'Deepest nesting of arrays/objects in one message (the request object is level 1, its params level 2, a batch adds one); deeper: INVALID_REQUEST.',
    }),
    max_batch: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 100,
      description: 'Most requests in one JSON-RPC batch; a longer batch is answered with one INVALID_REQUEST.',
    }),
    max_reply_bytes: Type.Integer({
      minimum: 1024,
      maximum: 256 * MiB,
      default: 4 * MiB,
      description: 'Largest reply (a whole batch reply counts as one); a bigger one is answered with REPLY_TOO_LARGE instead.',
    }),
    max_queued_bytes: Type.Integer({
      minimum: 64 * 1024,
      maximum: 1024 * MiB,
      default: 8 * MiB,
      description:
        'Replies and events sent to a client but not yet written to its socket (it stopped reading); more closes it with 4408.',
    }),
    max_in_flight: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 128,
      description:
        'Requests of one connection being worked on at once (each batch item counts, so keep it above max_batch); more: TOO_MANY_REQUESTS.',
    }),
    warm_up_requests: Type.Integer({
      minimum: 0,
      maximum: 100_000,
      default: 1000,
      description:
        'Read-only requests (system.info) the agent sends through its own WebSocket API over loopback before it logs ready, so the first operator calls after a boot do not wait for V8 to compile the request path (docs/performance.md, "API warm-up"); 0: none. Read at start.',
    }),
    warm_up_max_ms: Type.Integer({
      minimum: 0,
      maximum: 10_000,
      default: 250,
      description: 'Longest the API warm-up may hold back ready; it ends there however many requests it sent. Read at start.',
    }),
  },
  { additionalProperties: false },
);

export type ApiSection = Static<typeof ApiSectionSchema>;

/** The `[api]` limits with defaults for every key left out (or the whole section). */
export function apiLimits(section: Partial<ApiSection> | undefined): ApiSection {
  return Value.Default(ApiSectionSchema, Value.Clone(section ?? {})) as ApiSection;
}

/** The limits a client needs to keep under, as `system.info` reports them. */
export function clientLimits(
  l: ApiSection,
): Pick<ApiSection, 'max_frame_bytes' | 'max_batch' | 'max_reply_bytes' | 'max_in_flight'> {
  return {
    max_frame_bytes: l.max_frame_bytes,
    max_batch: l.max_batch,
    max_reply_bytes: l.max_reply_bytes,
    max_in_flight: l.max_in_flight,
  };
}
