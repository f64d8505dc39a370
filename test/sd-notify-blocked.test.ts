// The systemd watchdog must fire when the agent's event loop is blocked: its
// WATCHDOG=1 pings come from a timer on the main thread, so a blocked loop
// sends none. A receiver in another process counts the pings that arrive
// while this process's loop is held busy, and before and after.
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemdNotifier } from '../src/util/sd-notify.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdn-blocked-'));
const sock = path.join(dir, 'notify.sock');
let receiver: ChildProcess | null = null;
afterAll(() => {
  receiver?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

// The receiver: binds the notify socket, counts WATCHDOG=1 per phase named by the parent.
const RECEIVER = `
const { createRequire } = require('node:module');
const unix = createRequire(process.argv[3] + '/package.json')('unix-dgram');
const counts = {};
let phase = 'before';
const s = unix.createSocket('unix_dgram');
s.on('message', (m) => { if (m.toString() === 'WATCHDOG=1') counts[phase] = (counts[phase] ?? 0) + 1; });
s.bind(process.argv[2]);
process.on('message', (m) => {
  if (m === 'report') process.send(counts);
  else { phase = m; process.send('ok'); }
});
process.send('ready');
`;

function ask(p: ChildProcess, msg: string): Promise<unknown> {
  return new Promise((resolve) => {
    p.once('message', resolve);
    p.send(msg);
  });
}

describe('sd_notify watchdog with a blocked event loop', () => {
  it('sends no WATCHDOG=1 while the loop is blocked, and resumes after', async () => {
    const script = path.join(dir, 'receiver.cjs');
    fs.writeFileSync(script, RECEIVER);
    receiver = fork(script, [sock, path.resolve(import.meta.dirname, '..')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise((r) => receiver?.once('message', r));
    // WATCHDOG_USEC 100 ms: a ping every 50 ms.
    const n = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: sock, WATCHDOG_USEC: '100000' }, pino({ level: 'silent' }));
    expect(n).not.toBeNull();
    n?.ready();
    try {
      const waitPings = async (phase: string, atLeast: number) => {
        for (;;) {
          const c = (await ask(receiver as ChildProcess, 'report')) as Record<string, number>;
          if ((c[phase] ?? 0) >= atLeast) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await waitPings('before', 2);
      await ask(receiver, 'blocked');
      // Ten ping intervals of a busy loop: a timer on any other thread would have sent ~10.
      const until = Date.now() + 500;
      while (Date.now() < until) {
        // busy: the event loop cannot run the ping timer
      }
      await ask(receiver, 'after');
      await waitPings('after', 2);
      const counts = (await ask(receiver, 'report')) as Record<string, number>;
      expect(counts.blocked ?? 0).toBe(0);
    } finally {
      n?.stopping();
    }
  }, 20_000);
});
