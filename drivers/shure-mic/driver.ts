import { Type } from '@sinclair/typebox';
import { defineAction, defineDriver } from '../../src/host/contract.js';
import { TcpLink } from '../../src/transport/index.js';
import { MicChannels } from '../../src/util/mic-channels.js';
import { GATE_PARAMS, type GateSource, ShureFramer, gateOf, getCommand, parseMessage } from './protocol.js';
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
  },
  { additionalProperties: false },
);

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
    const query = () => link.write(getCommand(param, 0));

    link.on('up', (info) => {
      framer.reset();
      // The device pushes REP on every change; one GET at connect gives the current gates.
      query();
      ctx.setStatus('online', `connected to ${info}`);
    });
    link.on('down', (reason) => {
      framer.reset();
      channels.allOff('link_lost');
      ctx.setStatus('offline', reason);
    });
    link.on('data', (chunk) => {
      for (const body of framer.push(chunk)) {
        const msg = parseMessage(body);
        if (msg.kind === 'error') {
          ctx.reportError(`device answered ${body} (is the automixer in gating mode?)`);
          continue;
        }
        const gate = gateOf(msg, source);
        if (gate) channels.set(gate.channel, gate.on);
      }
    });

    return {
      async start() {
        link.start();
      },
      async stop() {
        await link.stop();
      },
      actions: {
        refresh: defineAction({
          description: `Ask the device for every gate (${param}) again.`,
          params: Type.Object({}, { additionalProperties: false }),
          async run() {
            query();
            return { sent: getCommand(param, 0) };
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
