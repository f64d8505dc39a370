export { shureMicDriver, ShureMicConfig } from './driver.js';
export { ShureSimulator, startShureSimulator } from './simulator.js';
export * from './protocol.js';
