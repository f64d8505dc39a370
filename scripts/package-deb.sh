#!/usr/bin/env bash
# Builds build/room-agent_<version>_<arch>.deb with dpkg-deb:
#   /opt/room-agent       the agent (dist/agent: launcher + one bundle, the
#                         console's web files), the node_modules the bundle
#                         loads at run time (its externals' dependency trees,
#                         scripts/deb/runtime-deps.ts; native addons as npm ci
#                         built them here), the pinned Node.js runtime
#   /usr/bin/room-agent   wrapper
#   /etc/room-agent/api.toml (conffile), the systemd unit, docs, man page
# The Node runtime is the node-linux-<arch> package pinned in package.json
# (optionalDependencies), as npm ci installed it — the binary the tests and
# benchmarks ran on, with its symbol table stripped (18 MB less; test-deb.sh
# checks its code and data sections are byte for byte the pinned binary's) —
# and the headers the addons were compiled against.
# Depends states the newest glibc symbol version any shipped ELF file needs,
# so dpkg refuses the package on a system with an older glibc.
# Usage: scripts/package-deb.sh   (env: VERSION, OUT)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

VERSION="${VERSION:-$(node -p "require('./package.json').version")}"
case "$(uname -m)" in
  x86_64) ARCH=amd64; NODE_ARCH=x64 ;;
  aarch64) ARCH=arm64; NODE_ARCH=arm64 ;;
  *) echo "package-deb: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
if [ -n "${ARCH_OVERRIDE:-}" ] && [ "$ARCH_OVERRIDE" != "$ARCH" ]; then
  echo "package-deb: native addons must be built on the target architecture; build $ARCH_OVERRIDE on an $ARCH_OVERRIDE agent" >&2
  exit 1
fi
NODE_PKG="node-linux-$NODE_ARCH"
NODE_VERSION=$(node -p "require('./package.json').optionalDependencies['$NODE_PKG'] ?? ''")
[ -n "$NODE_VERSION" ] || { echo "package-deb: package.json pins no $NODE_PKG" >&2; exit 1; }
OUT="${OUT:-$ROOT/build}"
STAGE="$OUT/stage-$ARCH"
DEB="$OUT/room-agent_${VERSION}_${ARCH}.deb"

# What npm packages carry for other platforms and for their own development is
# dropped: prebuilt addons for other OS/arch/libc, build intermediates, tests,
# lint and VCS files. Addons are stripped and not executable.
slim_node_modules() {
  local nm="$1" d p
  # The addons npm ci built from source (scripts/build-addons.mjs) load build/Release;
  # their bundled binaries, sources and build intermediates are not shipped.
  for d in better-sqlite3 unix-dgram @serialport/bindings-cpp; do
    [ -f "$nm/$d/build/Release/$(ls "$nm/$d/build/Release" | grep -m1 '\.node$')" ] || { echo "package-deb: $d was not built (npm ci)" >&2; exit 1; }
    rm -rf "$nm/$d/prebuilds" "$nm/$d/deps" "$nm/$d/src" "$nm/$d/binding.gyp"
    find "$nm/$d/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$nm/$d/build/Release" -mindepth 1 ! -name '*.node' -exec rm -rf {} +
  done
  while IFS= read -r d; do
    for p in "$d"/*; do
      case "$(basename "$p")" in
        linux-"$NODE_ARCH" | *-linux-"$NODE_ARCH") ;;
        *) rm -rf "$p" ;;
      esac
    done
  done < <(find "$nm" -type d -name prebuilds)
  find "$nm" -path '*/prebuilds/*' -name '*musl*' -exec rm -rf {} +
  find "$nm" -path '*/build/Release/*' \( -name obj.target -o -name .deps -o -name 'test_extension.node' -o -name '*.o' \) -prune -exec rm -rf {} +
  find "$nm" -mindepth 2 -maxdepth 3 -type d \( -name test -o -name tests -o -name __tests__ -o -name example -o -name examples \
    -o -name benchmark -o -name benchmarks -o -name .github -o -name integration \) -prune -exec rm -rf {} +
  find "$nm" -type f \( -name '.eslintrc*' -o -name '.npmignore' -o -name '.gitattributes' -o -name '.travis.yml' \
    -o -name '*.map' -o -name 'index.html' \) -delete
  rm -rf "$nm/@julusian/freetype2/vendor" "$nm/@julusian/freetype2/src"
  find "$nm" -name '*.node' -type f -exec strip --strip-unneeded {} + -exec chmod 0644 {} +
}

echo "== build (tsc)"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent

echo "== stage $STAGE"
rm -rf "$STAGE"
APP="$STAGE/opt/room-agent"
mkdir -p "$APP/dist" "$STAGE/usr/bin" "$STAGE/etc/room-agent" "$STAGE/lib/systemd/system" \
  "$STAGE/usr/share/doc/room-agent" "$STAGE/usr/share/man/man1" "$STAGE/usr/share/lintian/overrides" "$STAGE/DEBIAN"
# What runs: the launcher and the agent bundle, the console's web files,
# package.json (the version and the package root are read from it), scenarios.
cp -a dist/agent dist/console "$APP/dist/"
find "$APP/dist" -name '*.map' -delete
cp -a package.json scenarios "$APP/"
# The ICS driver's sample calendar (its simulator serves it when no file is set).
mkdir -p "$APP/drivers/ics" && cp -a drivers/ics/sample "$APP/drivers/ics/"
# node_modules: only what the bundle loads (native addons already built here).
npx tsx scripts/deb/runtime-deps.ts --copy-to "$APP/node_modules"
slim_node_modules "$APP/node_modules"

RUNTIME="node_modules/$NODE_PKG"
echo "== node $NODE_VERSION ($NODE_PKG, as npm ci installed it)"
[ "$(node -p "require('./$RUNTIME/package.json').version")" = "$NODE_VERSION" ] ||
  { echo "package-deb: $RUNTIME is not $NODE_VERSION; run npm ci" >&2; exit 1; }
mkdir -p "$APP/node/bin"
install -m 0755 "$RUNTIME/bin/node" "$APP/node/bin/node"
install -m 0644 "$RUNTIME/LICENSE" "$APP/node/LICENSE"
strip --strip-unneeded "$APP/node/bin/node"
"$APP/node/bin/node" --version >/dev/null

# go2rtc, when scripts/fetch-go2rtc.sh has provided it for this architecture.
GO2RTC="$ROOT/dist/go2rtc/$ARCH/go2rtc"
if [ -x "$GO2RTC" ]; then
  mkdir -p "$APP/bin"
  install -m 0755 "$GO2RTC" "$APP/bin/go2rtc"
  echo "   including go2rtc"
else
  echo "   go2rtc not provided ($GO2RTC); video will report itself unavailable until it is installed"
fi

# The launcher gets the V8 flags of package.json "config.node_flags" (what `npm start` uses).
NODE_FLAGS=$(node -p "require('./package.json').config.node_flags")
MALLOC_ARENA_MAX=$(node -p "require('./package.json').config.malloc_arena_max")
MALLOC_MMAP_THRESHOLD=$(node -p "require('./package.json').config.malloc_mmap_threshold")
sed -e "s|@NODE_FLAGS@|$NODE_FLAGS|" -e "s|@MALLOC_ARENA_MAX@|$MALLOC_ARENA_MAX|" -e "s|@MALLOC_MMAP_THRESHOLD@|$MALLOC_MMAP_THRESHOLD|" \
  scripts/deb/room-agent.sh >"$STAGE/usr/bin/room-agent"
chmod 0755 "$STAGE/usr/bin/room-agent"
install -m 0644 scripts/deb/api.toml "$STAGE/etc/room-agent/api.toml"
install -m 0644 scripts/deb/room-agent.service "$STAGE/lib/systemd/system/room-agent.service"
install -m 0644 scripts/deb/copyright "$STAGE/usr/share/doc/room-agent/copyright"
install -m 0644 README.md "$STAGE/usr/share/doc/room-agent/README.md"
for d in docs/*.md; do install -m 0644 "$d" "$STAGE/usr/share/doc/room-agent/"; done
gzip -9n -c scripts/deb/room-agent.1 > "$STAGE/usr/share/man/man1/room-agent.1.gz"
printf 'room-agent (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- room-agent team <room-agent@example.com>  %s\n' \
  "$VERSION" "$VERSION" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" |
  gzip -9n > "$STAGE/usr/share/doc/room-agent/changelog.gz"
install -m 0644 scripts/deb/lintian-overrides "$STAGE/usr/share/lintian/overrides/room-agent"

# The oldest glibc the package runs on: the newest GLIBC_x.y symbol version
# any shipped ELF file (node, the addons, go2rtc) needs. Built on Astra 1.7
# (glibc 2.28) that is at most 2.28; built on Debian 12 it is newer, and dpkg
# then refuses the package on Astra 1.7 instead of the addons failing to load.
# One reading of every shipped ELF file's version needs (scripts/elf-needs.mjs, readelf): the newest
# glibc and libstdc++ (GLIBCXX_3.4.N) versions any of them needs.
ELF_FILES=()
while IFS= read -r -d '' f; do
  [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && ELF_FILES+=("$f")
done < <(find "$APP" -type f \( -name '*.node' -o -path '*/bin/*' \) -print0)
NEWEST=$(node scripts/elf-needs.mjs --newest "${ELF_FILES[@]}")
read -r GLIBC_MIN GLIBCXX_NEWEST <<<"$NEWEST"
[ "$GLIBC_MIN" != none ] || { echo "package-deb: no glibc version needs found in ${#ELF_FILES[@]} ELF files" >&2; exit 1; }
GLIBC_MIN=$(printf '%s\n2.28\n' "$GLIBC_MIN" | sort -V | tail -1)
# The GCC release that first shipped that libstdc++.
GLIBCXX_MAX=""
[ "$GLIBCXX_NEWEST" = none ] || GLIBCXX_MAX=${GLIBCXX_NEWEST#3.4.}
case "${GLIBCXX_MAX:-0}" in
  2[0-5] | 1[0-9] | [0-9]) GCC_MIN=8 ;;
  26) GCC_MIN=9 ;; 27 | 28) GCC_MIN=10 ;; 29) GCC_MIN=11 ;; 30) GCC_MIN=12 ;; 31 | 32) GCC_MIN=13 ;; 33) GCC_MIN=14 ;;
  *) echo "package-deb: GLIBCXX_3.4.$GLIBCXX_MAX is newer than this script knows" >&2; exit 1 ;;
esac
echo "   needs glibc >= $GLIBC_MIN, libstdc++ from GCC >= $GCC_MIN (GLIBCXX_3.4.${GLIBCXX_MAX:-none})"

SIZE_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: room-agent
Version: $VERSION
Architecture: $ARCH
Maintainer: room-agent team <room-agent@example.com>
Installed-Size: $SIZE_KB
Depends: libc6 (>= $GLIBC_MIN), libstdc++6 (>= $GCC_MIN), passwd
Recommends: ffmpeg, tzdata
Section: net
Priority: optional
Homepage: https://example.com/room-agent
Description: meeting-room edge agent
 Drives the room's PTZ cameras, video matrix, mixer, audio processor and
 recorder; reads the room calendar; tracks meetings; streams camera video
 through go2rtc; reports to the central service over MQTT. Bundles its own
 Node.js $NODE_VERSION runtime under /opt/room-agent.
CONTROL
echo "/etc/room-agent/api.toml" > "$STAGE/DEBIAN/conffiles"
install -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm "$STAGE/DEBIAN/"

echo "== dpkg-deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$DEB" >/dev/null
rm -rf "$STAGE"
echo "$DEB"
