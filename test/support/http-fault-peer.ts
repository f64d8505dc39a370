// A scriptable HTTP peer for the HTTP fault matrix (issue 17): a node:http
// server the agent polls. In "device" mode it forwards each request to a real
// device stand-in (the TrueConf emulator, the ICS server) and passes the answer
// back; otherwise it plays a fault per request. It counts every request and
// every TCP connection, so tests can hold the requests to the backoff / poll
// schedule and check that nothing is left open.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export type HttpPeerMode =
  /** Forward to the device stand-in. */
  | 'device'
  /** Answer every request with `errorStatus` (a server up but failing: 5xx). */
  | 'error'
  /** Hold every request for `slowMs` of real time (longer than the agent's request timeout), then forward it. */
  | 'slow'
  /** Answer 200 with `garbage` (a login page, a proxy's notice: not what the protocol sends). */
  | 'garbage'
  /**
   * Forward without the request's validators (so the device sends a body, not a 304), and cut the
   * body in half (Content-Length says the half): a proxy that lost the end.
   */
  | 'truncated';

export interface HttpGarbage {
  contentType: string;
  body: string;
}

export interface HttpPeerOptions {
  /** What "garbage" mode answers (default: an HTML page). */
  garbage?: HttpGarbage;
  /** Status of "error" mode (default 503). */
  errorStatus?: number;
  /** Real time "slow" mode holds a request before forwarding it (ms); must exceed the agent's request timeout. */
  slowMs: number;
}

const DEFAULT_GARBAGE: HttpGarbage = {
  contentType: 'text/html; charset=utf-8',
  body: '<!DOCTYPE html><html><body><h1>Sign in</h1>\u0000\u00ff<form>{"not": json</form></body></html>',
};

export class ScriptableHttpPeer {
  mode: HttpPeerMode = 'device';
  /** Requests received since the peer was created (every mode, answered or not). */
  requests = 0;
  /** TCP connections accepted since the peer was created. */
  connects = 0;
  port = 0;
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Requests received and not yet answered or abandoned. */
  private inFlight = 0;
  /** Real time (ms) of the last request or answer. */
  private lastTraffic = 0;
  private readonly holds = new Set<NodeJS.Timeout>();
  private readonly o: Required<HttpPeerOptions>;

  constructor(
    private readonly upstream: () => { host: string; port: number },
    o: HttpPeerOptions,
  ) {
    this.o = { garbage: DEFAULT_GARBAGE, errorStatus: 503, ...o };
  }

  /** Starts listening (again, on the same port after `refuse`). */
  async listen(): Promise<number> {
    if (this.server) return this.port;
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.connects++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Reserves a port and closes it: requests are refused (ECONNREFUSED) until `listen`. */
  async refuseFromBoot(): Promise<number> {
    await this.listen();
    await this.refuse();
    return this.port;
  }

  /** Stops listening and drops every connection (keep-alive ones too): the server is gone. */
  async refuse(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const t of this.holds) clearTimeout(t);
    this.holds.clear();
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** TCP connections open towards the agent. */
  get open(): number {
    return this.sockets.size;
  }

  /**
   * Paces a fake clock about to move `stepMs`: while a request is under way at the peer, or bytes
   * moved in the last 200 ms of real time, fake time may run at most 10× real time, so the agent's
   * fake-clock deadlines do not fire only because loopback HTTP took real milliseconds (and a held
   * "slow" request meets the agent's real request timeout first). When the line is idle, time jumps.
   */
  async pace(stepMs: number): Promise<void> {
    if (this.inFlight > 0 || Date.now() - this.lastTraffic < 200) await new Promise((r) => setTimeout(r, Math.ceil(stepMs / 10)));
  }

  async stop(): Promise<void> {
    await this.refuse();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    this.inFlight++;
    this.lastTraffic = Date.now();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.lastTraffic = Date.now();
    };
    res.on('close', finish);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      switch (this.mode) {
        case 'error':
          res.writeHead(this.o.errorStatus, { 'content-type': 'text/plain' }).end('Service Unavailable');
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': this.o.garbage.contentType }).end(this.o.garbage.body);
          return;
        case 'slow': {
          const t = setTimeout(() => {
            this.holds.delete(t);
            if (!res.destroyed) this.forward(req, body, res, false);
          }, this.o.slowMs);
          this.holds.add(t);
          return;
        }
        default:
          this.forward(req, body, res, this.mode === 'truncated');
      }
    });
  }

  /** Sends the request on to the stand-in and its answer back (cut in half when `cut`). */
  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, cut: boolean): void {
    const { host, port } = this.upstream();
    const headers = { ...req.headers, host: `${host}:${port}` };
    delete headers.connection;
    // Plain bodies, so "truncated" cuts text, not a compressed stream.
    delete headers['accept-encoding'];
    // A proxy that cuts bodies fetches them whole: the device sends a body, never a 304, to cut.
    if (cut) {
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
    }
    const up = http.request({ host, port, method: req.method, path: req.url, headers, agent: false }, (ans) => {
      const parts: Buffer[] = [];
      ans.on('data', (c: Buffer) => parts.push(c));
      ans.on('error', () => res.destroy());
      ans.on('end', () => {
        let out = Buffer.concat(parts);
        if (cut) out = out.subarray(0, Math.floor(out.length / 2));
        const h = { ...ans.headers };
        delete h['content-length'];
        delete h['transfer-encoding'];
        delete h.connection;
        if (res.destroyed) return;
        res.writeHead(ans.statusCode ?? 502, { ...h, 'content-length': String(out.length) }).end(out);
      });
    });
    up.on('error', () => res.destroy());
    up.end(body);
  }
}
