// SIGKILL mid-publish against a real Mosquitto (when MOSQUITTO_BIN is set, or CI=true with it installed).
import { it } from 'vitest';
import { describeKill } from './sync-kill-scenario.js';
import { createMosquitto, mosquittoBin } from './sync-support.js';

if (mosquittoBin()) describeKill({ kind: 'mosquitto', create: createMosquitto });
else it.skip('needs Mosquitto: set MOSQUITTO_BIN (or CI=true with the mosquitto package)', () => undefined);
