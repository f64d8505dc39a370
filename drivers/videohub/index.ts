import { defineDriver } from '../../src/host/contract.js';
import { VideohubConfig, VideohubDevice } from './driver.js';
import { VideohubSimulator } from './simulator.js';

export const videohubDriver = defineDriver({
  name: 'videohub',
  kind: 'matrix',
  description: 'Blackmagic Videohub router over its Ethernet protocol (TCP 9990).',
  config: VideohubConfig,
  create: (config, ctx) => new VideohubDevice(config, ctx),
  async simulate(_config, ctx) {
    const sim = new VideohubSimulator({
      host: ctx.host,
      port: ctx.port,
      inputs: 8,
      outputs: 8,
      model: 'Smart Videohub 8x8 (simulated)',
      inputLabels: [
        'Camera front',
        'Camera rear',
        'Lectern PC',
        'Wireless share',
        'Document camera',
        'Codec out',
        'Signage',
        'Spare',
      ],
      outputLabels: [
        'Projector',
        'Confidence monitor',
        'Codec content',
        'Codec camera',
        'Recorder',
        'Stream',
        'Overflow room',
        'Spare',
      ],
      logger: ctx.logger,
    });
    const port = await sim.start();
    return { endpoint: { host: sim.address.host, port }, stop: () => sim.stop() };
  },
});

export { VideohubDevice } from './driver.js';
export { VideohubSimulator } from './simulator.js';
