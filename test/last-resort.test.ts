// The last-resort policy (docs/security.md "When something escapes"): an
// uncaught error a client or device caused is logged (rate limited, no stack)
// and the agent keeps serving; an uncaught fault of the agent's own is logged
// at fatal with its stack and ends the process with 70 for systemd to restart.
// Run in real processes: Node's own uncaught-exception path decides.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../src/util/errors.js';
import { installLastResortHandler, isPeerFault, OWN_FAULT_EXIT } from '../src/util/last-resort.js';

const CHILD = path.resolve(import.meta.dirname, 'support/last-resort-child.ts');

function run(kind: string): Promise<{ code: number | null; lines: { level: number; msg: string; stack?: string }[] }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CHILD, kind], { timeout: 60_000 }, (err, stdout) => {
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, lines });
    });
  });
}

describe('uncaught errors', () => {
  for (const kind of ['reset', 'bad-frame', 'bad-http', 'agent-error']) {
    it(`caused by a peer (${kind}): logged without a stack, the process keeps serving`, async () => {
      const r = await run(kind);
      expect(r.code).toBe(0);
      expect(r.lines.map((l) => l.msg)).toContain('still serving');
      const logged = r.lines.find((l) => l.msg.startsWith('uncaught error caused by a client or device'));
      expect(logged?.level).toBe(50);
      expect(logged?.stack).toBeUndefined();
    }, 90_000);
  }

  it('of the agent itself: logged at fatal with the stack, exit 70', async () => {
    const r = await run('own-type-error');
    expect(r.code).toBe(OWN_FAULT_EXIT);
    expect(r.lines.map((l) => l.msg)).not.toContain('still serving');
    const fatal = r.lines.find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/uncaught exception in the agent itself/);
    expect(fatal?.stack).toMatch(/TypeError: Cannot read properties of undefined/);
  }, 90_000);

  it('a flood of peer-caused errors writes at most 5 lines a minute and never exits', () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process;
    const lines: string[] = [];
    const exits: number[] = [];
    installLastResortHandler(pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }), {
      proc,
      exit: (c) => exits.push(c),
    });
    for (let i = 0; i < 1000; i++) proc.emit('uncaughtException', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(lines).toHaveLength(5);
    expect(exits).toEqual([]);
    proc.emit('uncaughtException', new RangeError('Invalid array length'));
    proc.emit('uncaughtException', new RangeError('Invalid array length'));
    expect(exits).toEqual([OWN_FAULT_EXIT]);
  });

  it('tells peer faults from own faults', () => {
    expect(isPeerFault(new AgentError('DEVICE_TIMEOUT', 'no answer'))).toBe(true);
    expect(isPeerFault(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isPeerFault(Object.assign(new Error('x'), { code: 'HPE_HEADER_OVERFLOW' }))).toBe(true);
    expect(isPeerFault(Object.assign(new Error('x'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }))).toBe(true);
    expect(isPeerFault(new TypeError('x is not a function'))).toBe(false);
    expect(isPeerFault(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe(false);
    expect(isPeerFault(Object.assign(new Error('x'), { code: 'ENOMEM' }))).toBe(false);
    expect(isPeerFault('a string')).toBe(false);
    expect(isPeerFault(null)).toBe(false);
  });
});
