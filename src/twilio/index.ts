// Dial-out through Twilio: `[twilio]` in api.toml. meetings.dial and
// POST /hooks/twilio are always registered (so the API is the same on every
// agent); without `[twilio]` they answer that dial-out is off. The feature is
// always there, so a config reload that adds, changes or removes `[twilio]`
// rebuilds it with the new section (src/feature-slots.ts); a new body limit
// needs a restart, as for every HTTP route.
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import type { TwilioConfig } from './config.js';
import { registerDialMethod } from './dial.js';
import { registerTwilioHook } from './hook.js';

export { type TwilioConfig, TwilioSectionSchema } from './config.js';
export { type FormParams, scrubSecrets, twilioPost } from './rest.js';

export const createTwilio: FeatureFactory = (ctx: AgentContext): Feature => {
  const cfg = (ctx.config as { twilio?: TwilioConfig }).twilio;
  registerDialMethod(ctx, cfg);
  registerTwilioHook(ctx, cfg);
  return {
    name: 'twilio',
    async start() {},
    async stop() {},
  };
};
