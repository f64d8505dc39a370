// Built-in drivers. Adding a device type = one folder under drivers/ and one line here.
import type { DriverDefinition } from '../src/host/contract.js';

export const builtinDrivers: DriverDefinition[] = [
  // one line per driver, e.g. viscaDriver,
];
