#!/usr/bin/env bash
# Builds build/room-agent_<version>_<arch>.deb with dpkg-deb:
#   /opt/room-agent       compiled app, production node_modules (native addons
#                         built on this machine), the pinned Node.js runtime
#   /usr/bin/room-agent   wrapper
#   /etc/room-agent/api.toml (conffile), the systemd unit, docs, man page
# The Node runtime comes from the npm registry (node-linux-<arch>), so the
# same script works in Jenkins and in CI without other downloads.
# Usage: scripts/package-deb.sh   (env: VERSION, OUT, NODE_VERSION)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

NODE_VERSION="${NODE_VERSION:-20.20.2}"
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
OUT="${OUT:-$ROOT/build}"
STAGE="$OUT/stage-$ARCH"
DEB="$OUT/room-agent_${VERSION}_${ARCH}.deb"

# What npm packages carry for other platforms and for their own development is
# dropped: prebuilt addons for other OS/arch/libc, build intermediates, tests,
# lint and VCS files. Addons are stripped and not executable.
slim_node_modules() {
  local nm="$1" d p
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
mkdir -p "$APP" "$STAGE/usr/bin" "$STAGE/etc/room-agent" "$STAGE/lib/systemd/system" \
  "$STAGE/usr/share/doc/room-agent" "$STAGE/usr/share/man/man1" "$STAGE/usr/share/lintian/overrides" "$STAGE/DEBIAN"
cp -a dist package.json package-lock.json scenarios "$APP/"
# The ICS driver's sample calendar (its simulator serves it when no file is set).
mkdir -p "$APP/drivers/ics" && cp -a drivers/ics/sample "$APP/drivers/ics/"
# Production dependencies: copy what is installed (native addons already built
# here) and prune the dev tools, so nothing is compiled twice.
cp -a node_modules "$APP/node_modules"
(cd "$APP" && npm prune --omit=dev --no-audit --no-fund >/dev/null)
# Tests and sources of the app are not shipped.
find "$APP/dist" \( -name '*.test.js' -o -name '*.d.ts' -o -name '*.map' \) -delete
slim_node_modules "$APP/node_modules"

echo "== node $NODE_VERSION ($NODE_PKG) from the npm registry"
CACHE="$OUT/cache"
mkdir -p "$CACHE"
TARBALL="$CACHE/$NODE_PKG-$NODE_VERSION.tgz"
if [ ! -f "$TARBALL" ]; then
  (cd "$CACHE" && npm pack "$NODE_PKG@$NODE_VERSION" --silent >/dev/null)
fi
mkdir -p "$APP/node"
tar -xzf "$TARBALL" -C "$APP/node" --strip-components=1 package/bin/node package/LICENSE
strip --strip-unneeded "$APP/node/bin/node"
chmod 0755 "$APP/node/bin/node"
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
sed -e "s|@NODE_FLAGS@|$NODE_FLAGS|" -e "s|@MALLOC_ARENA_MAX@|$MALLOC_ARENA_MAX|" scripts/deb/room-agent.sh >"$STAGE/usr/bin/room-agent"
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

SIZE_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: room-agent
Version: $VERSION
Architecture: $ARCH
Maintainer: room-agent team <room-agent@example.com>
Installed-Size: $SIZE_KB
Depends: libc6 (>= 2.28), libstdc++6 (>= 8), passwd
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
