import { defineDriver } from '../../src/host/contract.js';
import { createVmix, VmixConfigSchema } from './driver.js';
import { VmixSimulator } from './simulator.js';

export const vmixDriver = defineDriver({
  name: 'vmix',
  kind: 'mixer',
  description:
    'vMix video mixer over its TCP API (port 8099): program, preview, cut, auto, extra outputs; tally and input names.',
  config: VmixConfigSchema,
  create: createVmix,
  async simulate(_config, sctx) {
    const sim = new VmixSimulator({ host: sctx.host, logger: sctx.logger });
    const port = await sim.start(sctx.port ?? 0);
    return { endpoint: { host: sctx.host && sctx.host !== '0.0.0.0' ? sctx.host : '127.0.0.1', port }, stop: () => sim.stop() };
  },
});
