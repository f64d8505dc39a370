// Built-in drivers. Adding a device type = one folder under drivers/ and one line here.
import type { DriverDefinition } from '../src/host/contract.js';
import { recorderDriver } from './recorder/index.js';
import { viscaDriver } from './visca/index.js';
import { icsDriver } from './ics/index.js';
import { tcsDriver } from './tcs/index.js';
import { conferenceMicDriver } from './conference-mic/index.js';
import { shureMicDriver } from './shure-mic/index.js';
import { extronSisDriver } from './extron-sis/index.js';
import { kramerP3000Driver } from './kramer-p3000/index.js';
import { videohubDriver } from './videohub/index.js';
import { vmixDriver } from './vmix/index.js';
import { atemDriver } from './atem/index.js';
import { qsysDriver } from './qsys/index.js';
import { tesiraDriver } from './tesira/index.js';

export const builtinDrivers: DriverDefinition[] = [
  // one line per driver, e.g. viscaDriver,
  recorderDriver,
  viscaDriver,
  tcsDriver,
  icsDriver,
  shureMicDriver,
  conferenceMicDriver,
  extronSisDriver,
  kramerP3000Driver,
  videohubDriver,
  vmixDriver,
  atemDriver,
  qsysDriver,
  tesiraDriver,
];
