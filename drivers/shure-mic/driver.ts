import { Type } from '@sinclair/typebox';
import { defineAction, defineDriver } from '../../src/host/contract.js';
import { ConfigFault, TcpLink } from '../../src/transport/index.js';
import type { Clock, TimerHandle } from '../../src/util/clock.js';
import { DeviceError } from '../../src/util/errors.js';
import { MicChannels } from '../../src/util/mic-channels.js';
import { GATE_PARAMS, type GateSource, ShureFramer, type ShureMessage, gateOf, getCommand, parseMessage } from './protocol.js';
import { startShureSimulator } from './simulator.js';

export const ShureMicConfig = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'IP or host name of the Shure device.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 2202, description: 'Command-string port (2202).' }),
    gates: Type.Union([Type.Literal('lobes'), Type.Literal('coverage_areas')], {
      default: 'lobes',
      description:
        'lobes: AUTOMIX_GATE_OUT_EXT_SIG per lobe/channel (MXA910, MXA710, P300, MXA920 with coverage off); ' +
        'coverage_areas: AUTOMIX_GATE_OUT_CA (MXA920 with Automatic Coverage on).',
    }),
    keepalive_ms: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 30_000,
      description: 'Liveness probe period: the gate GET; no answer within request_timeout_ms → reconnect.',
    }),
    request_timeout_ms: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2000,
      description: 'Time allowed for an answer.',
    }),
  },
  { additionalProperties: false },
);

/**
 * The first REP (or `< REP ERR >`) after a GET, within the request timeout. REP is also sent
 * unsolicited on every change (Shure MXA910 command strings, pubs.shure.com/command-strings/MXA910), so any REP proves the device is alive.
 */
class Answers {
  private waiting: { resolve: (m: ShureMessage) => void; reject: (e: Error) => void; timer: TimerHandle }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}
  next(what: string): Promise<ShureMessage> {
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w.timer !== timer);
        reject(new DeviceError(`no answer to ${what} within ${this.timeoutMs} ms`, 'DEVICE_TIMEOUT'));
      }, this.timeoutMs);
      this.waiting.push({ resolve, reject, timer });
    });
  }
  answered(m: ShureMessage): void {
    for (const w of this.waiting.splice(0)) {
      this.clock.clearTimeout(w.timer);
      w.resolve(m);
    }
  }
  failAll(err: Error): void {
    for (const w of this.waiting.splice(0)) {
      this.clock.clearTimeout(w.timer);
      w.reject(err);
    }
  }
}

export const shureMicDriver = defineDriver({
  name: 'shure-mic',
  kind: 'microphone',
  description: 'Shure MXA910 / MXA920 / MXA710 / P300 automixer gates over TCP 2202 (command strings).',
  config: ShureMicConfig,
  create(config, ctx) {
    const source: GateSource = config.gates ?? 'lobes';
    const param = GATE_PARAMS[source];
    const link = new TcpLink({ host: config.host, port: config.port ?? 2202, logger: ctx.logger, clock: ctx.clock });
    const framer = new ShureFramer();
    const channels = new MicChannels(ctx);
    const answers = new Answers(ctx.clock, config.request_timeout_ms ?? 2000);
    const gateQuery = getCommand(param, 0);
    /** Asks for every gate; resolves with the first answer. */
    const query = () => {
      const answer = answers.next(gateQuery);
      link.write(gateQuery);
      return answer;
    };

    link.on('data', (chunk) => {
      for (const body of framer.push(chunk)) {
        const msg = parseMessage(body);
        if (msg.kind !== 'sample') answers.answered(msg);
        if (msg.kind === 'error') {
          ctx.reportError(`device answered ${body} (is the automixer in gating mode?)`);
          continue;
        }
        const gate = gateOf(msg, source);
        if (gate) channels.set(gate.channel, gate.on);
      }
    });

    const conn = ctx.connect(link, {
      // The device pushes REP on every change; one GET at connect gives the current gates and shows
      // it speaks command strings. `< REP ERR >` to it: this model/mode has no such gate parameter.
      handshake: async () => {
        const first = await query();
        if (first.kind === 'error')
          throw new ConfigFault(
            `the device answered "< ${first.text} >" to "${gateQuery}"; check gates = "${source}" for this model and that the automixer is in gating mode`,
          );
        return `connected to ${link.describe()}`;
      },
      // App-level keep-alive (issue 17 §4): a hung device that keeps the socket open is caught here.
      probe: query,
      probeIntervalMs: config.keepalive_ms ?? 30_000,
      probeTimeoutMs: config.request_timeout_ms ?? 2000,
      onDown: () => {
        framer.reset();
        answers.failAll(new DeviceError('connection lost', 'DEVICE_OFFLINE'));
        channels.allOff('link_lost');
      },
    });

    return {
      async start() {
        conn.start();
      },
      async stop() {
        await conn.stop();
      },
      actions: {
        refresh: defineAction({
          description: `Ask the device for every gate (${param}) again.`,
          params: Type.Object({}, { additionalProperties: false }),
          async run() {
            const first = await query();
            return { sent: gateQuery, answer: first.kind };
          },
        }),
      },
    };
  },
  async simulate(_config, ctx) {
    const sim = await startShureSimulator({ host: ctx.host, port: ctx.port });
    return { endpoint: { host: sim.host, port: sim.port }, stop: () => sim.stop() };
  },
});
