// A JSON-RPC connection for the API fuzz suite: many requests in flight,
// replies matched by id (batch replies too), and a record of how it closed.
import WebSocket from 'ws';

export interface Reply {
  jsonrpc?: string;
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export class FuzzConn {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  closeCode: number | null = null;
  readonly closed: Promise<number>;
  /** Replies that matched no request (an agent bug if any). */
  readonly strays: unknown[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as Reply | Reply[];
      for (const r of Array.isArray(msg) ? msg : [msg]) {
        if ((r as { method?: string }).method === 'event') continue;
        const p = typeof r.id === 'number' ? this.pending.get(r.id) : undefined;
        if (!p) {
          this.strays.push(r);
          continue;
        }
        this.pending.delete(r.id as number);
        p.resolve(r);
      }
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        for (const p of this.pending.values()) p.reject(new Error(`connection closed with ${code} before the answer`));
        this.pending.clear();
        resolve(code);
      }),
    );
  }

  static open(url: string, token: string): Promise<FuzzConn> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`, { maxPayload: 0 });
      ws.once('open', () => resolve(new FuzzConn(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends one request (params exactly as given, `undefined` leaves them out) and resolves with its reply. */
  call(method: string, params: unknown): Promise<Reply> {
    const [frame, reply] = this.prepare(method, params);
    this.ws.send(JSON.stringify(frame));
    return reply;
  }

  /** A batch of requests in one frame; each promise settles with that request's reply. */
  batch(calls: { method: string; params: unknown }[]): Promise<Reply>[] {
    const prepared = calls.map((c) => this.prepare(c.method, c.params));
    this.ws.send(JSON.stringify(prepared.map(([f]) => f)));
    return prepared.map(([, r]) => r);
  }

  private prepare(method: string, params: unknown): [object, Promise<Reply>] {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    return [{ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }, reply];
  }

  close(): void {
    this.ws.close();
  }
}
