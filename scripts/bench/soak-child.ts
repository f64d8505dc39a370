// The measured process of scripts/bench/soak.ts: the agent in a process of its
// own, bundled like the shipped agent, with the shipped logger (level warn, to
// stdout). It reports its own memory, threads and open files on request.
// Does nothing unless SOAK_CHILD (the api.toml path) is set.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Agent } from '../../src/app.js';
import { createLogger } from '../../src/util/logger.js';

export interface SoakSample {
  rssMb: number;
  heapMb: number;
  fds: number;
  threads: number;
}

const mb = (bytes: number) => bytes / 2 ** 20;

function sample(): SoakSample {
  const m = process.memoryUsage();
  const threads = Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return { rssMb: mb(m.rss), heapMb: mb(m.heapUsed), fds: fs.readdirSync('/proc/self/fd').length, threads };
}

// Diagnostics only (SOAK_HEAP_DIR set): the heap after the second full-GC sample is kept as
// early.heapsnapshot and the latest as late.heapsnapshot, to compare what grew (writing one
// blocks the agent for a second or two, so the latency figures of such a run do not count).
let gcSamples = 0;
function snapshotHeap(): void {
  const dir = process.env.SOAK_HEAP_DIR;
  if (!dir) return;
  gcSamples++;
  if (gcSamples < 2) return;
  v8.writeHeapSnapshot(path.join(dir, gcSamples === 2 ? 'early.heapsnapshot' : 'late.heapsnapshot'));
}

async function child(configFile: string): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  const agent = new Agent({ configFile, logger: createLogger('warn') });
  try {
    send({ ready: await agent.start() });
  } catch (e) {
    send({ error: (e as Error).message });
    process.exit(1);
  }
  process.on('message', async (m) => {
    if (m === 'sample') send({ sample: sample() });
    else if (m === 'sample-after-gc') {
      // Heap in use after a full collection: what is really kept, not garbage waiting for the next major GC.
      global.gc?.();
      const s = sample();
      snapshotHeap();
      send({ sample: s });
    } else if (m === 'exit') {
      await agent.stop();
      process.exit(0);
    }
  });
}

if (process.env.SOAK_CHILD) void child(process.env.SOAK_CHILD);
