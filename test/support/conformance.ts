// Conformance from the manuals (issue 17): the types of a conformance table
// (what a real device sends and expects, each row citing its document), a
// scripted loopback peer that replays those rows to a driver, a probe that
// talks to our simulator over a real socket, and the runner that starts the
// drivers black-box inside a real agent and checks each case through the
// JSON-RPC API. Known driver gaps are cases that must still fail: a case that
// starts passing fails the run with "remove this gap".
import net from 'node:net';
import { stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/util/errors.js';
import { type RpcTestClient, startTestAgent, type TestAgent } from './agent.js';
import type { DeviceRecord } from './device-api.js';

/** One thing a real device does on the wire, as its manual documents it. */
export interface ConformanceRow {
  id: string;
  kind: 'reply' | 'error' | 'unsolicited' | 'banner' | 'keepalive' | 'handshake';
  /** Document and page/section the row comes from. */
  cite: string;
  /** What the controller sends (absent for banners and unsolicited messages). */
  send?: string;
  /** What the device sends, exactly as on the wire (an example instance of the form). */
  reply: string;
  note?: string;
}

/** A table: rows by id (the id repeated as the key keeps look-ups typed). */
export type ConformanceTable = Record<string, ConformanceRow>;

/** What names a source: a URL or web address, an RFC, a document (manual, guide, protocol, command list …) or a source file. */
const CITE_SOURCE = [
  /https?:\/\/\S+/i,
  /\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|ls|de|tv|htm|html)\b/i,
  /\bRFC \d{3,5}\b/,
  /\b(?:manuals?|user guide|guide|help|protocol|command (?:list|strings|table)|programmer'?s|technical|specification|API|datasheet)\b/i,
  /[\w*-]\.(?:rb|py|ts|js|json|go)\b/,
];
/** What names the place in it: a page, section, chapter, appendix or table, a quoted heading, a file or a URL path. */
const CITE_PLACE = [
  /\bpp?\.\s?\d+/,
  /§\s?\d/,
  /\bch\.\s?\d/,
  /\b(?:page|section|appendix|table|chapter)\b/i,
  /"[^"]{3,}"/,
  /[\w*-]\.(?:html?|rb|py|ts|js|json|go)\b/,
  /\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\/[\w.-]+/i,
];
const CITE_PLACEHOLDER = /\b(?:TODO|TBD|FIXME|see above|unknown source|n\/a)\b/i;

/** Why `cite` is not a citation a reader can follow (null: it is one). */
export function citationProblem(cite: string): string | null {
  if (CITE_PLACEHOLDER.test(cite)) return 'is a placeholder';
  if (!CITE_SOURCE.some((r) => r.test(cite))) return 'names no document, RFC, web address or source file';
  if (!CITE_PLACE.some((r) => r.test(cite)))
    return 'names no page, section, chapter, appendix, table, quoted heading, file or URL path';
  return null;
}

/**
 * Checks a table's own consistency: ids match keys, and every row cites a source a reader can
 * follow — a document, RFC, web address or source file, and the place in it (citationProblem).
 */
export function checkTable(table: ConformanceTable): void {
  expect(Object.keys(table).length, 'the table has rows').toBeGreaterThan(0);
  for (const [key, row] of Object.entries(table)) {
    expect(row.id, key).toBe(key);
    expect(citationProblem(row.cite), `${key} cites its source: "${row.cite}"`).toBeNull();
  }
}

/** A driver case that fails today because of a known finding: the runner asserts it still fails. */
export interface KnownGap {
  /** Issue 17's finding (or the lead's) this gap matches. */
  finding: string;
}

// ---------------------------------------------------------------------------
// The scripted peer

export interface PeerRule {
  /** Exact frame, or a pattern tested against the frame. */
  when: string | RegExp;
  /** Text (or several) written back; a function gets the match. */
  reply: string | string[] | ((m: RegExpExecArray) => string | string[]);
  /** Answer only the first time (later frames fall through to the next rules). */
  once?: boolean;
}

export interface PeerScript {
  /** Splits the received text into frames; returns the unconsumed rest. */
  framer: (buffer: string) => { frames: string[]; rest: string };
  /** Written on every accepted connection (banner, state dump…). */
  greet?: string[];
  /** Delay before the greeting (a device that greets a moment after accepting). */
  greetDelayMs?: number;
  rules: PeerRule[];
  /** Answer to a frame no rule matched (the device's "unknown command" error), or nothing. */
  fallback?: (frame: string) => string | undefined;
  /** Wire encoding of the text (default utf8; latin1 for byte-transparent protocols). */
  encoding?: BufferEncoding;
}

/** A device stand-in on loopback TCP that answers from a script built from conformance rows. */
export class ScriptedPeer {
  readonly received: string[] = [];
  /** Frames that arrived on a connection before its greeting was written. */
  readonly beforeGreeting: string[] = [];
  connections = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly used = new Set<PeerRule>();
  port = 0;

  constructor(readonly script: PeerScript) {}

  async start(): Promise<number> {
    const server = net.createServer((s) => this.accept(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Writes `text` to every connected client (an unsolicited message). */
  push(text: string): void {
    for (const s of this.sockets) s.write(Buffer.from(text, this.script.encoding ?? 'utf8'));
  }

  get clientCount(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const enc = this.script.encoding ?? 'utf8';
    const write = (t: string) => {
      if (!socket.destroyed) socket.write(Buffer.from(t, enc));
    };
    let greeted = false;
    const greet = () => {
      greeted = true;
      for (const g of this.script.greet ?? []) write(g);
    };
    if (this.script.greetDelayMs) setTimeout(greet, this.script.greetDelayMs);
    else greet();
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString(enc);
      const { frames, rest } = this.script.framer(buffer);
      buffer = rest;
      for (const f of frames) {
        this.received.push(f);
        if (!greeted) this.beforeGreeting.push(f);
        for (const t of this.answer(f)) write(t);
      }
    });
  }

  private answer(frame: string): string[] {
    return answerFrame(this.script, this.used, frame);
  }
}

/** The replies of the first rule matching `frame` (rules in `used` that are `once` are skipped), else the fallback. */
export function answerFrame(script: Pick<PeerScript, 'rules' | 'fallback'>, used: Set<PeerRule>, frame: string): string[] {
  for (const rule of script.rules) {
    if (rule.once && used.has(rule)) continue;
    const m =
      typeof rule.when === 'string'
        ? frame === rule.when
          ? (Object.assign([frame], { index: 0, input: frame }) as RegExpExecArray)
          : null
        : rule.when.exec(frame);
    if (!m) continue;
    used.add(rule);
    const r = typeof rule.reply === 'function' ? rule.reply(m) : rule.reply;
    return Array.isArray(r) ? r : [r];
  }
  const f = script.fallback?.(frame);
  return f === undefined ? [] : [f];
}

/** Frames ending in `terminator` (the terminator is dropped; empty frames are skipped). */
export function splitOn(terminator: string): PeerScript['framer'] {
  return (buffer) => {
    const parts = buffer.split(terminator);
    const rest = parts.pop() ?? '';
    return { frames: parts.map((p) => p.replace(/^[\r\n]+/, '')).filter((p) => p.length > 0), rest };
  };
}

/** A rule answering a row: the row's `send` (without its line terminator, as framed) in, the row's `reply` out. */
export function answerRow(row: ConformanceRow, once = false): PeerRule {
  if (row.send === undefined) throw new Error(`row ${row.id} has nothing to answer`);
  return { when: row.send.replace(/[\r\n\0]+$/, ''), reply: row.reply, once };
}

// ---------------------------------------------------------------------------
// The simulator probe

/** A raw client of a simulator: sends requests and waits for the replies the manual documents. */
export class SimProbe {
  text = '';
  private cursor = 0;
  private constructor(
    private readonly socket: net.Socket,
    private readonly encoding: BufferEncoding,
  ) {
    socket.on('data', (d) => {
      this.text += d.toString(encoding);
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, encoding: BufferEncoding = 'utf8'): Promise<SimProbe> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new SimProbe(socket, encoding);
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, this.encoding));
  }

  /** Waits until `expected` appears after the last match (or after connect); returns what matched. */
  async expect(expected: string | RegExp, what = String(expected), timeoutMs = 3000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const tail = this.text.slice(this.cursor);
      if (typeof expected === 'string') {
        const i = tail.indexOf(expected);
        if (i >= 0) {
          this.cursor += i + expected.length;
          return expected;
        }
      } else {
        const m = expected.exec(tail);
        if (m) {
          this.cursor += m.index + m[0].length;
          return m[0];
        }
      }
      if (Date.now() > end)
        throw new Error(`simulator never sent ${what}; it sent after the last match: ${JSON.stringify(tail.slice(0, 400))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Sends a row's request and expects its documented reply (exactly, or the given pattern). */
  async row(row: ConformanceRow, expected: string | RegExp = row.reply): Promise<string> {
    if (row.send !== undefined) this.send(row.send);
    return this.expect(expected, `${row.id}: ${JSON.stringify(row.reply)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------
// The driver runner

/** What every scripted peer offers the runner and the cases. */
export interface ConformancePeer {
  readonly port: number;
  readonly received: string[];
  readonly connections: number;
  readonly clientCount: number;
  push(text: string): void;
  stop(): Promise<void>;
}

/** What a case sees of its device, only through the public JSON-RPC API. */
export interface DeviceProbe {
  id: string;
  peer: ScriptedPeer;
  client: RpcTestClient;
  /** Runs an action; resolves with the result or with the error's stable code name and message. */
  action(name: string, params?: Record<string, unknown>): Promise<ActionOutcome>;
  device(): Promise<DeviceRecord>;
  /** Waits until the device's record satisfies `pred` (polled over the API; real time, 10 s by default: a hang's bound, not a timing). */
  until(pred: (d: DeviceRecord) => boolean, what: string, timeoutMs?: number): Promise<DeviceRecord>;
  state(key: string): Promise<unknown>;
}

export type ActionOutcome = { ok: true; result: unknown } | { ok: false; code: string; message: string };

const CODE_NAMES = new Map<number, string>(Object.entries(ERROR_CODES).map(([k, v]) => [v, k]));

export interface DriverCase {
  /** Case id (also the device id in the agent). */
  id: string;
  /** Conformance row ids this case demonstrates. */
  rows: string[];
  /** The device stand-in's script (a TCP text peer), or a started peer of another kind. */
  peer: PeerScript | (() => Promise<ConformancePeer>);
  /** Driver config keys (host and port of the peer are added), or a function of the peer giving every key. */
  config?: Record<string, unknown> | ((peer: ConformancePeer) => Record<string, unknown>);
  /** Drives the device and asserts its observable outcome; throws on a mismatch. */
  run(dev: DeviceProbe): Promise<void>;
}

/**
 * Registers a describe block: starts one peer per case, one agent with one
 * device per case (driver `driver`), then one test per case. A case named in
 * `gaps` must fail; when it passes the test fails with "remove this gap".
 */
export function describeDriverConformance(
  driver: string,
  table: ConformanceTable,
  cases: DriverCase[],
  gaps: Record<string, KnownGap>,
): void {
  describe(`${driver}: driver against the manual (scripted peer, through the agent's API)`, () => {
    let agent: TestAgent;
    let client: RpcTestClient;
    const peers = new Map<string, ConformancePeer>();

    beforeAll(async () => {
      for (const c of cases) {
        for (const r of c.rows) if (!table[r]) throw new Error(`case ${c.id} names unknown row ${r}`);
        if (typeof c.peer === 'function') peers.set(c.id, await c.peer());
        else {
          const peer = new ScriptedPeer(c.peer);
          await peer.start();
          peers.set(c.id, peer);
        }
      }
      for (const id of Object.keys(gaps)) if (!cases.some((c) => c.id === id)) throw new Error(`gap ${id} names no case`);
      const devices = Object.fromEntries(
        cases.map((c) => {
          const peer = peers.get(c.id) as ConformancePeer;
          if (typeof c.config === 'function') return [c.id, { driver, ...c.config(peer) }];
          const port = peer.port;
          // A peer without a port (a serial device) is reached through the case's config alone.
          return [c.id, { driver, ...(port ? { host: '127.0.0.1', port } : {}), ...c.config }];
        }),
      );
      agent = await startTestAgent(stringify({ devices }));
      client = await agent.connect();
    });

    afterAll(async () => {
      await agent?.stop();
      for (const p of peers.values()) await p.stop();
    });

    for (const c of cases) {
      const gap = gaps[c.id];
      const title = `${c.id} [${c.rows.join(', ')}]${gap ? ` — known gap: ${gap.finding}` : ''}`;
      it(title, async () => {
        const probe = deviceProbe(c.id, client, peers.get(c.id) as ScriptedPeer);
        // CONFORMANCE_GAPS=run shows why a gap fails (it then runs as an ordinary case).
        if (!gap || process.env.CONFORMANCE_GAPS === 'run') return c.run(probe);
        let passed = false;
        try {
          await c.run(probe);
          passed = true;
        } catch {
          // Still failing, as the gap list says.
        }
        if (passed) throw new Error(`case "${c.id}" passes now: remove this gap from knownDriverGaps (${gap.finding})`);
      });
    }
  });
}

function deviceProbe(id: string, client: RpcTestClient, peer: ConformancePeer): DeviceProbe {
  const device = () => client.call<DeviceRecord>('devices.get', { device: id });
  return {
    id,
    peer: peer as ScriptedPeer,
    client,
    device,
    async action(name, params = {}) {
      const r = await client.request('device.action', { device: id, action: name, params });
      if (r.error) return { ok: false, code: CODE_NAMES.get(r.error.code) ?? String(r.error.code), message: r.error.message };
      return { ok: true, result: r.result };
    },
    async until(pred, what, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      let last = await device();
      while (!pred(last)) {
        if (Date.now() > end)
          throw new Error(
            `${id}: timed out waiting for ${what}; status ${JSON.stringify(last.status)}; peer received ${JSON.stringify(peer.received.slice(-8))}`,
          );
        await new Promise((r) => setTimeout(r, 25));
        last = await device();
      }
      return last;
    },
    async state(key) {
      return (await device()).state[key]?.value;
    },
  };
}

/** Waits for `online` (common first step of a case). */
export function online(dev: DeviceProbe, timeoutMs = 10_000): Promise<DeviceRecord> {
  return dev.until((d) => d.status.status === 'online', 'online', timeoutMs);
}
