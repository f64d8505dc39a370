// Twilio's side of call status callbacks, written from docs/twilio.md (§2.1,
// §2.2, §4) and the Twilio pages it links — never from the agent's Twilio code.
// Pure: the signature, the list of callbacks a call fires for an outcome, and the
// delivery order a test asks for. The HTTP delivery is in twilio-standin.ts.
import { createHmac } from 'node:crypto';

/** Form parameters in the order they are sent; a name may repeat. */
export type FormParams = Array<[string, string]>;

function asPairs(params: FormParams | Record<string, string>): FormParams {
  return Array.isArray(params) ? params : Object.entries(params);
}

/**
 * X-Twilio-Signature (docs/twilio.md §4): HMAC-SHA1, keyed with the auth token,
 * over the full URL as configured (port and query string included, query left
 * as it is) followed by every POST parameter as name+value, sorted by name (then
 * value, for repeats), no separators; base64.
 */
export function twilioSignature(authToken: string, url: string, postParams: FormParams | Record<string, string> = []): string {
  const sorted = [...asPairs(postParams)].sort(([an, av], [bn, bv]) =>
    an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
  );
  let data = url;
  for (const [name, value] of sorted) data += name + value;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** The x-www-form-urlencoded body of `params` (space as '+', as browsers and Twilio send it). */
export function formBody(params: FormParams | Record<string, string>): string {
  return new URLSearchParams(asPairs(params)).toString();
}

/** Final states of a call (docs/twilio.md §2.1). */
export type CallOutcome = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
/** Progress events a call can subscribe to with StatusCallbackEvent. */
export type ProgressEvent = 'initiated' | 'ringing' | 'answered' | 'completed';
export const PROGRESS_EVENTS: readonly ProgressEvent[] = ['initiated', 'ringing', 'answered', 'completed'];

/** The progress a call goes through for each outcome: [event, CallStatus sent with it]. */
const PATHS: Record<CallOutcome, Array<[ProgressEvent, string]>> = {
  // Answered, talked, hung up: "completed after in-progress".
  completed: [
    ['initiated', 'initiated'],
    ['ringing', 'ringing'],
    ['answered', 'in-progress'],
    ['completed', 'completed'],
  ],
  // The far end answers busy; it never rang for the caller.
  busy: [
    ['initiated', 'initiated'],
    ['completed', 'busy'],
  ],
  // Rang until Timeout.
  'no-answer': [
    ['initiated', 'initiated'],
    ['ringing', 'ringing'],
    ['completed', 'no-answer'],
  ],
  // The carriers could not connect the call.
  failed: [
    ['initiated', 'initiated'],
    ['completed', 'failed'],
  ],
  // Canceled through the REST API before it was answered.
  canceled: [
    ['initiated', 'initiated'],
    ['ringing', 'ringing'],
    ['completed', 'canceled'],
  ],
};

export interface CallFacts {
  accountSid: string;
  callSid: string;
  from: string;
  to: string;
  /** Events the create request subscribed to; empty → only `completed` (docs/twilio.md §2). */
  subscribed: readonly ProgressEvent[];
}

export interface CallbackPlanOptions {
  outcome: CallOutcome;
  /** When the first event fires; each later event is one second later, the answered part `durationS` long. */
  startAt?: Date;
  /** Seconds between `answered` and `completed` for an answered call (CallDuration). */
  durationS?: number;
}

/** One status callback Twilio would send, before ordering and repeats. */
export interface StatusCallback {
  event: ProgressEvent;
  sequence: number;
  params: FormParams;
}

/** RFC 2822 date in UTC, as Twilio writes Timestamp ("Sun, 06 Dec 2026 07:30:00 +0000"). */
export function rfc2822(at: Date): string {
  return at.toUTCString().replace(/GMT$/, '+0000');
}

/**
 * The status callbacks a call fires for `outcome`: only subscribed events (and
 * always `completed`), SequenceNumber counting the callbacks actually fired
 * from 0, CallDuration on an answered call's `completed`.
 */
export function planStatusCallbacks(call: CallFacts, opts: CallbackPlanOptions): StatusCallback[] {
  const wanted = new Set<ProgressEvent>(call.subscribed.length > 0 ? call.subscribed : ['completed']);
  wanted.add('completed');
  const start = (opts.startAt ?? new Date()).getTime();
  const durationS = opts.durationS ?? 42;
  const out: StatusCallback[] = [];
  let at = start;
  let answeredAt: number | null = null;
  for (const [event, status] of PATHS[opts.outcome]) {
    if (event === 'answered') answeredAt = at;
    if (event === 'completed' && answeredAt !== null) at = answeredAt + durationS * 1000;
    if (wanted.has(event)) {
      const params: FormParams = [
        ['AccountSid', call.accountSid],
        ['ApiVersion', '2010-04-01'],
        ['CallSid', call.callSid],
        ['CallStatus', status],
        ['CallbackSource', 'call-progress-events'],
        ['Direction', 'outbound-api'],
        ['From', call.from],
        ['SequenceNumber', String(out.length)],
        ['Timestamp', rfc2822(new Date(at))],
        ['To', call.to],
      ];
      if (event === 'completed') {
        const talked = opts.outcome === 'completed' ? durationS : 0;
        params.push(['CallDuration', String(talked)]);
      }
      out.push({ event, sequence: out.length, params });
    }
    at += 1000;
  }
  return out;
}

export interface DeliveryOrder {
  /** Indexes into the plan in the order to deliver (a permutation or any list; repeats allowed). */
  order?: number[];
  /** Deliver in reverse order (ignored when `order` is given). */
  reverse?: boolean;
  /** Indexes of callbacks delivered a second time, right after their first delivery. */
  repeat?: number[];
}

/** The plan in the order a test asked for, with repeats (what "Twilio retried" or "arrived late" looks like). */
export function orderCallbacks(plan: StatusCallback[], how: DeliveryOrder = {}): StatusCallback[] {
  const indexes = how.order ?? (how.reverse ? plan.map((_, i) => plan.length - 1 - i) : plan.map((_, i) => i));
  const repeats = new Set(how.repeat ?? []);
  const out: StatusCallback[] = [];
  for (const i of indexes) {
    const cb = plan[i];
    if (!cb) throw new Error(`no callback #${i} in a plan of ${plan.length}`);
    out.push(cb);
    if (repeats.has(i)) out.push(cb);
  }
  return out;
}
