// Sync and alerts feature factories (registered in src/features.ts).
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import { AlertsFeature } from './alerts.js';
import { AlertsSectionSchema, type AlertsSection } from './schema.js';
import { SyncFeature } from './sync.js';
import { Value } from '@sinclair/typebox/value';

export { AlertsFeature, type AlertSink } from './alerts.js';
export { SyncFeature } from './sync.js';
export { AlertsSectionSchema, MqttSectionSchema } from './schema.js';

/** `[mqtt]` present → sync on; absent → off and everything else runs. */
export const createSync: FeatureFactory = (ctx: AgentContext): Feature | null => {
  const cfg = ctx.config.mqtt;
  return cfg ? new SyncFeature(ctx, cfg) : null;
};

/** Alerts run with `[alerts]`, or with defaults whenever `[mqtt]` is on (the outbox must be able to say it drops). */
export const createAlerts: FeatureFactory = (ctx: AgentContext): Feature | null => {
  if (!ctx.config.alerts && !ctx.config.mqtt) return null;
  const cfg: AlertsSection = ctx.config.alerts ?? (Value.Default(AlertsSectionSchema, {}) as AlertsSection);
  return new AlertsFeature(ctx, cfg);
};
