// A minimal line-protocol device used by host and API tests: a real TCP
// simulator and a driver built only on the shared transports, the way every
// real driver is. Protocol: "SET key value\n" → "OK key value\n"; "SLOW ms\n"
// → "OK slow ms\n" after ms; "FAIL\n" → "ERR refused\n".
import net from 'node:net';
import { Type } from '@sinclair/typebox';
import { defineAction, defineDriver, type DeviceInstance } from '../../src/host/contract.js';
import { CommandQueue, LineFramer, TcpLink } from '../../src/transport/index.js';
import { DeviceError } from '../../src/util/errors.js';

export class LineSimulator {
  readonly received: string[] = [];
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  silent = false;
  port = 0;

  async start(port = 0): Promise<number> {
    this.server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      const framer = new LineFramer();
      s.on('data', (chunk) => {
        for (const line of framer.push(chunk)) {
          if (!line) continue;
          this.received.push(line);
          if (this.silent) continue;
          const [cmd, a, b] = line.split(' ');
          if (cmd === 'SET') s.write(`OK ${a} ${b}\n`);
          else if (cmd === 'SLOW') setTimeout(() => s.write(`OK slow ${a}\n`), Number(a));
          else if (cmd === 'FAIL') s.write('ERR refused\n');
          else s.write('ERR unknown\n');
        }
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }
  /** Pushes an unsolicited line to every client, as a device reporting a change. */
  push(line: string): void {
    for (const s of this.sockets) s.write(`${line}\n`);
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

export const lineDriver = defineDriver({
  name: 'line-test',
  kind: 'other',
  description: 'Test device speaking a line protocol over TCP.',
  config: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
      timeout_ms: Type.Integer({ minimum: 10, default: 1000 }),
    },
    { additionalProperties: false },
  ),
  create(config, ctx): DeviceInstance {
    const link = new TcpLink({
      host: config.host,
      port: config.port,
      logger: ctx.logger,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    const queue = new CommandQueue<string>({ timeoutMs: config.timeout_ms });
    const framer = new LineFramer();
    link.on('up', (info) => ctx.setStatus('online', `connected to ${info}`));
    link.on('down', (reason) => {
      framer.reset();
      queue.failAll(new DeviceError(`connection lost: ${reason}`, 'DEVICE_OFFLINE'));
      ctx.setStatus('offline', reason);
    });
    link.on('data', (chunk) => {
      for (const line of framer.push(chunk)) {
        if (!line) continue;
        const [word, key, value] = line.split(' ');
        if (word === 'OK' && key && key !== 'slow') ctx.setState({ [key]: value });
        if (word === 'PUSH' && key) ctx.setState({ [key]: value });
        if (word === 'OK') queue.resolveCurrent(line);
        else if (word === 'ERR') queue.rejectCurrent(new DeviceError(`device refused: ${key}`));
      }
    });
    const send = (line: string) => queue.request(line, () => link.write(`${line}\n`));
    return {
      async start() {
        link.start();
      },
      async stop() {
        queue.failAll(new DeviceError('stopping'));
        await link.stop();
      },
      actions: {
        set: defineAction({
          description: 'Set a value on the device.',
          params: Type.Object(
            { key: Type.String({ pattern: '^\\w+$' }), value: Type.Integer({ minimum: 0, maximum: 100 }) },
            { additionalProperties: false },
          ),
          run: (p) => send(`SET ${p.key} ${p.value}`),
        }),
        slow: defineAction({
          description: 'Answer after ms.',
          params: Type.Object({ ms: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
          run: (p) => send(`SLOW ${p.ms}`),
        }),
        fail: defineAction({ description: 'Always refused.', params: Type.Object({}), run: () => send('FAIL') }),
      },
    };
  },
  async simulate(_config, ctx) {
    const sim = new LineSimulator();
    const port = await sim.start(ctx.port ?? 0);
    return { endpoint: { host: '127.0.0.1', port }, stop: () => sim.stop() };
  },
});
