// The agent's HTTP client against real HTTP servers on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, httpRequest } from '../src/transport/http-client.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function failure(p: Promise<unknown>): Promise<HttpError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HttpError);
  return e as HttpError;
}

describe('httpRequest', () => {
  it('sends method, headers and body and reads status, headers and body', async () => {
    let seen: { method?: string; type?: string; body: string } = { body: '' };
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen = { method: req.method, type: req.headers['content-type'], body };
        res.writeHead(201, { etag: '"v1"', 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    const res = await httpRequest(`${url}/x?a=1`, {
      method: 'post',
      headers: { 'Content-Type': 'application/json' },
      body: '{"n":1}',
      timeoutMs: 2000,
    });
    expect(seen).toEqual({ method: 'POST', type: 'application/json', body: '{"n":1}' });
    expect(res.status).toBe(201);
    expect(res.header('ETag')).toBe('"v1"');
    expect(res.json()).toEqual({ ok: true });
  });

  it.each([
    ['gzip', (b: Buffer) => zlib.gzipSync(b)],
    ['deflate', (b: Buffer) => zlib.deflateSync(b)],
    ['deflate', (b: Buffer) => zlib.deflateRawSync(b)],
    ['br', (b: Buffer) => zlib.brotliCompressSync(b)],
  ])('decodes a %s body', async (enc, encode) => {
    const text = 'BEGIN:VCALENDAR\r\n'.repeat(200);
    const url = await serve((req, res) => {
      expect(req.headers['accept-encoding']).toContain(enc);
      res.writeHead(200, { 'content-encoding': enc }).end(encode(Buffer.from(text)));
    });
    expect((await httpRequest(url, { timeoutMs: 2000 })).text()).toBe(text);
  });

  it('refuses a body over maxBytes, declared or streamed or inflated', async () => {
    const big = Buffer.alloc(10_000, 'a');
    const declared = await serve((_q, res) => res.writeHead(200, { 'content-length': big.length }).end(big));
    expect((await failure(httpRequest(declared, { timeoutMs: 2000, maxBytes: 1000 }))).kind).toBe('too_large');
    const chunked = await serve((_q, res) => {
      res.write(big);
      res.end(big);
    });
    expect((await failure(httpRequest(chunked, { timeoutMs: 2000, maxBytes: 15_000 }))).kind).toBe('too_large');
    const bomb = await serve((_q, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(zlib.gzipSync(big)));
    expect((await failure(httpRequest(bomb, { timeoutMs: 2000, maxBytes: 1000 }))).kind).toBe('too_large');
  });

  it('times out a server that never answers, with the deadline in the message', async () => {
    const url = await serve(() => {});
    const e = await failure(httpRequest(url, { timeoutMs: 150 }));
    expect(e.kind).toBe('timeout');
    expect(e.message).toBe('no answer within 150 ms');
  });

  it('times out a body that stops half way', async () => {
    const url = await serve((_q, res) => res.writeHead(200, { 'content-length': 100 }).write('partial'));
    expect((await failure(httpRequest(url, { timeoutMs: 150 }))).kind).toBe('timeout');
  });

  it('stops when its signal aborts', async () => {
    const url = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    expect((await failure(httpRequest(url, { timeoutMs: 5000, signal: ac.signal }))).kind).toBe('aborted');
    expect((await failure(httpRequest(url, { timeoutMs: 5000, signal: ac.signal }))).kind).toBe('aborted');
  });

  it('names a refused connection without the path or query', async () => {
    const url = await serve(() => {});
    const port = new URL(url).port;
    await new Promise((r) => servers.pop()!.close(r));
    const e = await failure(httpRequest(`http://127.0.0.1:${port}/secret/path?token=abc`, { timeoutMs: 2000 }));
    expect(e.kind).toBe('network');
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.message).not.toMatch(/secret|abc/);
  });

  it('follows redirects, drops credentials across origins, and can refuse them', async () => {
    let authAtOther: string | undefined = 'unset';
    const other = await serve((req, res) => {
      authAtOther = req.headers.authorization;
      res.end(`other ${req.method} ${req.url}`);
    });
    const url = await serve((req, res) => {
      if (req.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else if (req.url === '/b') res.writeHead(303, { location: `${other}/c?k=secret` }).end();
      else if (req.url === '/loop') res.writeHead(301, { location: '/loop' }).end();
      else res.end('?');
    });
    const res = await httpRequest(`${url}/a`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: 'Bearer t' },
      timeoutMs: 2000,
    });
    expect(res.text()).toBe('other GET /c?k=secret');
    expect(authAtOther).toBeUndefined();
    expect(res.url.pathname).toBe('/c');

    const refused = await failure(httpRequest(`${url}/b`, { timeoutMs: 2000, redirect: 'error' }));
    expect(refused.kind).toBe('redirect');
    expect(refused.message).toBe(`redirected (HTTP 303) to ${other}`);
    expect((await failure(httpRequest(`${url}/loop`, { timeoutMs: 2000 }))).message).toBe('more than 5 redirects');
  });

  it('retries a GET (never a POST) once when its reused keep-alive socket dies', async () => {
    // The race Node's docs describe: the server closes an idle connection just
    // as the client sends on it. Here the server drops the second request that
    // arrives on a connection, unanswered.
    const perSocket = new WeakMap<object, number>();
    let answered = 0;
    const url = await serve((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) {
        req.socket.destroy();
        return;
      }
      answered++;
      res.end(`answer ${answered}`);
    });
    expect((await httpRequest(url, { timeoutMs: 2000 })).text()).toBe('answer 1');
    expect((await httpRequest(url, { timeoutMs: 2000 })).text()).toBe('answer 2');
    expect((await httpRequest(url, { timeoutMs: 2000 })).text()).toBe('answer 3');
    const post = await failure(httpRequest(url, { method: 'POST', body: 'x', timeoutMs: 2000 }));
    expect(post.kind).toBe('network');
    expect(answered).toBe(3);
  });

  it('rejects a header Node refuses to send with an HttpError, leaving no timer behind', async () => {
    // http.request throws synchronously here; the deadline timer must not
    // outlive the call (it used to fire later and throw from inside a timer).
    const url = await serve((_q, res) => res.end('x'));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const e = await failure(
        httpRequest(url, { timeoutMs: 50, headers: { authorization: 'Bearer \u0442\u043e\u043a\u0435\u043d' } }),
      );
      expect(e.kind).toBe('bad_request');
      expect(e.message).not.toContain('Bearer');
      await new Promise((r) => setTimeout(r, 120));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('gives up with an HttpError when the retry lands on another dead keep-alive socket', async () => {
    const perSocket = new WeakMap<object, number>();
    const url = await serve((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) req.socket.destroy();
      else res.end('ok');
    });
    // Two idle keep-alive sockets in the pool, both of which the server drops on their next request.
    await Promise.all([httpRequest(url, { timeoutMs: 2000 }), httpRequest(url, { timeoutMs: 2000 })]);
    expect((await failure(httpRequest(url, { timeoutMs: 2000 }))).kind).toBe('network');
  });

  it('drops a leading UTF-8 byte order mark from text and JSON, as fetch did', async () => {
    const url = await serve((_q, res) => res.end('\uFEFF{"a":1}'));
    const res = await httpRequest(url, { timeoutMs: 2000 });
    expect(res.text()).toBe('{"a":1}');
    expect(res.json()).toEqual({ a: 1 });
  });

  it('refuses a redirect to an unparsable Location with an HttpError that does not quote it', async () => {
    const url = await serve((_q, res) => res.writeHead(302, { location: 'http://[secret' }).end());
    for (const redirect of ['follow', 'error'] as const) {
      const e = await failure(httpRequest(url, { timeoutMs: 2000, redirect }));
      expect(e.kind).toBe('redirect');
      expect(e.message).not.toContain('secret');
    }
  });

  it('follows only 301, 302, 303, 307 and 308; a HEAD stays a HEAD through a 303', async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/300') res.writeHead(300, { location: '/elsewhere' }).end('choices');
      else if (req.url === '/head') res.writeHead(303, { location: '/target' }).end();
      else res.end('target');
    });
    const choices = await httpRequest(`${url}/300`, { timeoutMs: 2000 });
    expect(choices.status).toBe(300);
    expect(choices.text()).toBe('choices');
    expect((await httpRequest(`${url}/head`, { method: 'HEAD', timeoutMs: 2000 })).status).toBe(200);
    expect(seen).toEqual(['GET /300', 'HEAD /head', 'HEAD /target']);
  });

  it('rejects what is not an http(s) URL', async () => {
    expect((await failure(httpRequest('not a url', { timeoutMs: 100 }))).kind).toBe('bad_url');
    expect((await failure(httpRequest('ftp://x/y', { timeoutMs: 100 }))).kind).toBe('bad_url');
  });
});
