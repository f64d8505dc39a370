// The measured side of ics-refresh.ts, in a process of its own started with the agent's Node flags
// plus --expose-gc --trace-gc --trace-gc-nvp: runs one kind of refresh ROUNDS times and prints
// "ICS-MARK begin" / "ICS-MARK end <cpu µs>" around them, each bracketed by a minor GC so that the
// `allocated=` of the GC lines printed between the marks sum to the bytes the refreshes allocated.
//   args: <kind> <rounds> <warm-ups>   kind: feed | feed-bare | sample | sample-bare | unchanged
// With 0 warm-ups the one measured refresh is the process's first, as an agent's first after ready.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ICAL from 'ical.js';
import { createIcs } from '../../drivers/ics/driver.js';
import { SAMPLE_ICS } from '../../drivers/ics/index.js';
import { parseIcs } from '../../drivers/ics/protocol.js';
import { realisticRoomFeed } from '../../drivers/ics/realistic-feed.js';
import { syncWindow } from '../../src/calendar/source.js';
import { realClock } from '../../src/util/clock.js';
import { ACTION_CTX, recordingContext } from '../../test/calendar-fixtures/helpers.js';

const ZONE = 'Europe/Berlin';
const [kind = 'feed', roundsArg = '20', warmArg = '3'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const warmUps = Number(warmArg);
const gc = (globalThis as { gc?: (o: { type: 'minor' | 'major'; execution: 'sync' }) => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const now = Date.now();
const { from, to } = syncWindow(now, ZONE, 7);
const feed = realisticRoomFeed(now);
const sample = fs.readFileSync(SAMPLE_ICS, 'utf8');

async function body(): Promise<() => unknown> {
  switch (kind) {
    case 'feed':
      return () => parseIcs(feed, from, to, { zone: ZONE });
    case 'feed-bare':
      return () => ICAL.parse(feed);
    case 'sample':
      return () => parseIcs(sample, from, to, { zone: ZONE });
    case 'sample-bare':
      return () => ICAL.parse(sample);
    case 'unchanged': {
      // The driver's own refresh of a file that has not changed since its last read.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ics-bench-'));
      const file = path.join(dir, 'room.ics');
      fs.writeFileSync(file, feed);
      process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      const rec = recordingContext(realClock, 'outlook');
      const inst = createIcs(
        { url: file, poll_interval_s: 86_400, request_timeout_ms: 2000, days_ahead: 7, time_zone: ZONE, max_bytes: 20 << 20 },
        rec.ctx,
      );
      await inst.start();
      const refresh = inst.actions.refresh;
      if (!refresh) throw new Error('no refresh action');
      await refresh.run({}, ACTION_CTX());
      process.on('exit', () => void inst.stop());
      return () => refresh.run({}, ACTION_CTX());
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const run = await body();
// Warm-up: the code is compiled and the caches a running agent holds are filled.
for (let i = 0; i < warmUps; i++) await run();
gc({ type: 'major', execution: 'sync' });
gc({ type: 'minor', execution: 'sync' });
process.stdout.write('ICS-MARK begin\n');
const cpu0 = process.cpuUsage();
for (let i = 0; i < rounds; i++) await run();
const cpu = process.cpuUsage(cpu0);
gc({ type: 'minor', execution: 'sync' });
process.stdout.write(`ICS-MARK end ${cpu.user + cpu.system} ${process.memoryUsage().heapUsed}\n`);
process.exit(0);
