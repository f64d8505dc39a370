// The Twilio REST API as the agent uses it (docs/twilio.md §1): a form-encoded
// POST to /2010-04-01/Accounts/{AccountSid}/{Resource}.json with HTTP Basic
// auth (Account SID : Auth Token), answered 201 with the resource as JSON, or
// 4xx/5xx with {code, message, more_info, status}. Errors become AgentErrors
// whose text never holds the token (nor any other secret the caller names).
import { HttpError, httpRequest } from '../transport/http-client.js';
import { AgentError, type ErrorCodeName } from '../util/errors.js';
import type { TwilioConfig } from './config.js';

/** Form parameters in order; a name may repeat (StatusCallbackEvent). */
export type FormParams = Array<[string, string]>;

export interface TwilioPostOptions {
  signal?: AbortSignal;
  /** Default: [twilio] request_timeout_ms. */
  timeoutMs?: number;
  /** More secrets to keep out of error texts (say a conference PIN inside the TwiML). */
  secrets?: string[];
}

/** Replaces every secret in `text` by "***" (an error text from a server may quote what it was sent). */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('***');
  return out;
}

/**
 * POSTs `params` to `resource` (e.g. "Calls.json", "Messages.json") of the
 * configured account and returns the created resource. Throws AgentError:
 * INVALID_PARAMS for Twilio's 400s (a bad number…), UNAVAILABLE for refused
 * credentials, an unknown account, 5xx or no answer, TOO_MANY_REQUESTS for 429.
 */
export async function twilioPost(
  cfg: Pick<TwilioConfig, 'account_sid' | 'auth_token' | 'api_base_url'> & { request_timeout_ms?: number },
  resource: string,
  params: FormParams | Record<string, string>,
  opts: TwilioPostOptions = {},
): Promise<Record<string, unknown>> {
  const secrets = [cfg.auth_token, ...(opts.secrets ?? [])];
  const base = cfg.api_base_url.replace(/\/+$/, '');
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(cfg.account_sid)}/${resource}`;
  const body = new URLSearchParams(Array.isArray(params) ? params : Object.entries(params)).toString();
  const auth = Buffer.from(`${cfg.account_sid}:${cfg.auth_token}`, 'utf8').toString('base64');
  let res: Awaited<ReturnType<typeof httpRequest>>;
  try {
    res = await httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${auth}`,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        accept: 'application/json',
      },
      body,
      timeoutMs: opts.timeoutMs ?? cfg.request_timeout_ms ?? 10_000,
      signal: opts.signal,
      redirect: 'error',
      maxBytes: 1024 * 1024,
    });
  } catch (e) {
    const why = e instanceof HttpError ? `${e.kind}: ${e.message}` : String((e as Error)?.message ?? e);
    throw new AgentError('UNAVAILABLE', `Twilio API did not answer (${scrubSecrets(why, secrets)})`);
  }
  let json: unknown = null;
  try {
    json = res.json();
  } catch {
    json = null;
  }
  if (res.status >= 200 && res.status < 300 && json && typeof json === 'object' && !Array.isArray(json)) {
    return json as Record<string, unknown>;
  }
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>;
  const code = typeof o.code === 'number' || typeof o.code === 'string' ? String(o.code) : null;
  const message = typeof o.message === 'string' ? o.message.slice(0, 300) : res.status < 300 ? 'answer is not a JSON object' : '';
  const what = `Twilio ${resource.replace(/\.json$/, '')}: HTTP ${res.status}${code ? ` error ${code}` : ''}${message ? ` — ${message}` : ''}`;
  const hint =
    res.status === 401
      ? ' (check [twilio] account_sid and auth_token)'
      : res.status === 404
        ? ' (check [twilio] account_sid and api_base_url)'
        : '';
  const kind: ErrorCodeName =
    res.status === 400 || res.status === 422 ? 'INVALID_PARAMS' : res.status === 429 ? 'TOO_MANY_REQUESTS' : 'UNAVAILABLE';
  throw new AgentError(kind, scrubSecrets(what + hint, secrets), {
    http_status: res.status,
    twilio_code: code === null ? null : Number(code),
    more_info: typeof o.more_info === 'string' ? o.more_info : null,
  });
}
