// Builds the native addons (better-sqlite3, unix-dgram, @serialport/bindings-cpp)
// from source for the Node.js runtime this project pins and ships — the
// `node-linux-<arch>` package in optionalDependencies — against that
// package's own headers (include/node), so nothing is downloaded and it does
// not matter which Node runs npm. `npm ci` runs it (package.json
// "postinstall"); the addons' own install scripts are off (allowScripts),
// since they would build for the Node that runs npm.
//
// Why from source: better-sqlite3 13's bundled Linux binaries need glibc 2.34
// and unix-dgram has none; a build links against the build machine's glibc,
// which scripts/package-deb.sh then states in the package's Depends.
//
// The compiler: Node 24's headers (V8 13.6) are C++20 (common.gypi passes -std=gnu++20,
// v8config.h refuses older modes). Astra Linux SE 1.7's own GCC 8 has no such mode; the script
// checks the compiler before building and says so.
//
// The link: a C++20 g++ brings a libstdc++ newer than Astra 1.7's (GCC 8: up to GLIBCXX_3.4.25),
// so every build links libstdc++ and libgcc statically into the addons (STATIC_LINK of
// scripts/addons.mjs, through LDFLAGS, which node-gyp's Makefiles honour; --exclude-libs keeps their symbols out of the addon's
// exports) and then checks each addon needs no GLIBCXX_/CXXABI_ version and neither library
// (scripts/elf-needs.mjs): the package then needs only glibc from the system. An addon's glibc
// need is the build machine's business (built on Astra 1.7: at most 2.28; package-deb.sh puts it
// in Depends). ROOM_AGENT_ADDON_LDFLAGS replaces STATIC_LINK (set it empty to link libstdc++
// dynamically, as g++ does by default; the check is then skipped); LDFLAGS, if set, comes after.
//
//   node scripts/build-addons.mjs [--force]   (skips addons already built for this runtime and link)
//   node scripts/build-addons.mjs --check-compiler   (only the C++20 check of $CXX or g++)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDONS, STATIC_LINK } from './addons.mjs';
import { problems } from './elf-needs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'package.json'));
const force = process.argv.includes('--force');
const checkOnly = process.argv.includes('--check-compiler');

function fail(message) {
  console.error(`build-addons: ${message}`);
  process.exit(1);
}

/** The pinned runtime for this machine: its directory, node binary and version. */
function pinnedRuntime() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const name = `node-linux-${process.arch}`;
  const pinned = pkg.optionalDependencies?.[name];
  if (process.platform !== 'linux' || !pinned) {
    fail(
      `no pinned runtime for ${process.platform}-${process.arch}: package.json pins ${Object.keys(pkg.optionalDependencies ?? {}).join(', ')}`,
    );
  }
  const dir = path.join(ROOT, 'node_modules', name);
  let installed;
  try {
    installed = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    fail(`${name}@${pinned} is not installed in node_modules (was npm run with --omit=optional?); run npm ci`);
  }
  if (installed !== pinned) fail(`node_modules has ${name}@${installed}, package.json pins ${pinned}; run npm ci`);
  const node = path.join(dir, 'bin', 'node');
  if (!fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) fail(`${name}@${pinned} carries no include/node headers`);
  return { name, dir, node, version: installed };
}

function nodeGypScript() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath &&
      path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    fail('node-gyp not found: run this through npm (npm ci or npm run build:addons), which bundles it');
  }
}

/**
 * Fails with a clear message unless the C++ compiler node-gyp will use ($CXX, else g++) compiles
 * the pinned runtime's node.h in the C++20 mode its common.gypi asks for.
 */
function checkCompiler(runtime) {
  const cxx = process.env.CXX || 'g++';
  const version = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    fail(
      `no C++ compiler: ${cxx} did not run (${version.error?.message ?? `exit ${version.status}`}); install a C++20 g++ (apt-get install -y python3 make g++)`,
    );
  }
  const name = version.stdout.split('\n')[0].trim();
  const include = path.join(runtime.dir, 'include', 'node');
  const probe = spawnSync(cxx, ['-std=gnu++20', '-fsyntax-only', '-x', 'c++', '-I', include, '-'], {
    input: '#include <node.h>\n#include <node_api.h>\n',
    encoding: 'utf8',
  });
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || '').trim().split('\n').slice(0, 3).join(' | ');
    fail(
      `${cxx} (${name}) cannot compile ${runtime.name}@${runtime.version}'s headers: Node.js ${runtime.version.split('.')[0]} ` +
        'needs a C++20 compiler (verified with GCC 12.2; GCC 8, which Astra Linux SE 1.7 ships, has no C++20 mode): ' +
        `set CXX to a newer g++ (docs/install.md, "Building on Astra Linux SE 1.7"). The compiler said: ${why}`,
    );
  }
  return name;
}

const runtime = pinnedRuntime();
if (checkOnly) {
  console.log(`build-addons: ${checkCompiler(runtime)} compiles ${runtime.name}@${runtime.version}'s headers as C++20`);
  process.exit(0);
}
const abi = spawnSync(runtime.node, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
if (!abi) fail(`${runtime.node} does not run on this machine`);
const linkFlags = process.env.ROOM_AGENT_ADDON_LDFLAGS ?? STATIC_LINK;
const staticLink = linkFlags === STATIC_LINK;
const ldflags = [linkFlags, process.env.LDFLAGS ?? ''].filter((f) => f.trim() !== '').join(' ');
// The link flags are part of the stamp: changing them (or this default) rebuilds.
const stampText = (addonVersion) => `node ${runtime.version} abi ${abi} addon ${addonVersion} ldflags ${ldflags}\n`;
const env = {
  ...process.env,
  PATH: `${path.dirname(runtime.node)}${path.delimiter}${process.env.PATH ?? ''}`,
  LDFLAGS: ldflags,
};
// npm passes its own config to scripts; none of it may point node-gyp elsewhere.
for (const k of Object.keys(env)) if (/^npm_config_(nodedir|target|runtime|dist_url|arch)$/i.test(k)) delete env[k];

let gyp;
let compiler;
for (const addon of ADDONS) {
  const dir = path.dirname(require.resolve(`${addon.name}/package.json`));
  const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  const stamp = path.join(dir, 'build', 'room-agent-runtime.txt');
  if (
    !force &&
    fs.existsSync(path.join(dir, addon.binary)) &&
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, 'utf8') === stampText(version)
  ) {
    console.log(`build-addons: ${addon.name}@${version} already built for node ${runtime.version}`);
    continue;
  }
  if (!compiler) {
    compiler = checkCompiler(runtime);
    console.log(`build-addons: compiler ${compiler}, LDFLAGS="${ldflags}"`);
  }
  gyp ??= nodeGypScript();
  const t0 = Date.now();
  const args = [gyp, 'rebuild', '--release', `--nodedir=${runtime.dir}`, `--jobs=${process.env.JOBS ?? 2}`, ...addon.gyp];
  const r = spawnSync(runtime.node, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stdout.slice(-4000));
    process.stderr.write(r.stderr.slice(-8000));
    fail(
      `${addon.name}@${version}: node-gyp failed (exit ${r.status}); it needs python3, make and g++ (apt-get install -y python3 make g++)`,
    );
  }
  if (!fs.existsSync(path.join(dir, addon.binary))) fail(`${addon.name}: node-gyp succeeded but ${addon.binary} is missing`);
  let built;
  try {
    built = problems(path.join(dir, addon.binary), { noLibstdcxx: staticLink });
  } catch (e) {
    fail(`${addon.name}: cannot read what ${addon.binary} needs: ${e.message}`);
  }
  if (built.problems.length) {
    fail(
      `${addon.name}@${version}: ${addon.binary} ${built.problems.join('; ')} although LDFLAGS="${ldflags}" asks for a static ` +
        "libstdc++: Astra Linux SE 1.7's libstdc++ (GCC 8) would not load it. Does the compiler ($CXX) ignore LDFLAGS?",
    );
  }
  fs.writeFileSync(stamp, stampText(version));
  console.log(
    `build-addons: ${addon.name}@${version} built for node ${runtime.version} (ABI ${abi}) in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
      `needs glibc ${built.glibc ?? 'none'}, GLIBCXX ${built.glibcxx ?? 'none'}, CXXABI ${built.cxxabi ?? 'none'}`,
  );
}

// Prove they load in the pinned runtime, the way the agent loads them.
const check = `
const Database = require('better-sqlite3');
const db = new Database(':memory:'); db.prepare('select 1').get(); db.close();
require('@serialport/bindings-cpp').autoDetect();
require('unix-dgram').createSocket('unix_dgram').close();
`;
const loaded = spawnSync(runtime.node, ['-e', check], { cwd: ROOT, env, encoding: 'utf8' });
if (loaded.status !== 0) fail(`the addons do not load in ${runtime.name}@${runtime.version}:\n${loaded.stderr}`);
console.log(`build-addons: better-sqlite3, unix-dgram and @serialport/bindings-cpp load in node ${runtime.version}`);
