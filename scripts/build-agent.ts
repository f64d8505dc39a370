// Bundles the agent (src/cli.ts and everything it imports) into one ESM file,
// dist/agent/agent.js, and its launcher (src/launcher.ts) into dist/agent/cli.js,
// which `npm start`, the .deb and the benchmarks run: the launcher turns on
// the compile cache before it imports the bundle (src/util/compile-cache.ts).
// Why: Node keeps every loaded module's source text and per-module records in
// the heap; ~430 files from node_modules and ours cost ~8 MB of idle RSS more
// than one bundle (docs/performance.md). tsc's dist/src/ stays for the
// declarations and for anyone importing the package.
//
// src/config/validators.ts and src/host/params-validators.ts are replaced in the
// bundle by validators Ajv generated here (scripts/ajv-standalone.ts; the build runs
// the demo agent once to collect its params schemas): the agent compiles no schema
// at start. Node's built-ins are loaded with require (builtinsByRequirePlugin).
//
// Left outside the bundle: native addons (their loaders look for .node files
// next to their own package) and the big libraries only loaded on demand
// (mqtt when [sync] is on, atem-connection for an ATEM, nodemailer at the first
// e-mailed code), so they cost nothing until a room uses them.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { builtinDrivers } from '../drivers/index.js';
import { standaloneValidatorsPlugin } from './ajv-standalone.js';

/**
 * esbuild plugin: the bundle's imports of Node's own modules (`import http from 'node:http'`)
 * become `require` calls (through the createRequire of the banner). An ES import of a built-in
 * builds an ES module facade of it, and the facade reads every export once; `node:http`'s
 * `WebSocket`, `CloseEvent` and `MessageEvent` are getters that load undici (Node's fetch and
 * WebSocket), which the agent never uses: in the agent that was ~1.2 MB of heap (undici's source)
 * and ~30 ms of CPU at start (nodejs/node#59686; docs/performance.md, "Start and idle memory:
 * lean start"). `require` returns the same module object.
 *
 * A static import gets an ES module in between (builtinModuleSource): the module object as its
 * default export and each of its properties as a named export, read once when the bundle starts
 * and only if some module imports that name (each read is marked pure, so esbuild drops the
 * unused ones: no getter of `node:http` runs unless asked for). A CommonJS module in its place
 * made esbuild copy every property of the built-in into a fresh object of getters at each
 * importing file (its `__toESM`): 110 copies, ~5,200 closures, ~0.9 MB of the idle heap
 * (docs/performance.md, "Idle memory: the evening's leads"). A dynamic `import()` of a built-in
 * keeps the CommonJS module (its namespace would need every export read).
 */
export const builtinsByRequirePlugin: esbuild.Plugin = {
  name: 'node-builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement'
        ? { path: args.path, namespace: 'node-builtin' }
        : args.kind === 'dynamic-import'
          ? { path: args.path, namespace: 'node-builtin-cjs' }
          : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      contents: builtinModuleSource(args.path),
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'node-builtin-cjs' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

const requireHere = createRequire(import.meta.url);

/** A property name that can be the name of an exported `const`. */
function bindable(name: string): boolean {
  if (!/^[A-Za-z_$][\w$]*$/.test(name) || name === 'default') return false;
  try {
    new Function(`"use strict"; let ${name};`);
    return true;
  } catch {
    return false; // a reserved word
  }
}

/**
 * The ES module standing for built-in `specifier` in the bundle: `require`s it, exports it as the
 * default and each property this Node has (the one the agent is built with and runs on) as a
 * named export whose read is marked pure, so only the names some module imports stay.
 */
export function builtinModuleSource(specifier: string): string {
  const names = Object.keys(requireHere(specifier) as object).filter(bindable);
  return [
    `const builtin = require(${JSON.stringify(specifier)});`,
    'export default builtin;',
    ...names.map((n) => `export const ${n} = /* @__PURE__ */ (() => builtin.${n})();`),
  ].join('\n');
}

/**
 * Built-ins a bundled library requires at its top but uses only on a path the agent never takes:
 * the module is required on the first property read instead (a Proxy over the same module object).
 * fastify's server.js requires `node:http2` for `http2: true` servers; the agent serves HTTP/1.1
 * only (src/api/server.ts), and `node:http2` costs the idle agent ~1 MB (its JS, its code cache in
 * the binary's pages, its objects; docs/performance.md, "Idle memory: what each MB buys").
 * The build fails if the line is not there exactly once (a fastify update moved it: look again).
 */
export const LAZY_BUILTINS: { file: RegExp; line: string; builtin: string }[] = [
  {
    file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/,
    line: "const http2 = require('node:http2')",
    builtin: 'node:http2',
  },
];

export const lazyBuiltinsPlugin: esbuild.Plugin = {
  name: 'lazy-unused-builtins',
  setup(build) {
    for (const { file, line, builtin } of LAZY_BUILTINS) {
      build.onLoad({ filter: file }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const at = source.split('\n').filter((l) => l.trim() === line).length;
        if (at !== 1) throw new Error(`${args.path}: expected the line \`${line}\` once, found it ${at} times`);
        const name = line.slice('const '.length, line.indexOf(' = '));
        const lazy = `const ${name} = new Proxy({}, { get: (_, key) => require(${JSON.stringify(builtin)})[key] })`;
        return { contents: source.replace(line, lazy), loader: 'js' };
      });
    }
  },
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The entry that is run (the launcher); the agent bundle is agent.js beside it. */
export const AGENT_BUNDLE = path.join(ROOT, 'dist', 'agent', 'cli.js');

function packageConfig(): { node_flags?: string; malloc_arena_max?: string; malloc_mmap_threshold?: string } {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { config?: object }).config ?? {};
}

/** The V8 flags the agent runs with: package.json config.node_flags (npm start, the .deb launcher, benches, tests). */
export function agentNodeFlags(): string[] {
  return (packageConfig().node_flags ?? '').split(/\s+/).filter(Boolean);
}

/**
 * The environment the agent runs with, from package.json config: MALLOC_ARENA_MAX
 * (malloc_arena_max: one glibc arena; V8's helper threads otherwise get arenas of
 * their own that keep freed memory, ~7 MB idle) and MALLOC_MMAP_THRESHOLD_
 * (malloc_mmap_threshold: blocks of 32 KB and more by mmap, returned when freed;
 * start's freed compiler zones otherwise stay in the heap, 3-14 MB idle; a fixed
 * value also stops glibc raising the threshold to 3.3 MB when the bundle's read
 * buffer is freed). docs/performance.md, "Idle memory: what each MB buys".
 * A value in the caller's environment wins.
 */
export function agentEnv(): Record<string, string> {
  const config = packageConfig();
  const env: Record<string, string> = {};
  const arenas = process.env.MALLOC_ARENA_MAX ?? config.malloc_arena_max;
  if (arenas) env.MALLOC_ARENA_MAX = arenas;
  const mmapThreshold = process.env.MALLOC_MMAP_THRESHOLD_ ?? config.malloc_mmap_threshold;
  if (mmapThreshold) env.MALLOC_MMAP_THRESHOLD_ = mmapThreshold;
  return env;
}

/**
 * The packages the bundle loads from node_modules at run time; the .deb carries
 * exactly these and their dependency trees (scripts/deb/runtime-deps.ts).
 * @serialport/binding-mock is loaded through createRequire (the simulated
 * serial ports), which esbuild leaves alone: listed so it is packaged.
 */
export const EXTERNAL = [
  'better-sqlite3',
  '@serialport/bindings-cpp',
  '@serialport/binding-mock',
  'unix-dgram',
  '@julusian/freetype2',
  'mqtt',
  'atem-connection',
  'nodemailer',
];

/** The esbuild options the shipped agent is built with (the director bench bundles its child the same way). */
export function agentBuildOptions(entry: string, outfile: string): esbuild.BuildOptions & { metafile: true } {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: EXTERNAL,
    // windows-iana's main (dist/index.js) picks its development or production build by
    // NODE_ENV at run time, so both were bundled (160 KB); its ES build is the same data once.
    alias: { 'windows-iana': 'windows-iana/dist/windows-iana.esm.js' },
    // Whitespace and syntax only: stack traces keep our function names.
    minifyWhitespace: true,
    minifySyntax: true,
    // Bundled CommonJS packages call require() for Node's modules and externals.
    banner: {
      js: "import { createRequire as __roomAgentRequire } from 'node:module';\nconst require = __roomAgentRequire(import.meta.url);",
    },
    // The config, device, scenario-file and params validators as code Ajv generated now, not
    // compiled at start; Node's built-ins by require, not as ES modules; node:http2 (fastify's,
    // never used here) on first use.
    plugins: [standaloneValidatorsPlugin(builtinDrivers), builtinsByRequirePlugin, lazyBuiltinsPlugin],
    metafile: true,
    logLevel: 'warning',
  };
}

/** Builds the launcher as `outfile` and the agent bundle as agent.js beside it; returns their bytes (with maps). */
export async function buildAgent(outfile = AGENT_BUNDLE): Promise<number> {
  const bundle = await esbuild.build({
    ...agentBuildOptions(path.join(ROOT, 'src', 'cli.ts'), path.join(path.dirname(outfile), 'agent.js')),
    sourcemap: 'linked',
    legalComments: 'external',
  });
  const launcher = await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'launcher.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minifySyntax: true,
    metafile: true,
    logLevel: 'warning',
  });
  fs.chmodSync(outfile, 0o755); // the launcher is the package's bin (#!/usr/bin/env node)
  return [bundle, launcher].reduce((n, r) => n + Object.values(r.metafile.outputs).reduce((m, o) => m + o.bytes, 0), 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const bytes = await buildAgent();
  console.log(`agent: ${path.relative(ROOT, AGENT_BUNDLE)} and agent.js beside it (${(bytes / 1024).toFixed(0)} KiB with map)`);
}
