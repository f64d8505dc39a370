// meetings.dial: call a person (from the meeting's roster) or a number through
// Twilio's Calls resource; when they answer, Twilio dials the conference's
// dial-in number and keys in its PIN (TwiML <Dial><Number sendDigits>), so the
// person lands in the meeting. Progress comes back as status callbacks to
// POST /hooks/twilio (hook.ts): the StatusCallback URL carries the meeting and
// the person in its query string, which Twilio signs with the rest of the URL.
import { Type } from '@sinclair/typebox';
import type { AgentContext } from '../app-context.js';
import type { RpcClient } from '../api/rpc.js';
import type { TrackingFeature } from '../tracking/index.js';
import { trackingMeetingOf } from '../meeting-ids/index.js';
import { AgentError, errorMessage } from '../util/errors.js';
import type { TwilioConfig } from './config.js';
import { type FormParams, twilioPost } from './rest.js';

export const HOOK_PATH = '/hooks/twilio';
/** StatusCallbackEvent values the agent subscribes to (docs/twilio.md §2). */
export const DIAL_EVENTS = ['initiated', 'ringing', 'answered', 'completed'] as const;

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** A contact as a dialable E.164 number ("tel:+49 30 1234-567" → "+49301234567"), or null. */
export function phoneNumber(contact: string): string | null {
  const n = contact
    .trim()
    .replace(/^tel:/i, '')
    .replace(/[\s\-.()/]/g, '');
  return E164.test(n) ? n : null;
}

/** The digits keyed in after the dial-in answers: the template with {pin} filled in ("" without a PIN). */
export function dialInDigits(template: string, pin: string | undefined): string {
  if (!pin) return template.includes('{pin}') ? '' : template;
  return template.replace('{pin}', pin);
}

/** Inline TwiML run when the called person answers: connect them to the dial-in number and key in the digits. */
export function joinTwiml(dialIn: string, digits: string): string {
  const send = digits ? ` sendDigits="${digits}"` : '';
  // Every value is validated to [+0-9*#w] before it gets here: nothing to escape.
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number${send}>${dialIn}</Number></Dial></Response>`;
}

/** The StatusCallback URL: public_url + /hooks/twilio + the meeting (and person) to file the callbacks under. */
export function statusCallbackUrl(publicUrl: string, meeting: string, person: string | null): string {
  const q = new URLSearchParams({ meeting });
  if (person) q.set('person', person);
  return `${publicUrl.replace(/\/+$/, '')}${HOOK_PATH}?${q.toString()}`;
}

const DialParams = Type.Object(
  {
    meeting: Type.String({
      minLength: 1,
      maxLength: 300,
      description:
        'The meeting to bring the person into, in either form: its meeting-tracking id (meetings.list) or a calendar id ' +
        '(calendar.list id, `<source>:<event id>`, TrueConf conference id, room id). docs/meeting-control.md, "Which meeting".',
    }),
    person: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: "A person on the meeting's roster; the first phone number among their contacts is called.",
      }),
    ),
    number: Type.Optional(Type.String({ pattern: E164.source, description: 'A phone number to call instead (E.164).' })),
    dial_in_number: Type.Optional(
      Type.String({ pattern: E164.source, description: 'The conference dial-in number; default [twilio] dial_in_number.' }),
    ),
    dial_in_pin: Type.Optional(
      Type.String({
        pattern: '^[0-9*#]{1,32}$',
        description:
          'The conference PIN keyed in after the dial-in answers; default [twilio] dial_in_pin. Never logged or audited.',
      }),
    ),
  },
  { additionalProperties: false },
);

const DialResult = Type.Object({
  call_sid: Type.String(),
  meeting: Type.String({ description: 'The meeting-tracking id the call is filed under (the given id resolved).' }),
  status: Type.String({ description: "Twilio's status of the new call (queued)." }),
  to: Type.String(),
  person: Type.Union([Type.String(), Type.Null()]),
});

/** At most `perMinute` calls in any 60 s (a sliding window of the last calls' times). */
export class DialRate {
  private readonly times: number[] = [];
  constructor(private readonly perMinute: number) {}
  /** Takes a slot at `now`, or says how many seconds until one is free. */
  take(now: number): { ok: true } | { ok: false; retryInS: number } {
    while (this.times.length && now - (this.times[0] as number) >= 60_000) this.times.shift();
    if (this.times.length >= this.perMinute) {
      return { ok: false, retryInS: Math.ceil((60_000 - (now - (this.times[0] as number))) / 1000) };
    }
    this.times.push(now);
    return { ok: true };
  }
}

export function registerDialMethod(ctx: AgentContext, cfg: TwilioConfig | undefined): void {
  const rate = new DialRate(cfg?.max_dials_per_minute ?? 10);
  ctx.rpc.method({
    name: 'meetings.dial',
    description:
      "Calls a person (from the meeting's roster contacts) or a number through Twilio and, when they answer, connects them " +
      "to the conference's dial-in number and PIN. The call's progress arrives on POST /hooks/twilio and shows in the " +
      "meeting's insight; busy / no-answer / failed / canceled are interruptions. Needs [twilio] with public_url.",
    role: 'operator',
    params: DialParams,
    result: DialResult,
    handler: async (p, client) => dial(ctx, cfg, rate, p, client),
  });
}

interface DialRequest {
  meeting: string;
  person?: string;
  number?: string;
  dial_in_number?: string;
  dial_in_pin?: string;
}

async function dial(ctx: AgentContext, cfg: TwilioConfig | undefined, rate: DialRate, p: DialRequest, client: RpcClient) {
  const started = ctx.clock.now();
  const audited: Record<string, string | null> = { meeting: p.meeting, person: p.person ?? null, number: p.number ?? null };
  const audit = (ok: boolean, result: unknown, error: string | null) =>
    ctx.audit.append({
      at: new Date(ctx.clock.now()).toISOString(),
      cause: { kind: client.transport === 'mqtt' ? 'mqtt' : 'api', name: client.principal.name, detail: client.remote },
      device: 'twilio',
      action: 'dial',
      params: audited,
      ok,
      result,
      error,
      duration_ms: ctx.clock.now() - started,
    });
  try {
    const out = await placeCall(ctx, cfg, rate, p);
    audited.number = out.to;
    // The row names the tracking meeting the call went to, and the id the operator gave when it was another form.
    if (out.meeting !== p.meeting) Object.assign(audited, { meeting: out.meeting, meeting_given: p.meeting });
    await audit(true, out, null);
    return out;
  } catch (e) {
    await audit(false, undefined, errorMessage(e));
    throw e;
  }
}

async function placeCall(ctx: AgentContext, cfg: TwilioConfig | undefined, rate: DialRate, p: DialRequest) {
  if (!cfg) throw new AgentError('UNAVAILABLE', 'dial-out is off: configure [twilio] (docs/config.md)');
  if (!cfg.public_url) {
    throw new AgentError('UNAVAILABLE', "dial-out needs [twilio] public_url: the agent's URL as Twilio reaches it");
  }
  const tracking = ctx.feature<TrackingFeature>('tracking');
  if (!tracking) throw new AgentError('UNAVAILABLE', 'dial-out needs meeting tracking: add [tracking] to api.toml');
  if ((p.person === undefined) === (p.number === undefined)) {
    throw new AgentError('INVALID_PARAMS', 'give exactly one of person or number');
  }
  const store = tracking.service.store;
  // The calls are filed under the tracking meeting, whichever id form was given (src/meeting-ids).
  const meeting = await trackingMeetingOf(ctx, p.meeting);
  let to = p.number ?? null;
  if (p.person !== undefined) {
    const entry = store.roster(meeting).find((r) => r.person === p.person);
    if (!entry) throw new AgentError('NOT_FOUND', `"${p.person}" is not on the roster of meeting "${meeting}"`);
    to = (entry.contacts ?? []).map(phoneNumber).find((n) => n !== null) ?? null;
    if (!to) {
      throw new AgentError('INVALID_PARAMS', `"${p.person}" has no phone number (E.164) among their roster contacts`);
    }
  }
  const dialIn = p.dial_in_number ?? cfg.dial_in_number;
  if (!dialIn) {
    throw new AgentError('INVALID_PARAMS', 'no dial-in number: give dial_in_number or set [twilio] dial_in_number');
  }
  const allowed = cfg.allowed_number_prefixes;
  if (allowed.length > 0 && !allowed.some((prefix) => (to as string).startsWith(prefix))) {
    throw new AgentError(
      'FORBIDDEN',
      `${to} is outside the numbers dial-out may call ([twilio] allowed_number_prefixes: ${allowed.join(', ')})`,
    );
  }
  const slot = rate.take(ctx.clock.now());
  if (!slot.ok) {
    throw new AgentError(
      'TOO_MANY_REQUESTS',
      `dial-out limit reached ([twilio] max_dials_per_minute ${cfg.max_dials_per_minute}); try again in ${slot.retryInS} s`,
    );
  }
  const pin = p.dial_in_pin ?? cfg.dial_in_pin;
  const params: FormParams = [
    ['To', to as string],
    ['From', cfg.from],
    ['Twiml', joinTwiml(dialIn, dialInDigits(cfg.dial_in_digits, pin))],
    ['Timeout', String(cfg.ring_timeout_s)],
    ['StatusCallback', statusCallbackUrl(cfg.public_url, meeting, p.person ?? null)],
    ['StatusCallbackMethod', 'POST'],
    ...DIAL_EVENTS.map((e): [string, string] => ['StatusCallbackEvent', e]),
  ];
  const call = await twilioPost(cfg, 'Calls.json', params, { secrets: pin ? [pin] : [] });
  const sid = typeof call.sid === 'string' ? call.sid : '';
  if (!/^CA[0-9a-fA-F]{32}$/.test(sid)) throw new AgentError('UNAVAILABLE', 'Twilio answered a call without a valid sid');
  const status = typeof call.status === 'string' ? call.status : 'queued';
  // The dial is on the meeting's record even if no callback ever reaches the agent.
  if (status === 'queued') {
    // Timed by Twilio's clock (date_created, RFC 2822) like the callbacks that follow, else by ours.
    const created = typeof call.date_created === 'string' ? Date.parse(call.date_created) : Number.NaN;
    tracking.service.recordDial({
      meeting,
      call_sid: sid,
      status,
      person: p.person ?? null,
      number: to,
      at: Number.isFinite(created) ? created : undefined,
    });
  }
  return { call_sid: sid, status, to: to as string, person: p.person ?? null, meeting };
}
