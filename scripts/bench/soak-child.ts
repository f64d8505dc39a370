// The measured process of scripts/bench/soak.ts: the agent in a process of its
// own, bundled like the shipped agent, with the shipped logger (level warn, to
// stdout). It reports its own memory, threads and open files on request.
// Does nothing unless SOAK_CHILD (the api.toml path) is set.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { Agent } from '../../src/app.js';
import type { TrackingFeature } from '../../src/tracking/index.js';
import { createLogger } from '../../src/util/logger.js';

export interface SoakSample {
  rssMb: number;
  heapMb: number;
  fds: number;
  threads: number;
}

export type CacheLevels = ReturnType<TrackingFeature['service']['cacheLevels']>;

const mb = (bytes: number) => bytes / 2 ** 20;

function sample(): SoakSample {
  const m = process.memoryUsage();
  const threads = Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return { rssMb: mb(m.rss), heapMb: mb(m.heapUsed), fds: fs.readdirSync('/proc/self/fd').length, threads };
}

/** RSS split by kind (kB lines of /proc/self/smaps_rollup, in MB), with V8's spaces and the external memory. */
function memoryDetail(): Record<string, unknown> {
  const rollup: Record<string, number> = {};
  for (const m of fs.readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm)) {
    rollup[m[1]] = Number(m[2]) / 1024;
  }
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_used_size)]));
  const { external, arrayBuffers, heapTotal } = process.memoryUsage();
  const code = v8.getHeapCodeStatistics();
  return {
    rollup,
    spaces,
    heapTotalMb: mb(heapTotal),
    externalMb: mb(external),
    arrayBuffersMb: mb(arrayBuffers),
    codeMb: mb(code.code_and_metadata_size),
    bytecodeMb: mb(code.bytecode_and_metadata_size),
  };
}

// Diagnostics only (SOAK_HEAP_DIR set). The k-th heap sample after a full GC is taken k minutes
// after the load started; each writes min-<k>.json there (RSS split from smaps_rollup, V8 spaces,
// the tracking caches' levels). SOAK_HEAP_AT="3,13,23" also writes min-<k>.heapsnapshot at those
// minutes (compare two with soak-heap-diff.ts). Writing a snapshot blocks the agent for a second
// or two and leaves the process's RSS ~100 MB higher (the snapshot's own buffers, kept by malloc),
// so the latency and RSS figures of such a run do not count; the heap-after-GC figures do.
let gcSamples = 0;
function writeDetail(levels: () => CacheLevels | undefined, s: SoakSample): void {
  const dir = process.env.SOAK_HEAP_DIR;
  if (!dir) return;
  const minute = gcSamples++;
  const detail = { minute, ...s, ...memoryDetail(), caches: levels() };
  fs.writeFileSync(path.join(dir, `min-${minute}.json`), `${JSON.stringify(detail, null, 2)}\n`);
  const at = (process.env.SOAK_HEAP_AT ?? '').split(',').filter(Boolean).map(Number);
  if (at.includes(minute)) v8.writeHeapSnapshot(path.join(dir, `min-${minute}.heapsnapshot`));
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
  const levels = () => agent.feature<TrackingFeature>('tracking')?.service.cacheLevels();
  process.on('message', async (m) => {
    if (m === 'sample') send({ sample: sample() });
    else if (m === 'levels') send({ levels: levels() });
    else if (m === 'shrink') {
      // After the pre-fill: V8's last-resort collection (compacts, returns pooled pages to the OS).
      // Thousands of meetings in seconds leave heap pages a room's agent would have given back in
      // the hours those meetings took; kept, they would hide RSS growth during the measured window.
      const gc = global.gc as unknown as ((o: { type: string; execution: string; flavor: string }) => void) | undefined;
      gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      send({ sample: sample() });
    } else if (m === 'sample-after-gc') {
      // Heap in use after a full collection: what is really kept, not garbage waiting for the next major GC.
      global.gc?.();
      const s = sample();
      writeDetail(levels, s);
      send({ sample: s });
    } else if (m === 'exit') {
      await agent.stop();
      process.exit(0);
    }
  });
}

if (process.env.SOAK_CHILD) void child(process.env.SOAK_CHILD);
