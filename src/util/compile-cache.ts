// The compile cache of `room-agent start` (src/launcher.ts): Node's module
// compile cache in <data_dir>/compile-cache, turned on before the agent bundle
// is imported, so V8 reads the bundle's compiled code from disk instead of
// compiling ~2 MB of JavaScript at every boot (docs/performance.md, "Cold
// start"). A module compiled before the cache is on is not cached.
//
// Node serializes a module's code cache when it compiles the module (what V8
// compiled while loading it, not the functions compiled lazily later) and
// writes the files at exit. The agent runs for weeks and a room PC may lose
// power instead of stopping cleanly, so `start` writes them once ready
// (flushCompileCache): a crash or a power cut no longer costs the next boot
// its cache, and Node frees the serialized copies it kept for the exit.
//
// Only the data_dir is read here (the same key and relative-path rule as the
// agent: relative to the config file's folder); anything unexpected leaves the
// cache off and the agent, which validates the config, reports the problem.
import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { parse } from 'smol-toml';

/** Where `room-agent start` keeps its compile cache, or null when the config gives no usable data_dir. */
export function compileCacheDir(argv: string[], env: NodeJS.ProcessEnv = process.env): string | null {
  if (argv[0] !== 'start') return null;
  let file = env.ROOM_AGENT_CONFIG ?? 'api.toml';
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--config' || a === '-c') && argv[i + 1]) file = argv[i + 1];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  try {
    const agent = (parse(fs.readFileSync(file, 'utf8')) as { agent?: { data_dir?: unknown } }).agent;
    const configured = agent?.data_dir ?? './data';
    if (typeof configured !== 'string') return null;
    // ${ENV} as the agent substitutes it; an unset variable leaves the cache off.
    let unset = false;
    const dir = configured.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) unset = true;
      return v ?? '';
    });
    if (unset || !dir) return null;
    return path.join(path.resolve(path.dirname(path.resolve(file)), dir), 'compile-cache');
  } catch {
    return null;
  }
}

/** Turns the compile cache on (Node ≥ 22.1); returns the directory in use or null. Never throws. */
export function enableCompileCache(dir: string | null): string | null {
  if (!dir || typeof module.enableCompileCache !== 'function') return null;
  try {
    const r = module.enableCompileCache(dir);
    return r.directory ?? null;
  } catch {
    return null;
  }
}

/** Writes the compile cache to disk now (Node ≥ 22.10) instead of only at exit; a no-op when it is off. Never throws. */
export function flushCompileCache(): void {
  if (typeof module.flushCompileCache !== 'function') return;
  try {
    module.flushCompileCache();
  } catch {
    // a cache that cannot be written costs the next boot its compile, nothing else
  }
}
