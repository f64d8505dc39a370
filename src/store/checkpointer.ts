import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

// The worker's code, run as a CommonJS script (eval) so the bundled agent
// needs no second file. It opens its own connection and copies the WAL into
// the database file; the fsyncs of that copy are what stalled the event loop
// for 10-20 ms about once a second under steady writes (docs/performance.md).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.lib);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('cache_size = -256');
const tick = () => {
  try {
    // PASSIVE: copies what it can without waiting for the agent's connection.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m === 'stop') { clearInterval(timer); tick(); db.close(); parentPort.close(); }
});
`;

export interface CheckpointerOptions {
  file: string;
  everyMs?: number;
  logger?: Logger;
  /** Called when the worker is gone for good (error or exit): the store turns SQLite's own checkpoints back on. */
  onGone: (why: string) => void;
}

/**
 * Runs SQLite's WAL checkpoints on a worker thread. The agent's connection
 * has automatic checkpoints off while this runs; if the worker dies they are
 * turned back on, so the WAL never grows without bound.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private gone = false;
  constructor(private readonly o: CheckpointerOptions) {
    const lib = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { lib, file: o.file, everyMs: o.everyMs ?? 500 },
      // A second V8 isolate: keep its heap small, it only holds a connection.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) o.logger?.warn({ err: m.error }, 'background WAL checkpoint failed');
    });
    this.worker.on('error', (e) => this.lost(`checkpoint worker failed: ${e.message}`));
    this.worker.on('exit', (code) => this.lost(`checkpoint worker exited (${code})`));
  }

  private lost(why: string): void {
    if (this.gone) return;
    this.gone = true;
    this.o.onGone(why);
  }

  /** Ends the worker at once (no last checkpoint). */
  kill(): void {
    this.gone = true;
    void this.worker.terminate();
  }

  /** Last checkpoint, then the worker ends; resolves when it has. */
  async stop(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.postMessage('stop');
    const t = setTimeout(() => void this.worker.terminate(), 2000);
    await exited;
    clearTimeout(t);
  }
}
