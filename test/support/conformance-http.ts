// A scripted HTTP server for the conformance runner (issue 17): each rule
// matches a request ("GET /path" plus its headers) and answers a status,
// headers and a body, as a row of an HTTP device's conformance table says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConformancePeer } from './conformance.js';

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpRule {
  /** Matches `METHOD /path` and the request headers (lower-case names). */
  when: (request: string, headers: http.IncomingHttpHeaders) => boolean;
  answer: HttpAnswer;
  once?: boolean;
}

export class HttpPeer implements ConformancePeer {
  readonly received: string[] = [];
  /** Headers of every request, in order. */
  readonly headers: http.IncomingHttpHeaders[] = [];
  connections = 0;
  port = 0;
  private server: http.Server | null = null;
  private readonly used = new Set<HttpRule>();

  constructor(private readonly rules: HttpRule[]) {}

  get clientCount(): number {
    return 0;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const request = `${req.method} ${req.url}`;
      this.received.push(request);
      this.headers.push(req.headers);
      const rule = this.rules.find((r) => !(r.once && this.used.has(r)) && r.when(request, req.headers));
      if (rule) this.used.add(rule);
      const a = rule?.answer ?? { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' };
      res.writeHead(a.status, a.headers ?? {}).end(a.body ?? '');
    });
    server.on('connection', () => this.connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** HTTP servers do not push. */
  push(): void {}

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Parses an HTTP row's "<status>\n<header>: <value>…\n\n<body>" answer. */
export function parseAnswer(reply: string): { status: number; headers: Record<string, string>; body: string } {
  const blank = reply.indexOf('\n\n');
  const [status, ...lines] = reply.slice(0, blank).split('\n');
  const headers = Object.fromEntries(lines.filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
  return { status: Number(status), headers, body: reply.slice(blank + 2) };
}
