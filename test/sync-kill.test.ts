// SIGKILL mid-publish against the in-process aedes broker (see sync-kill-scenario.ts).
import { describeKill } from './sync-kill-scenario.js';
import { createAedes } from './sync-support.js';

describeKill({ kind: 'aedes', create: createAedes });
