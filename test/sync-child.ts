// Child process for the SIGKILL tests: a real agent with sync on that commits
// a burst of room events (50 transactions of 100) right after start, then
// idles; the test kills it while that backlog is being published.
// Usage: node --import tsx test/sync-child.ts <api.toml>
import pino from 'pino';
import { Agent } from '../src/app.js';
import { createAlerts, createSync, type SyncFeature } from '../src/sync/index.js';

const BURST = 5000;

const agent = new Agent({ configFile: process.argv[2], logger: pino({ level: 'silent' }), features: [createAlerts, createSync] });
await agent.start();
let n = 0;
const write = agent.store.db.transaction(() => {
  for (let k = 0; k < 100; k++) agent.events.emit({ type: 'test.kill', at: new Date().toISOString(), data: { i: n++ } });
});
while (n < BURST) write();
// Tells the test when the broker has acknowledged part of the burst, so the
// kill lands mid-publish (the test config keeps the in-flight window small).
const sync = agent.ctx.feature<SyncFeature>('sync')!;
const poll = setInterval(() => {
  if (sync.stats().acknowledged >= 1000) {
    clearInterval(poll);
    process.stdout.write('acked 1000\n');
  }
}, 1);
setInterval(() => undefined, 60_000);
