// The native addons the project builds from source, and the link flags they are built with by default.
// Read by scripts/build-addons.mjs (which builds them), scripts/deb/arm64-qemu-check.sh (which
// cross-compiles them for arm64) and test/runtime.test.ts (which checks what was built). No side effects.
import { pathToFileURL } from 'node:url';

/** The addons, where node-gyp leaves each binary, and the extra gyp variables they need. */
export const ADDONS = [
  // force_build: the package's binding.gyp builds nothing when a bundled binary matches the host.
  { name: 'better-sqlite3', binary: 'build/Release/better_sqlite3.node', gyp: ['--force_build=1'] },
  { name: 'unix-dgram', binary: 'build/Release/unix_dgram.node', gyp: [] },
  { name: '@serialport/bindings-cpp', binary: 'build/Release/bindings.node', gyp: [] },
];

/** The default link flags: libstdc++ and libgcc inside each addon, their symbols not exported. */
export const STATIC_LINK = '-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL';

// `node scripts/addons.mjs`: one line per addon, "name binary gyp-args…", then "link <flags>" (for shell scripts).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const a of ADDONS) console.log([a.name, a.binary, ...a.gyp].join(' '));
  console.log(`link ${STATIC_LINK}`);
}
