// Feature modules, started in this order after the devices and stopped in
// reverse. Each entry is one line; a module keeps everything else to itself.
import type { FeatureFactory } from './app-context.js';
import { createCalendar } from './calendar/index.js';
import { createDirector } from './director/index.js';
import { createTracking } from './tracking/index.js';
import { createIdentity } from './identity/index.js';
import { createAlerts, createSync } from './sync/index.js';
import { createVideo } from './video/index.js';
import { createScenarios } from './scenarios/index.js';
import { createConsole } from './console/index.js';
import { createTwilio } from './twilio/index.js';

export const features: FeatureFactory[] = [
  // one line per feature module, e.g. createTracking,
  createCalendar,
  createDirector,
  createAlerts,
  createVideo,
  createTracking,
  createIdentity,
  createTwilio,
  createScenarios,
  createConsole,
  createSync, // keep last: sync publishes what the others produce
];
