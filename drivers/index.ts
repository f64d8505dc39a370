// Built-in drivers. Adding a device type = one folder under drivers/ and one line here.
import type { DriverDefinition } from '../src/host/contract.js';
import { viscaDriver } from './visca/index.js';
import { icsDriver } from './ics/index.js';
import { tcsDriver } from './tcs/index.js';
import { conferenceMicDriver } from './conference-mic/index.js';
import { shureMicDriver } from './shure-mic/index.js';

export const builtinDrivers: DriverDefinition[] = [
  // one line per driver, e.g. viscaDriver,
  viscaDriver,
  tcsDriver,
  icsDriver,
  shureMicDriver,
  conferenceMicDriver,
];
