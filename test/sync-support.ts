// Brokers for the sync tests: aedes in-process (always), and a real Mosquitto
// started on a free port when MOSQUITTO_BIN is set (or CI=true and it is
// installed). The same suites run against each.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

// aedes-persistence is CommonJS; its typings do not model the callable export.
const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => unknown;

export interface TestBroker {
  kind: 'aedes' | 'mosquitto';
  port: number;
  url: string;
  /** MQTT protocol level the agent should use against it (aedes speaks 3.1.1 only). */
  protocol: 4 | 5;
  /** Stops the broker (clients see the socket close). */
  stop(): Promise<void>;
  /** Starts it again on the same port; `keepSessions` keeps persistent sessions and queued messages. */
  start(keepSessions?: boolean): Promise<void>;
  close(): Promise<void>;
  /**
   * aedes only: a subscription inside the broker, kept across a restart that
   * keeps sessions. aedes may lose QoS 1 deliveries to a socket destroyed
   * mid-write (a broker limit, not the agent's); this sees everything the
   * broker accepted.
   */
  tap?(topic: string, fn: (payload: Buffer) => void): void;
  /** aedes only: the broker instance (e.g. to set an authenticate hook). */
  instance?(): Aedes | null;
}

export interface BrokerSpec {
  kind: 'aedes' | 'mosquitto';
  create(port?: number): Promise<TestBroker>;
}

export function mosquittoBin(): string | null {
  if (process.env.MOSQUITTO_BIN) return process.env.MOSQUITTO_BIN;
  if (process.env.CI !== 'true') return null;
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    const p = path.join(dir, 'mosquitto');
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

export const brokerSpecs: BrokerSpec[] = [
  { kind: 'aedes', create: createAedes },
  ...(mosquittoBin() ? [{ kind: 'mosquitto' as const, create: createMosquitto }] : []),
];

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function createAedes(fixedPort?: number): Promise<TestBroker> {
  const port = fixedPort ?? (await freePort());
  let broker: Aedes | null = null;
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  const closeBroker = async () => {
    const br = broker;
    broker = null;
    if (br) await new Promise<void>((r) => br.close(() => r()));
  };
  const b: TestBroker = {
    kind: 'aedes',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    protocol: 4,
    // A restart that keeps sessions keeps the broker's state (like Mosquitto
    // with persistence) and drops every connection and the listener; one
    // without starts an empty broker (no retained messages, no sessions).
    async start(keepSessions = false) {
      if (!keepSessions) await closeBroker();
      broker ??= await Aedes.createBroker({ persistence: memoryPersistence() });
      const br = broker;
      server = net.createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        br.handle(s);
      });
      await new Promise<void>((resolve, reject) => {
        server?.once('error', reject);
        server?.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async stop() {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async close() {
      await b.stop();
      await closeBroker();
    },
    instance: () => broker,
    tap(topic, fn) {
      broker?.subscribe(
        topic,
        (packet, cb) => {
          fn(Buffer.from(packet.payload));
          cb();
        },
        () => undefined,
      );
    },
  };
  await b.start(true);
  return b;
}

export async function createMosquitto(fixedPort?: number): Promise<TestBroker> {
  const bin = mosquittoBin();
  if (!bin) throw new Error('mosquitto not available: set MOSQUITTO_BIN');
  const port = fixedPort ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-mosquitto-'));
  // Started as root, mosquitto drops to its own user: it must be able to save its persistence file here.
  fs.chmodSync(dir, 0o777);
  let proc: ChildProcess | null = null;
  const b: TestBroker = {
    kind: 'mosquitto',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    protocol: 5,
    async start(keepSessions = false) {
      if (!keepSessions) fs.rmSync(path.join(dir, 'mosquitto.db'), { force: true });
      const conf = path.join(dir, 'mosquitto.conf');
      fs.writeFileSync(
        conf,
        [
          `listener ${port} 127.0.0.1`,
          'allow_anonymous true',
          'persistence true',
          `persistence_location ${dir}/`,
          'max_queued_messages 0',
          'max_inflight_messages 0',
          'log_dest none',
          '',
        ].join('\n'),
      );
      proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
      const p = proc;
      // Ready once the port accepts connections: bounded by time (10 s), not by a count of polls.
      for (const end = Date.now() + 10_000; Date.now() < end; ) {
        if (p.exitCode !== null) throw new Error(`mosquitto exited with ${p.exitCode}`);
        if (await canConnect(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('mosquitto did not accept connections within 10 s');
    },
    async stop() {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      // SIGTERM: mosquitto saves its persistence file on a clean exit.
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGTERM');
      });
    },
    async close() {
      await b.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await b.start(false);
  return b;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  properties?: mqtt.IPublishPacket['properties'];
  /** The payload parsed as JSON once on arrival (undefined when it is not JSON or empty). */
  data: unknown;
}

/** A subscriber that records every message (and waits for conditions on them). */
export class Subscriber {
  readonly messages: Received[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      let data: unknown;
      try {
        data = payload.length ? JSON.parse(payload.toString()) : undefined;
      } catch {
        data = undefined;
      }
      this.messages.push({ topic, payload, retain: packet.retain, properties: packet.properties, data });
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred()) return true;
        w.resolve();
        return false;
      });
    });
  }

  static async connect(
    broker: TestBroker,
    topics: string[],
    opts: { clientId?: string; clean?: boolean; protocolVersion?: 4 | 5 } = {},
  ): Promise<Subscriber> {
    const client = mqtt.connect(broker.url, {
      clientId: opts.clientId ?? `sub-${Math.random().toString(16).slice(2)}`,
      clean: opts.clean ?? true,
      protocolVersion: opts.protocolVersion ?? broker.protocol,
      reconnectPeriod: 100,
      ...(opts.clean === false && broker.protocol === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    });
    // Listening before CONNACK: a resumed session's queued messages may arrive in the same read.
    const sub = new Subscriber(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('error', () => undefined);
    await client.subscribeAsync(topics, { qos: 1 });
    return sub;
  }

  json<T = Record<string, unknown>>(topic: string): T[] {
    return this.messages.filter((m) => m.topic === topic && m.data !== undefined).map((m) => m.data as T);
  }

  last<T = Record<string, unknown>>(topic: string): T | undefined {
    const all = this.json<T>(topic);
    return all[all.length - 1];
  }

  waitFor(pred: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export function mqttToml(broker: TestBroker, extra = ''): string {
  return `[mqtt]\nurl = "${broker.url}"\nprotocol_version = ${broker.protocol}\nreconnect_min_ms = 100\nreconnect_max_ms = 400\n${extra}\n`;
}
