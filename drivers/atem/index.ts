import { defineDriver } from '../../src/host/contract.js';
import { AtemConfigSchema, createAtem } from './driver.js';

// No `simulate`: there is no ATEM simulator in JavaScript, so `simulated = true`
// is rejected by the config check. Tests use a fake of the library class.
export const atemDriver = defineDriver({
  name: 'atem',
  kind: 'mixer',
  description:
    'Blackmagic ATEM switcher via atem-connection (UDP 9910): program, preview, cut, auto, aux, macros; tally and input names.',
  config: AtemConfigSchema,
  create: createAtem,
});
