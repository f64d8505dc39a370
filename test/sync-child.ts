// Child process for the SIGKILL tests: a real agent with sync on that writes
// room events as fast as it can, one committed transaction each, until killed.
// Usage: node --import tsx test/sync-child.ts <api.toml>
import pino from 'pino';
import { Agent } from '../src/app.js';
import { createAlerts, createSync } from '../src/sync/index.js';

const agent = new Agent({ configFile: process.argv[2], logger: pino({ level: 'silent' }), features: [createAlerts, createSync] });
await agent.start();
process.stdout.write('ready\n');
let n = 0;
const write = agent.store.db.transaction((i: number) => {
  agent.events.emit({ type: 'test.kill', at: new Date().toISOString(), data: { i } });
});
const tick = () => {
  for (let k = 0; k < 20; k++) write(n++);
  setImmediate(tick);
};
tick();
