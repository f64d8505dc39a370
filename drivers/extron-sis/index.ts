import { defineDriver } from '../../src/host/contract.js';
import { ExtronSisConfig, ExtronSisDevice } from './driver.js';
import { SisSimulator } from './simulator.js';

export const extronSisDriver = defineDriver({
  name: 'extron-sis',
  kind: 'matrix',
  description: 'Extron matrix switcher (DXP, CrossPoint, MTPX, Matrix 12800…) over SIS on Telnet or RS-232.',
  config: ExtronSisConfig,
  create: (config, ctx) => new ExtronSisDevice(config, ctx),
  async simulate(config, ctx) {
    // The simulator speaks Telnet; a serial device in the config is simulated on loopback TCP.
    const sim = new SisSimulator({
      host: ctx.host,
      port: ctx.port,
      inputs: config.inputs ?? 8,
      outputs: config.outputs ?? 8,
      model: 'DXP 88 HDMI (simulated)',
      password: config.password,
      logger: ctx.logger,
    });
    const port = await sim.start();
    return { endpoint: { transport: 'tcp', host: sim.address.host, port }, stop: () => sim.stop() };
  },
});

export { ExtronSisDevice } from './driver.js';
export { SisSimulator } from './simulator.js';
