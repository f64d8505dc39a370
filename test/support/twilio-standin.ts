// A stand-in for api.twilio.com on loopback, written from docs/twilio.md and the
// Twilio pages it links — never from the agent's Twilio code (it witnesses that
// code). It serves the two resources the agent uses:
//   POST /2010-04-01/Accounts/{AccountSid}/Calls.json     (docs/twilio.md §2)
//   POST /2010-04-01/Accounts/{AccountSid}/Messages.json  (docs/twilio.md §3)
// with HTTP Basic auth (AccountSid:AuthToken) and Twilio's JSON errors
// {code, message, more_info, status} (§1.1), records every request, and plays a
// created call's status callbacks to its StatusCallback, signed as Twilio signs
// (§4), in any order, with repeats, for any outcome.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CallFacts,
  type CallOutcome,
  type DeliveryOrder,
  type FormParams,
  formBody,
  orderCallbacks,
  PROGRESS_EVENTS,
  type ProgressEvent,
  planStatusCallbacks,
  rfc2822,
  twilioSignature,
} from './twilio-callbacks.js';
import { ALNUM_SENDER, all, E164, first, hex, isAbsoluteHttpUrl, TWILIO_ERRORS_URL, TwilioError, US_10 } from './twilio-rest.js';

export { formBody, twilioSignature } from './twilio-callbacks.js';
export type { CallOutcome, FormParams, ProgressEvent } from './twilio-callbacks.js';

export interface StandinOptions {
  /** Defaults to a random `AC` + 32 hex. */
  accountSid?: string;
  /** Defaults to a random 32-hex token. */
  authToken?: string;
  /** Numbers the account owns. When given, a From outside it is refused (21210 calls, 21606 messages). */
  ownedNumbers?: string[];
  /** Body size limit; larger requests get 413. */
  maxBodyBytes?: number;
}

/** What the stand-in saw of one request (never the password). */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Username of the Basic credentials, when any were sent. */
  authUser: string | null;
  contentType: string;
  params: FormParams;
  status: number;
  /** Twilio error code of the answer, when it was an error. */
  code: number | null;
}

export interface StandinCall {
  sid: string;
  to: string;
  from: string;
  url: string | null;
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackMethod: 'GET' | 'POST';
  subscribed: ProgressEvent[];
  params: FormParams;
}

export interface StandinMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  params: FormParams;
}

export interface PlayOptions extends DeliveryOrder {
  outcome: CallOutcome;
  startAt?: Date;
  durationS?: number;
  /**
   * Send the requests here instead of to the StatusCallback host (the URL signed
   * stays the StatusCallback): what a reverse proxy in front of the agent sees.
   */
  deliverTo?: string;
  /** Sign with this token instead of the account's (a forged or stale signature). */
  signWith?: string;
  /** Leave X-Twilio-Signature out. */
  unsigned?: boolean;
}

/** One callback as delivered, and how the receiver answered. */
export interface Delivery {
  sequence: number;
  callStatus: string;
  httpStatus: number;
  body: string;
}

export class TwilioStandin {
  readonly accountSid: string;
  readonly authToken: string;
  readonly requests: RecordedRequest[] = [];
  readonly calls = new Map<string, StandinCall>();
  readonly messages: StandinMessage[] = [];
  private readonly owned: Set<string> | null;
  private readonly maxBody: number;
  private server: Server | null = null;
  private port = 0;

  private constructor(opts: StandinOptions) {
    this.accountSid = opts.accountSid ?? `AC${hex(16)}`;
    this.authToken = opts.authToken ?? hex(16);
    this.owned = opts.ownedNumbers ? new Set(opts.ownedNumbers) : null;
    this.maxBody = opts.maxBodyBytes ?? 64 * 1024;
  }

  static async start(opts: StandinOptions = {}): Promise<TwilioStandin> {
    const s = new TwilioStandin(opts);
    s.server = createServer((req, res) => void s.handle(req, res));
    await new Promise<void>((resolve) => s.server?.listen(0, '127.0.0.1', resolve));
    s.port = (s.server.address() as AddressInfo).port;
    return s;
  }

  /** What goes in the agent's `api_base_url` (the part before /2010-04-01). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The single call created so far (fails when there is not exactly one). */
  onlyCall(): StandinCall {
    const calls = [...this.calls.values()];
    if (calls.length !== 1) throw new Error(`expected one call, the stand-in has ${calls.length}`);
    return calls[0] as StandinCall;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const contentType = String(req.headers['content-type'] ?? '');
    const record: RecordedRequest = {
      method: req.method ?? '',
      path,
      authUser: null,
      contentType,
      params: [],
      status: 0,
      code: null,
    };
    this.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const raw = await this.readBody(req);
      // Twilio reads form parameters only from a form-encoded body (docs/twilio.md §1).
      if (contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        record.params = [...new URLSearchParams(raw).entries()];
      }
      record.authUser = this.checkAuth(req);
      const m = /^\/2010-04-01\/Accounts\/([^/]+)\/(Calls|Messages)\.json$/.exec(path);
      if (!m) throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
      if (m[1] !== this.accountSid) throw new TwilioError(404, 20404, `The requested resource ${path} was not found`);
      if (req.method !== 'POST') throw new TwilioError(405, 20004, 'Method not allowed');
      const body = m[2] === 'Calls' ? this.createCall(record.params) : this.createMessage(record.params);
      answer(201, body);
    } catch (err) {
      if (err instanceof TwilioError) {
        record.code = err.code;
        const headers: Record<string, string> = err.status === 401 ? { 'www-authenticate': 'Basic realm="Twilio API"' } : {};
        answer(
          err.status,
          { code: err.code, message: err.message, more_info: `${TWILIO_ERRORS_URL}${err.code}`, status: err.status },
          headers,
        );
      } else {
        answer(500, { code: 20500, message: 'Internal Server Error', more_info: `${TWILIO_ERRORS_URL}20500`, status: 500 });
      }
    }
  }

  private readBody(req: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > this.maxBody) {
          reject(new TwilioError(413, 20413, 'Request entity too large'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  /** HTTP Basic with AccountSid:AuthToken, else 401 / 20003 (docs/twilio.md §1.1). Returns the username. */
  private checkAuth(req: IncomingMessage): string {
    const header = String(req.headers.authorization ?? '');
    const m = /^Basic\s+(.+)$/i.exec(header);
    if (!m?.[1]) throw new TwilioError(401, 20003, 'Authenticate');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const pass = colon < 0 ? '' : decoded.slice(colon + 1);
    if (user !== this.accountSid || pass !== this.authToken) throw new TwilioError(401, 20003, 'Authenticate');
    return user;
  }

  private createCall(params: FormParams): Record<string, unknown> {
    const to = first(params, 'To');
    const from = first(params, 'From');
    if (!to) throw new TwilioError(400, 21201, "No 'To' number is specified");
    if (!from) throw new TwilioError(400, 21213, "No 'From' number is specified");
    const toOk = E164.test(to) || /^(sip|client):\S+$/.test(to);
    if (!toOk) throw new TwilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!E164.test(from) && !US_10.test(from)) {
      throw new TwilioError(
        400,
        21212,
        `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
      );
    }
    if (this.owned && !this.owned.has(from)) {
      throw new TwilioError(400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`);
    }
    const url = first(params, 'Url');
    const twiml = first(params, 'Twiml');
    const appSid = first(params, 'ApplicationSid');
    if (!url && !twiml && !appSid)
      throw new TwilioError(400, 21200, 'Either a Url, Twiml or ApplicationSid parameter is required.');
    if (url && !isAbsoluteHttpUrl(url)) throw new TwilioError(400, 21205, `Url is not a valid URL: ${url}`);
    const statusCallback = first(params, 'StatusCallback');
    if (statusCallback && !isAbsoluteHttpUrl(statusCallback)) {
      throw new TwilioError(400, 21200, `StatusCallback is not a valid URL: ${statusCallback}`);
    }
    const method = (first(params, 'StatusCallbackMethod') ?? 'POST').toUpperCase();
    if (method !== 'GET' && method !== 'POST')
      throw new TwilioError(400, 21200, `StatusCallbackMethod must be GET or POST, not ${method}`);
    // Repeated parameter; some clients send one space-separated value, which Twilio also accepts.
    const events = all(params, 'StatusCallbackEvent').flatMap((v) => v.split(/\s+/).filter(Boolean));
    for (const e of events) {
      if (!PROGRESS_EVENTS.includes(e as ProgressEvent)) throw new TwilioError(400, 21200, `Invalid StatusCallbackEvent: ${e}`);
    }
    const sid = `CA${hex(16)}`;
    this.calls.set(sid, {
      sid,
      to,
      from,
      url,
      twiml,
      statusCallback,
      statusCallbackMethod: method,
      subscribed: events as ProgressEvent[],
      params,
    });
    const now = rfc2822(new Date());
    return {
      sid,
      account_sid: this.accountSid,
      to,
      from,
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: now,
      date_updated: now,
      start_time: null,
      end_time: null,
      duration: null,
      price: null,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json`,
    };
  }

  private createMessage(params: FormParams): Record<string, unknown> {
    const to = first(params, 'To');
    const from = first(params, 'From');
    const service = first(params, 'MessagingServiceSid');
    const body = first(params, 'Body');
    if (!to) throw new TwilioError(400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) throw new TwilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service) throw new TwilioError(400, 21603, "A 'From' phone number is required.");
    if (from && !E164.test(from) && !US_10.test(from) && !ALNUM_SENDER.test(from)) {
      throw new TwilioError(
        400,
        21212,
        `The 'From' number ${from} is not a valid phone number, shortcode, or alphanumeric sender ID.`,
      );
    }
    if (from && this.owned && !this.owned.has(from)) {
      throw new TwilioError(
        400,
        21606,
        `The From phone number ${from} is not a valid, SMS-capable inbound phone number or short code for your account.`,
      );
    }
    if (!body) throw new TwilioError(400, service ? 21619 : 21602, 'Message body is required.');
    if (body.length > 1600) throw new TwilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    const sid = `SM${hex(16)}`;
    this.messages.push({ sid, to, from, messagingServiceSid: service, body, params });
    const now = rfc2822(new Date());
    return {
      sid,
      account_sid: this.accountSid,
      messaging_service_sid: service,
      to,
      from,
      body,
      status: service ? 'accepted' : 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      num_segments: String(Math.max(1, Math.ceil(body.length / 160))),
      date_created: now,
      date_updated: now,
      date_sent: null,
      error_code: null,
      error_message: null,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
    };
  }

  /**
   * Plays the status callbacks of call `sid` for `outcome` to its StatusCallback,
   * one request at a time (each awaited), in the order asked, signed with the
   * account's token over the StatusCallback URL exactly as the create request gave it.
   */
  async playCall(sid: string, opts: PlayOptions): Promise<Delivery[]> {
    const call = this.calls.get(sid);
    if (!call) throw new Error(`the stand-in created no call ${sid}`);
    if (!call.statusCallback) throw new Error(`call ${sid} was created without a StatusCallback`);
    const facts: CallFacts = {
      accountSid: this.accountSid,
      callSid: sid,
      from: call.from,
      to: call.to,
      subscribed: call.subscribed,
    };
    const plan = planStatusCallbacks(facts, { outcome: opts.outcome, startAt: opts.startAt, durationS: opts.durationS });
    const out: Delivery[] = [];
    for (const cb of orderCallbacks(plan, opts)) {
      out.push(await this.deliver(call, cb.params, cb.sequence, opts));
    }
    return out;
  }

  private async deliver(call: StandinCall, params: FormParams, sequence: number, opts: PlayOptions): Promise<Delivery> {
    const configured = call.statusCallback as string;
    const isGet = call.statusCallbackMethod === 'GET';
    // GET: the parameters ride in the query string, and that whole URL is what is signed.
    let signedUrl = configured;
    if (isGet) signedUrl += (configured.includes('?') ? '&' : '?') + formBody(params);
    const target = new URL(signedUrl);
    if (opts.deliverTo) {
      const to = new URL(opts.deliverTo);
      target.protocol = to.protocol;
      target.host = to.host;
    }
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) {
      throw new Error(`the stand-in only calls back to loopback, not ${target.hostname} (use deliverTo)`);
    }
    const headers: Record<string, string> = { 'user-agent': 'TwilioProxy/1.1' };
    if (!opts.unsigned) {
      headers['x-twilio-signature'] = twilioSignature(opts.signWith ?? this.authToken, signedUrl, isGet ? [] : params);
    }
    if (!isGet) headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    // The request target keeps the configured path and query byte for byte.
    const res = await fetch(target.href, {
      method: isGet ? 'GET' : 'POST',
      headers,
      body: isGet ? undefined : formBody(params),
      signal: AbortSignal.timeout(10_000),
    });
    return {
      sequence,
      callStatus: first(params, 'CallStatus') ?? '',
      httpStatus: res.status,
      body: await res.text(),
    };
  }
}
