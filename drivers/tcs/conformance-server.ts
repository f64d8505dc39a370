// A loopback HTTP server for the TrueConf conformance cases (issue 17): it
// answers `METHOD /path` with a conformance row's recorded answer (status,
// headers, body) and keeps every request it received (method, path, query,
// headers, JSON body), so a case can check the driver sent the row's request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConformancePeer, ConformanceRow } from '../../test/support/conformance.js';
import { parseAnswer } from '../../test/support/conformance-http.js';
import { tcsTable as T } from './conformance.js';

export type Row = keyof typeof T;

/** One request as the server received it. */
export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Answers `METHOD /path` (query ignored) with a row's recorded answer; `once` rules answer the first match only. */
export interface RowRule {
  method: string;
  path: string;
  row: Row;
  once?: boolean;
}

export class RowServer implements ConformancePeer {
  readonly received: string[] = [];
  readonly requests: Received[] = [];
  connections = 0;
  port = 0;
  private server: http.Server | null = null;
  private readonly used = new Set<RowRule>();

  constructor(private readonly rules: RowRule[]) {}

  get clientCount(): number {
    return 0;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        text += c;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const method = req.method ?? '';
        this.received.push(`${method} ${url.pathname}`);
        this.requests.push({
          method,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        });
        const rule = this.rules.find((r) => !(r.once && this.used.has(r)) && r.method === method && r.path === url.pathname);
        if (!rule) {
          res.writeHead(599, { 'content-type': 'text/plain' }).end(`no row answers ${method} ${url.pathname}`);
          return;
        }
        this.used.add(rule);
        const a = parseAnswer(T[rule.row].reply);
        res.writeHead(a.status, a.headers).end(a.body);
      });
    });
    server.on('connection', () => this.connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  push(): void {}

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/** The request a row documents: method, path, the query values it names and the JSON body. */
export function rowRequest(row: ConformanceRow): { method: string; path: string; query: Record<string, string>; body: unknown } {
  const m = /^(GET|POST) ([^\s?]+)(?:\?((?:<[^>]*>|\S)*))?(?: \([^)]*\))?(?: (\{.*\}))?(?: \(.*\))?$/.exec(row.send ?? '');
  if (!m) throw new Error(`row ${row.id}: cannot read its request from ${JSON.stringify(row.send)}`);
  const query: Record<string, string> = {};
  // Placeholders ("…", "<expired>") stand for values the driver chooses; named values must match.
  for (const [k, v] of new URLSearchParams(m[3] ?? '')) if (!/^(…|<.*>)?$/.test(v)) query[k] = v;
  return { method: m[1] as string, path: m[2] as string, query, body: m[4] ? JSON.parse(m[4]) : undefined };
}
