// Starts a real agent (real sockets, real SQLite file) for a test, and a
// JSON-RPC WebSocket client to talk to it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { Agent } from '../../src/app.js';
import type { FeatureFactory } from '../../src/app-context.js';
import type { DriverDefinition } from '../../src/host/contract.js';
import type { Clock } from '../../src/util/clock.js';

export const TOKENS = {
  admin: 'test-admin-token-0123456789',
  operator: 'test-operator-token-0123456789',
  viewer: 'test-viewer-token-0123456789',
  ingest: 'test-ingest-token-0123456789',
  identity: 'test-identity-token-0123456789',
};

export const TOKENS_TOML = Object.entries(TOKENS)
  .map(([role, token]) => `[[agent.tokens]]\nname = "${role}-client"\ntoken = "${token}"\nrole = "${role}"\n`)
  .join('\n');

export interface TestAgent {
  agent: Agent;
  /** http://127.0.0.1:port */
  url: string;
  dir: string;
  connect(token?: string): Promise<RpcTestClient>;
  stop(): Promise<void>;
}

/** `body` is appended after an [agent] table with the test tokens. */
export async function startTestAgent(
  body = '',
  opts: {
    dir?: string;
    features?: FeatureFactory[];
    drivers?: DriverDefinition[];
    clock?: Clock;
    logLevel?: string;
    /** Log into this logger instead (tests that read what the agent logged). */
    logger?: pino.Logger;
    env?: NodeJS.ProcessEnv;
    /** More `[agent]` keys, one per line (e.g. "config_health_window_s = 3"). */
    agentKeys?: string;
  } = {},
): Promise<TestAgent> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-test-'));
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "test-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\n${opts.agentKeys ? `${opts.agentKeys}\n` : ''}\n${TOKENS_TOML}\n${body}\n`,
  );
  const agent = new Agent({
    configFile: file,
    logger: opts.logger ?? pino({ level: opts.logLevel ?? process.env.TEST_LOG_LEVEL ?? 'silent' }),
    features: opts.features,
    drivers: opts.drivers,
    clock: opts.clock,
    env: opts.env,
  });
  const url = await agent.start();
  const clients: RpcTestClient[] = [];
  return {
    agent,
    url,
    dir,
    async connect(token = TOKENS.admin) {
      const c = await RpcTestClient.open(`${url.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}`);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await agent.stop();
    },
  };
}

/** The agent's count of connected WebSocket clients (`room_agent_ws_clients` on /metrics at `url`). */
export async function wsClientCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^room_agent_ws_clients (\d+)/m.exec(text)?.[1]);
}

export interface RpcNotification {
  topic: string;
  data: unknown;
}

export class RpcTestClient {
  private nextId = 1;
  private readonly pending = new Map<number, (msg: { result?: unknown; error?: { code: number; message: string } }) => void>();
  readonly events: RpcNotification[] = [];
  private waiters: { pred: (n: RpcNotification) => boolean; resolve: (n: RpcNotification) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.method === 'event') {
        const n = msg.params as RpcNotification;
        this.events.push(n);
        const matched = this.waiters.filter((w) => w.pred(n));
        this.waiters = this.waiters.filter((w) => !matched.includes(w));
        for (const w of matched) w.resolve(n);
        return;
      }
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
  }

  static open(url: string): Promise<RpcTestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RpcTestClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Resolves with the raw reply ({result} or {error}). */
  request(
    method: string,
    params?: unknown,
  ): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Resolves with the result, rejects with the JSON-RPC error message. */
  async call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code, data: r.error.data });
    return r.result as T;
  }

  /** Waits for a notification matching `pred` (already received ones count). */
  waitFor(pred: (n: RpcNotification) => boolean, timeoutMs = 10_000): Promise<RpcNotification> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a notification')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (n) => {
          clearTimeout(t);
          resolve(n);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}
