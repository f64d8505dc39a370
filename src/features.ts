// Feature modules, started in this order after the devices and stopped in
// reverse. Each entry is one line; a module keeps everything else to itself.
import type { FeatureFactory } from './app-context.js';
import { createAlerts, createSync } from './sync/index.js';

export const features: FeatureFactory[] = [
  // one line per feature module, e.g. createTracking,
  createAlerts,
  createSync, // keep last: sync publishes what the others produce
];
