// Verification codes feature: `[identity]` in api.toml turns it on (needs
// `[tracking]`: the roster says who may get a code, the binding goes into the
// meeting insight).
import type { AgentContext, Feature, FeatureFactory } from '../app-context.js';
import type { TrackingFeature } from '../tracking/index.js';
import type { TwilioConfig } from '../twilio/config.js';
import { AgentError } from '../util/errors.js';
import type { Channel } from './codes.js';
import type { IdentityConfig } from './config.js';
import { registerIdentityHttp } from './http.js';
import { SmtpSender } from './mail.js';
import { TwilioSmsSender } from './sms.js';
import { registerIdentityRpc } from './rpc.js';
import { type CodeSender, IdentityService } from './service.js';
import { IdentityStore, loadOrCreateKey } from './store.js';

export { IdentitySectionSchema } from './config.js';

/** What keeps the identity feature from starting, as key paths into api.toml. */
export function identityProblems(config: object): { path: string[]; message: string }[] {
  const c = config as { identity?: unknown; tracking?: unknown };
  if (c.identity !== undefined && c.tracking === undefined) {
    return [{ path: ['identity'], message: 'verification codes need meeting tracking: add a [tracking] section' }];
  }
  return [];
}

export interface IdentityFeature extends Feature {
  readonly service: IdentityService;
}

export const createIdentity: FeatureFactory = (ctx: AgentContext) => {
  const cfg = (ctx.config as { identity?: IdentityConfig }).identity;
  if (!cfg) return null;
  const [problem] = identityProblems(ctx.config);
  if (problem) throw new AgentError('INVALID_PARAMS', `[${problem.path.join('.')}] ${problem.message}`);
  const tracking = () => {
    const t = ctx.feature<TrackingFeature>('tracking');
    if (!t) throw new AgentError('UNAVAILABLE', 'meeting tracking is not running');
    return t.service;
  };
  const mail = cfg.smtp ? new SmtpSender(cfg.smtp) : null;
  const senders: Partial<Record<Channel, CodeSender>> = {};
  if (mail) senders.email = mail;
  const twilio = (ctx.config as { twilio?: TwilioConfig }).twilio;
  if (twilio) senders.sms = new TwilioSmsSender(twilio, cfg.send_timeout_ms);
  let key: Buffer | null = null;
  const service = new IdentityService({
    cfg,
    store: new IdentityStore(ctx.store),
    key: () => {
      key ??= loadOrCreateKey(ctx.dataDir);
      return key;
    },
    clock: ctx.clock,
    audit: ctx.audit,
    logger: ctx.logger.child({ mod: 'identity' }),
    meeting: (id) => {
      const store = tracking().store;
      const row = store.schedule(id);
      return row ? { title: row.title, roster: store.roster(id) } : undefined;
    },
    bind: (b) => {
      tracking().recordBinding(b);
    },
    senders,
    missing: { email: 'set [identity.smtp] (server, from)', sms: 'set [twilio] (account_sid, auth_token, from)' },
  });
  registerIdentityRpc(ctx, service);
  registerIdentityHttp(ctx, service, cfg);
  const feature: IdentityFeature = {
    name: 'identity',
    service,
    async start() {
      key ??= loadOrCreateKey(ctx.dataDir);
    },
    async stop() {
      mail?.close();
    },
  };
  return feature;
};
