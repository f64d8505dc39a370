// Every test file, agent, simulator and browser the suite starts makes its
// temporary directories under os.tmpdir(). This global setup points TMPDIR at
// one fresh directory per `vitest run` (the workers and their child processes
// inherit it) and removes it when the run ends, so a CI machine or a
// developer's /tmp does not collect thousands of data dirs, sockets and
// SQLite files over the day. ROOM_AGENT_KEEP_TEST_TMP=1 keeps it (its path is
// printed) to look at what a failing test left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const parent = process.env.TMPDIR && fs.existsSync(process.env.TMPDIR) ? process.env.TMPDIR : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, 'room-agent-vitest-'));
  // Open like /tmp itself (sticky, world-writable): processes the tests start that drop to another
  // user must reach their own directories inside. Mosquitto started as root runs as `mosquitto`
  // and saves its persistence file in one (test/sync-support.ts); behind a 0700 parent it could
  // not, and a broker restart lost the persistent session's queued messages.
  fs.chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.ROOM_AGENT_KEEP_TEST_TMP === '1') {
      console.log(`test temporary files kept in ${dir}`);
      return;
    }
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
