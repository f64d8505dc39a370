// The WS door against the real CLI process (issue 16, finding 1): one frame
// from a viewer used to build a reply over 512 MiB and end the process.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/util/errors.js';
import { type ChildAgent, startChildAgent } from './support/child-agent.js';
import { openRaw } from './support/ws-raw.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const VIEWER = 'demo-viewer-token-change-me';
let child: ChildAgent;

beforeAll(async () => {
  // The shipped demo room, on a free port with its own data folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-door-'));
  const toml = fs
    .readFileSync(path.join(ROOT, 'api.toml'), 'utf8')
    .replace(/^listen = .*$/m, 'listen = "127.0.0.1:0"')
    .replace(/^data_dir = .*$/m, `data_dir = "${path.join(dir, 'data')}"`);
  fs.writeFileSync(path.join(dir, 'api.toml'), toml);
  // Generous: under a loaded machine (a full parallel run) tsx alone can take a minute to start the CLI.
  child = await startChildAgent(path.join(dir, 'api.toml'), {}, 150_000);
}, 180_000);
afterAll(async () => {
  await child?.kill('SIGTERM');
});

describe('the agent process survives what one viewer can send', () => {
  it('a 1 MiB batch of ~21,000 devices.list calls gets one INVALID_REQUEST; the process and other clients go on', async () => {
    const call = '{"jsonrpc":"2.0","method":"devices.list","id":1}';
    const count = Math.floor((1024 * 1024 - 2) / (call.length + 1));
    expect(count).toBeGreaterThan(21_000);
    const attacker = await openRaw(child.url, VIEWER);
    const other = await openRaw(child.url, VIEWER);
    const reply = JSON.parse(await attacker.ask(`[${Array(count).fill(call).join(',')}]`));
    expect(reply.error.code).toBe(ERROR_CODES.INVALID_REQUEST);
    expect(reply.error.message).toContain(`batch of ${count} requests; at most 100 per batch ([api] max_batch)`);
    const info = JSON.parse(await other.ask('{"jsonrpc":"2.0","id":2,"method":"system.info"}'));
    expect(info.result.room_id).toBe('demo-room');
    expect(child.proc.exitCode).toBeNull();
    attacker.ws.close();
    other.ws.close();
  });
});

describe('last-resort handler', () => {
  it('an unhandled rejection is logged (rate limited) and the process keeps running', async () => {
    const script = `
      import pino from 'pino';
      import { installLastResortHandler } from ${JSON.stringify(path.join(ROOT, 'src/util/last-resort.ts'))};
      installLastResortHandler(pino(pino.destination({ fd: 1, sync: true })));
      for (let i = 0; i < 100; i++) Promise.reject(new Error('boom ' + i));
      setTimeout(() => console.log('still serving'), 50);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
    });
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('still serving');
    const logged = lines.slice(0, -1).map((l) => JSON.parse(l));
    expect(logged).toHaveLength(5);
    expect(logged[0]).toMatchObject({ level: 50, err: 'boom 0' });
  }, 120_000); // a bound: the script starts through tsx, which alone can take a minute on a loaded machine
});
