// The Twilio stand-in against the facts of docs/twilio.md: the signature against
// Twilio's worked examples, the REST answers (auth, validation errors) and the
// status callbacks it plays (order, repeats, outcomes, URL with port and query).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { orderCallbacks, planStatusCallbacks } from './support/twilio-callbacks.js';
import { formBody, TwilioStandin, twilioSignature } from './support/twilio-standin.js';

describe('twilioSignature', () => {
  // docs/twilio.md §4.1 — Twilio's worked example, old and current numbers.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  it('gives the signature of the older docs example', () => {
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    expect(twilioSignature('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });
  it('gives the signature of the current docs example, whatever order the parameters come in', () => {
    const params: Array<[string, string]> = [
      ['To', '+18005551212'],
      ['Digits', '1234'],
      ['From', '+14158675310'],
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+14158675310'],
    ];
    expect(twilioSignature('12345', url, params)).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
  });
  it('changes with the port, the query string and the token', () => {
    const base = twilioSignature('12345', 'http://127.0.0.1:8080/hooks/twilio?room=a', { A: '1' });
    expect(twilioSignature('12345', 'http://127.0.0.1/hooks/twilio?room=a', { A: '1' })).not.toBe(base);
    expect(twilioSignature('12345', 'http://127.0.0.1:8080/hooks/twilio?room=b', { A: '1' })).not.toBe(base);
    expect(twilioSignature('54321', 'http://127.0.0.1:8080/hooks/twilio?room=a', { A: '1' })).not.toBe(base);
  });
});

describe('status callback plan', () => {
  const call = { accountSid: 'AC1', callSid: 'CA1', from: '+15005550006', to: '+4930123456', subscribed: [] };
  it('sends only completed when no event was subscribed', () => {
    const plan = planStatusCallbacks(call, { outcome: 'busy' });
    expect(plan.map((c) => [c.event, c.sequence])).toEqual([['completed', 0]]);
    expect(new Map(plan[0]?.params).get('CallStatus')).toBe('busy');
  });
  it('numbers the fired callbacks from 0 and reports CallDuration on an answered call', () => {
    const plan = planStatusCallbacks(
      { ...call, subscribed: ['initiated', 'ringing', 'answered', 'completed'] },
      { outcome: 'completed', durationS: 90, startAt: new Date('2026-12-06T07:30:00Z') },
    );
    expect(plan.map((c) => new Map(c.params).get('CallStatus'))).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(plan.map((c) => new Map(c.params).get('SequenceNumber'))).toEqual(['0', '1', '2', '3']);
    const last = new Map(plan[3]?.params);
    expect(last.get('CallDuration')).toBe('90');
    expect(new Map(plan[0]?.params).get('Timestamp')).toBe('Sun, 06 Dec 2026 07:30:00 +0000');
    expect(last.get('Timestamp')).toBe('Sun, 06 Dec 2026 07:31:32 +0000'); // answered at :02, 90 s later;
  });
  it('orders, reverses and repeats', () => {
    const plan = planStatusCallbacks({ ...call, subscribed: ['initiated', 'ringing'] }, { outcome: 'no-answer' });
    expect(orderCallbacks(plan, { reverse: true }).map((c) => c.sequence)).toEqual([2, 1, 0]);
    expect(orderCallbacks(plan, { order: [1, 0, 2], repeat: [2] }).map((c) => c.sequence)).toEqual([1, 0, 2, 2]);
    expect(() => orderCallbacks(plan, { order: [3] })).toThrow(/no callback #3/);
  });
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('TwilioStandin', () => {
  let standin: TwilioStandin;
  let receiver: Server;
  let receiverPort = 0;
  const received: Received[] = [];
  let answerWith = 204;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(answerWith).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverPort = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });
  afterEach(async () => {
    received.length = 0;
    answerWith = 204;
    await standin?.close();
  });

  async function post(path: string, params: Record<string, string> | Array<[string, string]>, auth?: string) {
    const res = await fetch(`${standin.baseUrl}/2010-04-01/Accounts/${standin.accountSid}/${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(auth ?? `${standin.accountSid}:${standin.authToken}`).toString('base64')}`,
      },
      body: formBody(params),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  const callParams = (extra: Record<string, string> = {}) => ({
    To: '+4930123456',
    From: '+15005550006',
    Twiml: '<Response><Dial>+4930999</Dial></Response>',
    ...extra,
  });

  it('refuses wrong or missing credentials with 401 / 20003 in Twilio error form', async () => {
    standin = await TwilioStandin.start();
    const wrong = await post('Calls.json', callParams(), `${standin.accountSid}:not-the-token`);
    expect(wrong).toEqual({
      status: 401,
      json: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 },
    });
    const none = await fetch(`${standin.baseUrl}/2010-04-01/Accounts/${standin.accountSid}/Calls.json`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(standin.calls.size).toBe(0);
    expect(standin.requests.map((r) => [r.status, r.code])).toEqual([
      [401, 20003],
      [401, 20003],
    ]);
  });

  it('creates a call (201, queued) and records the request without the token', async () => {
    standin = await TwilioStandin.start();
    const { status, json } = await post('Calls.json', [
      ...Object.entries(callParams({ StatusCallback: 'http://127.0.0.1:1/x' })),
      ['StatusCallbackEvent', 'initiated'],
      ['StatusCallbackEvent', 'answered'],
    ]);
    expect(status).toBe(201);
    expect(json.status).toBe('queued');
    expect(String(json.sid)).toMatch(/^CA[0-9a-f]{32}$/);
    const call = standin.onlyCall();
    expect(call.subscribed).toEqual(['initiated', 'answered']);
    expect(standin.requests[0]?.authUser).toBe(standin.accountSid);
    expect(JSON.stringify(standin.requests)).not.toContain(standin.authToken);
  });

  it.each([
    [{ To: '' }, 21201],
    [{ From: '' }, 21213],
    [{ To: '5551234567' }, 21211],
    [{ From: 'not a number' }, 21212],
    [{ Twiml: '' }, 21200],
    [{ Twiml: '', Url: 'relative/path' }, 21205],
    [{ StatusCallbackMethod: 'PUT' }, 21200],
    [{ StatusCallback: 'no-host' }, 21200],
  ])('refuses a call with %j as Twilio does (%i)', async (extra, code) => {
    standin = await TwilioStandin.start();
    const params = Object.fromEntries(Object.entries(callParams(extra)).filter(([, v]) => v !== ''));
    const { status, json } = await post('Calls.json', params);
    expect(status).toBe(400);
    expect(json).toMatchObject({ code, status: 400, more_info: `https://www.twilio.com/docs/errors/${code}` });
    expect(standin.calls.size).toBe(0);
  });

  it('refuses a From the account does not own when numbers are configured (21210)', async () => {
    standin = await TwilioStandin.start({ ownedNumbers: ['+15005550006'] });
    expect((await post('Calls.json', callParams({ From: '+15005550007' }))).json.code).toBe(21210);
    expect((await post('Calls.json', callParams())).status).toBe(201);
  });

  it('answers 404 / 20404 for another account or an unknown resource', async () => {
    standin = await TwilioStandin.start();
    const res = await fetch(`${standin.baseUrl}/2010-04-01/Accounts/ACother/Calls.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${standin.accountSid}:${standin.authToken}`).toString('base64')}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: number }).code).toBe(20404);
  });

  it('sends messages and refuses bad ones', async () => {
    standin = await TwilioStandin.start();
    const ok = await post('Messages.json', { To: '+4930123456', From: '+15005550006', Body: 'Code 123456' });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ status: 'queued', body: 'Code 123456' });
    expect(String(ok.json.sid)).toMatch(/^SM[0-9a-f]{32}$/);
    const viaService = await post('Messages.json', { To: '+4930123456', MessagingServiceSid: 'MG1', Body: 'x' });
    expect(viaService.json.status).toBe('accepted');
    expect((await post('Messages.json', { From: '+15005550006', Body: 'x' })).json.code).toBe(21604);
    expect((await post('Messages.json', { To: '12', From: '+15005550006', Body: 'x' })).json.code).toBe(21211);
    expect((await post('Messages.json', { To: '+4930123456', Body: 'x' })).json.code).toBe(21603);
    expect((await post('Messages.json', { To: '+4930123456', From: '#!', Body: 'x' })).json.code).toBe(21212);
    expect((await post('Messages.json', { To: '+4930123456', From: '+15005550006' })).json.code).toBe(21602);
    expect((await post('Messages.json', { To: '+4930123456', From: '+15005550006', Body: 'x'.repeat(1601) })).json.code).toBe(
      21617,
    );
    expect(standin.messages).toHaveLength(2);
  });

  it('plays callbacks signed over a URL with port and query string, in any order, with repeats', async () => {
    standin = await TwilioStandin.start();
    const callback = `http://127.0.0.1:${receiverPort}/hooks/twilio?room=a%20b&meeting=42`;
    await post('Calls.json', [
      ...Object.entries(callParams({ StatusCallback: callback })),
      ...['initiated', 'ringing', 'answered', 'completed'].map((e): [string, string] => ['StatusCallbackEvent', e]),
    ]);
    const call = standin.onlyCall();
    const deliveries = await standin.playCall(call.sid, { outcome: 'completed', order: [3, 0, 2, 1], repeat: [3] });
    expect(deliveries.map((d) => [d.sequence, d.callStatus, d.httpStatus])).toEqual([
      [3, 'completed', 204],
      [3, 'completed', 204],
      [0, 'initiated', 204],
      [2, 'in-progress', 204],
      [1, 'ringing', 204],
    ]);
    for (const r of received) {
      // The receiver rebuilds the URL it was called at; the query string arrives byte for byte.
      expect(r.url).toBe('/hooks/twilio?room=a%20b&meeting=42');
      const url = `http://127.0.0.1:${receiverPort}${r.url}`;
      const params = [...new URLSearchParams(r.body).entries()];
      expect(r.headers['x-twilio-signature']).toBe(twilioSignature(standin.authToken, url, params));
      expect(r.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    }
  });

  it.each(['busy', 'failed', 'no-answer', 'canceled'] as const)(
    'ends a %s call with that status on the completed event',
    async (outcome) => {
      standin = await TwilioStandin.start();
      await post('Calls.json', callParams({ StatusCallback: `http://127.0.0.1:${receiverPort}/cb` }));
      const d = await standin.playCall(standin.onlyCall().sid, { outcome });
      expect(d.map((x) => [x.sequence, x.callStatus])).toEqual([[0, outcome]]);
      expect(new URLSearchParams(received[0]?.body).get('CallDuration')).toBe('0');
    },
  );

  it('signs GET callbacks over the URL with the parameters in it, and can forge, omit or redirect', async () => {
    standin = await TwilioStandin.start();
    const configured = 'https://agent.example.com:8443/hooks/twilio?room=a';
    await post('Calls.json', callParams({ StatusCallback: configured, StatusCallbackMethod: 'GET' }));
    const sid = standin.onlyCall().sid;
    const deliverTo = `http://127.0.0.1:${receiverPort}`;
    await expect(standin.playCall(sid, { outcome: 'busy' })).rejects.toThrow(/only calls back to loopback/);
    await standin.playCall(sid, { outcome: 'busy', deliverTo });
    const got = received[0] as Received;
    expect(got.method).toBe('GET');
    expect(got.url.startsWith('/hooks/twilio?room=a&')).toBe(true);
    // Signed over the public URL (what Twilio called), not the loopback one.
    expect(got.headers['x-twilio-signature']).toBe(
      twilioSignature(standin.authToken, `https://agent.example.com:8443${got.url}`),
    );
    await standin.playCall(sid, { outcome: 'busy', deliverTo, signWith: 'wrong' });
    expect(received[1]?.headers['x-twilio-signature']).not.toBe(got.headers['x-twilio-signature']);
    answerWith = 403;
    const [unsigned] = await standin.playCall(sid, { outcome: 'busy', deliverTo, unsigned: true });
    expect(received[2]?.headers['x-twilio-signature']).toBeUndefined();
    expect(unsigned?.httpStatus).toBe(403);
  });
});
