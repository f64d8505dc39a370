// Meeting tracking feature: `[tracking]` in api.toml turns it on.
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import type { TrackingConfig } from './config.js';
import { registerTrackingHttp } from './http.js';
import { registerTrackingRpc } from './rpc.js';
import { type IngestResult, TrackingService } from './service.js';
import type { BindingRecord, DialRecord, Insight, ScheduledMeeting } from './types.js';

export { TrackingSectionSchema } from './config.js';
export { EventInputError, parseConfEvent, parseTime } from './parse.js';
export type { IngestResult } from './service.js';
export type {
  BindingRecord,
  ConfEvent,
  DialRecord,
  DialStatus,
  Insight,
  MeetingSummary,
  RosterEntry,
  ScheduledMeeting,
} from './types.js';
export { DIAL_STATUSES } from './types.js';

/** What other features reach through `ctx.feature<TrackingFeature>('tracking')`. */
export interface TrackingFeature extends Feature {
  /** Callback-format events (one or an array) from `source` (e.g. "mqtt"); throws EventInputError, stores none, on a bad one. */
  ingest(events: unknown, source: string): IngestResult;
  /** Calendar hook: a scheduled meeting with its roster. */
  schedule(meeting: ScheduledMeeting): void;
  insight(id: string, at?: string | number): Insight;
  /** A Twilio status callback of a dial-out (source `twilio`); see TrackingService.recordDial. */
  recordDial(d: DialRecord): IngestResult;
  /** A joiner bound to a person by a verified code (source `identity`); see TrackingService.recordBinding. */
  recordBinding(b: BindingRecord): IngestResult;
  readonly service: TrackingService;
}

export const createTracking: FeatureFactory = (ctx: AgentContext) => {
  const cfg = (ctx.config as { tracking?: TrackingConfig }).tracking;
  if (!cfg) return null;
  const service = new TrackingService(ctx, cfg);
  registerTrackingRpc(ctx, service);
  registerTrackingHttp(ctx, service, cfg);
  const feature: TrackingFeature = {
    name: 'tracking',
    service,
    ingest: (events, source) => service.ingest(events, source),
    schedule: (m) => service.schedule(m),
    insight: (id, at) => service.insight(id, at),
    recordDial: (d) => service.recordDial(d),
    recordBinding: (b) => service.recordBinding(b),
    async start() {
      service.start();
    },
    async stop() {
      service.stop();
    },
  };
  return feature;
};
