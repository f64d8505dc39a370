// The definition the host registers: name, config schema, factory, simulator.
import { defineDriver } from '../../src/host/contract.js';
import { ViscaConfigSchema } from './config.js';
import { ViscaCamera } from './driver.js';
import { PROFILES } from './profiles.js';
import { startSimulatorFor } from './serial-sim.js';

export const viscaDriver = defineDriver({
  name: 'visca',
  kind: 'camera',
  description: 'PTZ camera over VISCA: Sony VISCA over IP (UDP 52381), raw VISCA over TCP/UDP (PTZOptics style), or RS-232',
  config: ViscaConfigSchema,
  create: (config, ctx) => new ViscaCamera(config, ctx),
  simulate: (config, ctx) => startSimulatorFor(config, ctx),
});

export { ViscaCamera } from './driver.js';
export { ViscaSimulator, type ReceivedCommand, type ViscaSimulatorOptions } from './simulator.js';
export { PROFILES };
export { runningViscaSimulators } from './serial-sim.js';
