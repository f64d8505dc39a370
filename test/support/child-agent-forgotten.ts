// A test process that starts a child agent and never stops it (for
// test/child-agent-cleanup.test.ts): prints the agent's pid, then either
// exits normally (`exit`) or waits to be SIGKILLed (`wait`).
import { startChildAgent } from './child-agent.js';

const [mode, config] = process.argv.slice(2);
const agent = await startChildAgent(config!);
process.stdout.write(`agent-pid ${agent.proc.pid}\n`);
if (mode === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
