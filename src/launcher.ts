#!/usr/bin/env node
// dist/agent/cli.js: the small entry `npm start`, the .deb and the benchmarks
// run. It turns on the compile cache for `start` (src/util/compile-cache.ts;
// written once the agent is ready, not only at exit), then loads the agent
// bundle (dist/agent/agent.js: src/cli.ts and everything it imports) and runs
// its command line. Once `start` is ready and its ready line is out, it runs
// one full garbage collection of what start left (src/util/start-gc.ts). On a
// Node line other than the one the addons are built for it stops with a
// message (src/util/runtime.ts).
import { compileCacheDir, enableCompileCache, flushCompileCache } from './util/compile-cache.js';
import { unsupportedRuntime } from './util/runtime.js';
import { collectStartGarbage } from './util/start-gc.js';

const wrongRuntime = unsupportedRuntime();
if (wrongRuntime) {
  console.error(wrongRuntime);
  process.exit(1);
}
const argv = process.argv.slice(2);
// `start` handles SIGTERM/SIGINT from its first line (src/util/stop-signals.ts); until the
// bundle is loaded the launcher records them, so a stop during the load is a clean "not started".
let early: NodeJS.Signals | null = null;
const record = (signal: NodeJS.Signals) => {
  early ??= signal;
};
// SIGHUP (reload) before the agent exists is ignored: the config is being read anyway.
const ignoreHup = () => undefined;
if (argv[0] === 'start') {
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, record);
  process.on('SIGHUP', ignoreHup);
}
const takeEarlySignal = () => {
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, record);
  process.off('SIGHUP', ignoreHup);
  return early;
};
const compileCache = enableCompileCache(compileCacheDir(argv));
import(new URL('./agent.js', import.meta.url).href)
  .then(({ main }: typeof import('./cli.js')) =>
    main(argv, {
      compileCache,
      takeEarlySignal,
      afterReady: () => {
        if (compileCache) flushCompileCache();
        collectStartGarbage();
      },
    }),
  )
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`room-agent: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
