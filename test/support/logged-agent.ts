// A real agent whose log (the shipped logger: JSON lines, redaction) is kept
// in memory, for tests that check what is and is not logged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../src/app.js';
import { createLogger } from '../../src/util/logger.js';
import { TOKENS_TOML } from './agent.js';

export interface LoggedAgent {
  agent: Agent;
  url: string;
  dir: string;
  /** Every log line written so far. */
  log(): string;
  stop(): Promise<void>;
}

export async function startLoggedAgent(
  body: string,
  opts: { level?: string; env?: NodeJS.ProcessEnv; tokensToml?: string /** extra [agent] keys */; agentToml?: string } = {},
): Promise<LoggedAgent> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'room-agent-logged-'));
  const file = path.join(dir, 'api.toml');
  fs.writeFileSync(
    file,
    `[agent]\nroom_id = "test-room"\nlisten = "127.0.0.1:0"\ndata_dir = "data"\nlog_level = "${opts.level ?? 'debug'}"\n${opts.agentToml ?? ''}\n${opts.tokensToml ?? TOKENS_TOML}\n${body}\n`,
  );
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const agent = new Agent({ configFile: file, logger: createLogger(opts.level ?? 'debug', sink), env: opts.env });
  const url = await agent.start();
  return {
    agent,
    url,
    dir,
    log: () => chunks.join(''),
    async stop() {
      await agent.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
