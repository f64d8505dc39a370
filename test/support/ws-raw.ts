// A raw WebSocket client for tests that send what a well-behaved client never
// would (bad frames, huge batches) or stop reading (the TCP socket paused).
import type { Socket } from 'node:net';
import WebSocket from 'ws';

export interface RawClient {
  ws: WebSocket;
  /** The TCP socket under the WebSocket: pause() it to stop reading. */
  tcp: Socket;
  /** Every text message received, as text. */
  received: string[];
  /** Resolves when the socket closes, with the close code the agent sent. */
  closed: Promise<{ code: number; reason: string }>;
  /** The next message received after this call (rejects if the socket closes first). */
  next(): Promise<string>;
  /** Sends and resolves with the next message. */
  ask(data: string | Buffer, binary?: boolean): Promise<string>;
}

export function openRaw(url: string, token: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`, { maxPayload: 0 });
    let tcp: Socket | undefined;
    const received: string[] = [];
    const waiters: { resolve: (m: string) => void; reject: (e: Error) => void }[] = [];
    ws.once('upgrade', (res) => {
      tcp = res.socket;
    });
    ws.on('message', (data) => {
      const text = String(data);
      received.push(text);
      for (const w of waiters.splice(0)) w.resolve(text);
    });
    const closed = new Promise<{ code: number; reason: string }>((res) => {
      ws.on('close', (code, reason) => {
        for (const w of waiters.splice(0)) w.reject(new Error(`socket closed with ${code}`));
        res({ code, reason: String(reason) });
      });
    });
    ws.on('error', () => undefined); // the close event carries what happened
    ws.once('open', () => {
      if (!tcp) return reject(new Error('no TCP socket after upgrade'));
      const next = () => new Promise<string>((res, rej) => waiters.push({ resolve: res, reject: rej }));
      resolve({
        ws,
        tcp,
        received,
        closed,
        next,
        ask(data, binary = false) {
          const p = next();
          ws.send(data, { binary });
          return p;
        },
      });
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
}

/** `levels` nested arrays around `inner`: "[[[…]]]" built without recursion. */
export function nestedArrays(levels: number, inner = '0'): string {
  return `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
}

/** An object value nested `levels` deep: {"a":{"a":…}}, as text. */
export function nestedObjects(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}
