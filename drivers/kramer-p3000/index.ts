import { defineDriver } from '../../src/host/contract.js';
import { KramerP3000Config, KramerP3000Device } from './driver.js';
import { P3kSimulator } from './simulator.js';

export const kramerP3000Driver = defineDriver({
  name: 'kramer-p3000',
  kind: 'matrix',
  description: 'Kramer matrix switcher over Protocol 3000 (TCP 5000 or RS-232 115200).',
  config: KramerP3000Config,
  create: (config, ctx) => new KramerP3000Device(config, ctx),
  async simulate(config, ctx) {
    // Simulated on loopback TCP whatever the configured transport, with the configured model numbering.
    const sim = new P3kSimulator({
      host: ctx.host,
      port: ctx.port,
      inputs: config.inputs ?? 8,
      outputs: config.outputs ?? 8,
      layers: config.route_layers,
      disconnect: config.disconnect_input,
      machineId: config.machine_id,
      audio: config.audio,
      logger: ctx.logger,
    });
    const port = await sim.start();
    return { endpoint: { transport: 'tcp', host: sim.address.host, port }, stop: () => sim.stop() };
  },
});

export { KramerP3000Device } from './driver.js';
export { P3kSimulator } from './simulator.js';
