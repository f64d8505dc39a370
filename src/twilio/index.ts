// Dial-out through Twilio: `[twilio]` in api.toml. meetings.dial and
// POST /hooks/twilio are always registered (so the API is the same on every
// agent); without `[twilio]` they answer that dial-out is off.
import type { AgentContext, FeatureFactory } from '../app-context.js';
import type { TwilioConfig } from './config.js';
import { registerDialMethod } from './dial.js';
import { registerTwilioHook } from './hook.js';

export { type TwilioConfig, TwilioSectionSchema } from './config.js';
export { type FormParams, scrubSecrets, twilioPost } from './rest.js';

export const createTwilio: FeatureFactory = (ctx: AgentContext) => {
  const cfg = (ctx.config as { twilio?: TwilioConfig }).twilio;
  registerDialMethod(ctx, cfg);
  registerTwilioHook(ctx, cfg);
  return null;
};
