// Serves an iCalendar file over HTTP the way Exchange publishes one: ETag and
// Last-Modified, 304 on a matching If-None-Match / If-Modified-Since.
// Used by tests and by `simulated = true` ics devices (the demo).
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class IcsServer {
  private server: http.Server | null = null;
  /** Requests answered, and how many of them were 304. */
  requests = 0;
  notModified = 0;
  /** Conditional headers seen on the last request. */
  lastConditional: { ifNoneMatch: string | null; ifModifiedSince: string | null } = { ifNoneMatch: null, ifModifiedSince: null };
  /** One-shot status codes to answer instead of the calendar. */
  readonly failures: number[] = [];
  /**
   * One-shot 200 answers sent instead of the calendar, whatever the request's validators: a login page, a
   * body cut off by a proxy. `etag` / `lastModified` default to the current calendar's, as a cache or a
   * proxy that cut the body would send them.
   */
  readonly rogueAnswers: { body: string; etag?: string; lastModified?: string }[] = [];
  private body = '';
  /** The current calendar's validator. */
  etag = '';
  private modified = '';

  constructor(body: string) {
    this.setBody(body);
  }

  setBody(body: string, modifiedAt = new Date()): void {
    this.body = body;
    this.etag = `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
    this.modified = new Date(Math.floor(modifiedAt.getTime() / 1000) * 1000).toUTCString();
  }

  async start(host = '127.0.0.1', port = 0): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.requests++;
      const inm = (req.headers['if-none-match'] as string | undefined) ?? null;
      const ims = (req.headers['if-modified-since'] as string | undefined) ?? null;
      this.lastConditional = { ifNoneMatch: inm, ifModifiedSince: ims };
      const fail = this.failures.shift();
      if (fail) {
        res.writeHead(fail, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      const rogue = this.rogueAnswers.shift();
      if (rogue) {
        res
          .writeHead(200, {
            'content-type': 'text/calendar; charset=utf-8',
            etag: rogue.etag ?? this.etag,
            'last-modified': rogue.lastModified ?? this.modified,
          })
          .end(rogue.body);
        return;
      }
      const fresh = inm ? inm === this.etag : ims ? Date.parse(ims) >= Date.parse(this.modified) : false;
      if (fresh) {
        this.notModified++;
        res.writeHead(304, { etag: this.etag, 'last-modified': this.modified }).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/calendar; charset=utf-8', etag: this.etag, 'last-modified': this.modified })
        .end(this.body);
    });
    await new Promise<void>((resolve) => this.server?.listen(port, host, resolve));
    const a = this.server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}/owa/calendar/room101/calendar.ics`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
