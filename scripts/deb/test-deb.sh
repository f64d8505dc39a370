#!/usr/bin/env bash
# The packaging lane: build two versions of the .deb, inspect them, run
# lintian, then install / run / upgrade (data kept) / remove / purge in a clean
# Debian root made with debootstrap, where dpkg really installs the package.
# Needs root, dpkg-deb, debootstrap (and lintian for the lint step).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
WORK="${WORK:-$ROOT/build/deb-test}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"
BASE="$(node -p "require('./package.json').version")"
V1="$BASE+test1"
V2="$BASE+test2"
# The package is built for the machine's own architecture (native addons: scripts/package-deb.sh), so the
# lane tests that one: amd64 on the amd64 agent, arm64 on the arm64 agent (Jenkinsfile, stage Package).
case "$(uname -m)" in
  x86_64) ARCH=amd64 ;;
  aarch64) ARCH=arm64 ;;
  *) echo "test-deb: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }

mkdir -p "$WORK"
step "build $V1, and $V2 as the same tree with a newer version"
VERSION="$V1" OUT="$WORK" bash scripts/package-deb.sh | tail -1
DEB1="$WORK/room-agent_${V1}_${ARCH}.deb"
DEB2="$WORK/room-agent_${V2}_${ARCH}.deb"
rm -rf "$WORK/v2" && dpkg-deb -R "$DEB1" "$WORK/v2"
sed -i "s/^Version: .*/Version: $V2/" "$WORK/v2/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$WORK/v2" "$DEB2" >/dev/null && rm -rf "$WORK/v2"

step "inspect control fields and file list"
field() { dpkg-deb -f "$DEB1" "$1"; }
[ "$(field Package)" = room-agent ] || fail "Package"
[ "$(field Version)" = "$V1" ] || fail "Version"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture"
# Depends carries the newest glibc symbol version of any shipped ELF file (never below 2.28).
dpkg-deb -x "$DEB1" "$WORK/elf"
# What the shipped ELF files need beyond glibc (scripts/elf-needs.mjs reads their version needs):
# the addons built from source carry libstdc++ and libgcc inside (scripts/build-addons.mjs links them
# statically), so they need no GLIBCXX_/CXXABI_ version at all; the bundled node needs glibc 2.28 at
# most; nothing needs a libstdc++ newer than Astra Linux SE 1.7's (GCC 8: GLIBCXX_3.4.25).
APP_ELF="$WORK/elf/opt/room-agent"
ELF_FILES=()
while IFS= read -r -d '' f; do
  [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && ELF_FILES+=("$f")
done < <(find "$APP_ELF" -type f \( -name '*.node' -o -path '*/bin/*' \) -print0)
BUILT=("$APP_ELF"/node_modules/better-sqlite3/build/Release/better_sqlite3.node "$APP_ELF"/node_modules/unix-dgram/build/Release/unix_dgram.node
  "$APP_ELF"/node_modules/@serialport/bindings-cpp/build/Release/bindings.node)
node scripts/elf-needs.mjs --no-libstdcxx "${BUILT[@]}" | sed "s|$APP_ELF/||" ||
  fail "a packaged addon needs the system's libstdc++ (build it with scripts/build-addons.mjs' default static link)"
node scripts/elf-needs.mjs --max-glibc 2.28 --max-glibcxx 3.4.25 "$APP_ELF/node/bin/node" | sed "s|$APP_ELF/||" ||
  fail "the bundled node needs more than Astra Linux SE 1.7 has (glibc 2.28, GLIBCXX_3.4.25)"
node scripts/elf-needs.mjs --max-glibcxx 3.4.25 "${ELF_FILES[@]}" >/dev/null ||
  fail "a shipped ELF file needs a libstdc++ newer than Astra Linux SE 1.7's (GLIBCXX_3.4.25)"
# The glibc the addons need is the build machine's (Debian 12: 2.34; an astra-1.7 agent: 2.28 at most).
# DEB_MAX_GLIBC (the Jenkinsfile sets 2.28 for the astra-1.7 agents) makes it a bound for every ELF file.
if [ -n "${DEB_MAX_GLIBC:-}" ]; then
  node scripts/elf-needs.mjs --max-glibc "$DEB_MAX_GLIBC" "${ELF_FILES[@]}" >/dev/null ||
    fail "a shipped ELF file needs a glibc newer than $DEB_MAX_GLIBC (DEB_MAX_GLIBC): this machine's glibc is $(ldd --version | head -1 | grep -o '[0-9.]*$')"
fi
echo "${#ELF_FILES[@]} ELF files: the built addons need no libstdc++, node needs glibc <= 2.28, none needs more than GLIBCXX_3.4.25"
# The newest glibc version any of them needs.
NEWEST=$(node scripts/elf-needs.mjs --newest "${ELF_FILES[@]}")
read -r NEED _ <<<"$NEWEST"
[ "$NEED" != none ] || fail "no glibc version need read from the shipped ELF files"
rm -rf "$WORK/elf"
DEP=$(field Depends | sed -n 's/.*libc6 (>= \([0-9.]*\)).*/\1/p')
[ -n "$DEP" ] || fail "Depends lacks libc6 (>= …)"
[ "$(printf '%s\n%s\n2.28\n' "$NEED" "$DEP" | sort -V | tail -1)" = "$DEP" ] || fail "Depends says libc6 >= $DEP, the files need $NEED"
echo "Depends: libc6 (>= $DEP); the shipped ELF files need glibc $NEED"
field Recommends | grep -q ffmpeg || fail "Recommends lacks ffmpeg"
field Recommends | grep -q tzdata || fail "Recommends lacks tzdata (calendar zone rules)"
dpkg-deb --ctrl-tarfile "$DEB1" | tar -xO ./conffiles | grep -qx /etc/room-agent/api.toml || fail "api.toml is not a conffile"
LIST="$(dpkg-deb -c "$DEB1" | awk '{print $6}')"
for f in ./usr/bin/room-agent ./opt/room-agent/node/bin/node ./opt/room-agent/dist/agent/cli.js ./etc/room-agent/api.toml \
  ./lib/systemd/system/room-agent.service ./opt/room-agent/node_modules/better-sqlite3/build/Release/better_sqlite3.node \
  ./usr/share/doc/room-agent/copyright ./usr/share/man/man1/room-agent.1.gz; do
  grep -qx "$f" <<<"$LIST" || fail "missing $f"
done
! grep -q '^./opt/room-agent/node_modules/vitest/' <<<"$LIST" || fail "dev dependency vitest is packaged"
# Only what runs: the externals' dependency trees (scripts/deb/runtime-deps.ts), no second runtime,
# no tsc output, no sources or bundled binaries of the addons built from source.
! grep -q '^./opt/room-agent/node_modules/node-linux-' <<<"$LIST" || fail "the runtime package is in node_modules too"
! grep -q '^./opt/room-agent/dist/src/' <<<"$LIST" || fail "tsc output dist/src is packaged"
! grep -Eq '^./opt/room-agent/node_modules/(better-sqlite3|unix-dgram|@serialport/bindings-cpp)/(prebuilds|deps|src)/' <<<"$LIST" ||
  fail "an addon's sources or bundled binaries are packaged"
WANT=$(npx tsx scripts/deb/runtime-deps.ts | sort)
HAVE=$(grep -oE '^./opt/room-agent/node_modules/((@[^/]+/)?[^/@]+)(/node_modules/(@[^/]+/)?[^/]+)*/package.json$' <<<"$LIST" |
  sed -e 's|^./opt/room-agent/node_modules/||' -e 's|/package.json$||' | sort)
[ "$WANT" = "$HAVE" ] || fail "packaged node_modules differ from the externals' trees: $(diff <(echo "$WANT") <(echo "$HAVE") | grep '^[<>]' | head -5 | tr '\n' ' ')"
echo "node_modules: $(wc -l <<<"$HAVE") packages, the externals' dependency trees"
! grep -q '^./opt/room-agent/dist/.*\.test\.js$' <<<"$LIST" || fail "test files are packaged"
dpkg-deb -x "$DEB1" "$WORK/x" && grep -q '^Type=notify' "$WORK/x/lib/systemd/system/room-agent.service" || fail "unit is not Type=notify"
# The bundled node is the pinned runtime the suite ran on with its symbol table stripped (18 MB
# less): its code and data sections are byte for byte the pinned binary's.
PINNED_NODE="node_modules/node-linux-$(node -p process.arch)/bin/node"
for sec in .text .rodata .data; do
  objcopy -O binary --only-section="$sec" "$PINNED_NODE" "$WORK/sec-pinned" &&
    objcopy -O binary --only-section="$sec" "$WORK/x/opt/room-agent/node/bin/node" "$WORK/sec-shipped" ||
    fail "objcopy could not read $sec of node"
  cmp -s "$WORK/sec-pinned" "$WORK/sec-shipped" || fail "the shipped node's $sec differs from $PINNED_NODE's"
done
rm -f "$WORK/sec-pinned" "$WORK/sec-shipped"
echo "node: .text, .rodata and .data identical to $PINNED_NODE (symbols stripped)"
! grep -q '@NODE_FLAGS@' "$WORK/x/usr/bin/room-agent" || fail "launcher flags were not substituted"
grep -qF 'MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"' "$WORK/x/usr/bin/room-agent" || fail "launcher does not set MALLOC_ARENA_MAX"
grep -qF "MALLOC_MMAP_THRESHOLD_=\"\${MALLOC_MMAP_THRESHOLD_:-$(node -p "require('./package.json').config.malloc_mmap_threshold")}\"" "$WORK/x/usr/bin/room-agent" ||
  fail "launcher does not set MALLOC_MMAP_THRESHOLD_ from package.json"
grep -qF -- "$(node -p "require('./package.json').config.node_flags")" "$WORK/x/usr/bin/room-agent" || fail "launcher lacks package.json node_flags"
for k in WatchdogSec= Restart=always User=room-agent SupplementaryGroups=dialout NoNewPrivileges=yes ProtectSystem=strict \
  "ReadWritePaths=/var/lib/room-agent /etc/room-agent" PrivateTmp=yes; do
  grep -q "^$k" "$WORK/x/lib/systemd/system/room-agent.service" || fail "unit lacks $k"
done
! grep -Eq '^token *=' "$WORK/x/etc/room-agent/api.toml" || fail "packaged api.toml carries a token"
rm -rf "$WORK/x"
echo "control fields, conffile, file list and unit: ok"

if command -v lintian >/dev/null; then
  step "lintian"
  # Errors fail the lane; the overrides shipped in the package explain the rest.
  lintian --tag-display-limit 0 --fail-on error "$DEB1" || fail "lintian errors (see above)"
fi

step "debootstrap a clean $SUITE root"
R="$WORK/root"
if [ ! -x "$R/usr/bin/dpkg" ]; then
  while umount "$R/proc" 2>/dev/null || umount "$R/dev" 2>/dev/null; do :; done
  rm -rf --one-file-system "$R"
  debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" >/dev/null
fi
# Unmount everything (also mounts left by an earlier, interrupted run) so no
# later rm -rf of the root can reach the host's /dev.
unmount_all() {
  while umount "$R/proc" 2>/dev/null; do :; done
  while umount "$R/dev" 2>/dev/null; do :; done
}
cleanup() {
  [ -n "${AGENT_PID:-}" ] && kill "$AGENT_PID" 2>/dev/null || true
  unmount_all
}
trap cleanup EXIT
unmount_all
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
# A clean environment inside the root: nothing of this machine's env leaks in.
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$R" "$@"; }
cp "$DEB1" "$DEB2" "$R/tmp/"
# A fresh root for each run: the package must not already be installed.
in_root dpkg --purge room-agent >/dev/null 2>&1 || true

step "install $V1"
in_root dpkg -i "/tmp/$(basename "$DEB1")"
in_root getent passwd room-agent >/dev/null || fail "user room-agent not created"
in_root id -nG room-agent | grep -qw dialout || fail "room-agent is not in dialout"
[ "$(in_root stat -c %U /var/lib/room-agent)" = room-agent ] || fail "/var/lib/room-agent not owned by room-agent"
# config.apply replaces /etc/room-agent/api.toml by a rename in that folder (docs/config.md).
[ "$(in_root stat -c '%a %U %G' /etc/room-agent)" = "2770 root room-agent" ] || fail "/etc/room-agent is not 2770 root:room-agent"
in_root room-agent version | grep -qx "$BASE" || fail "room-agent version"
in_root room-agent check-config /etc/room-agent/api.toml | grep -qx OK || fail "packaged api.toml does not pass check-config"

PORT=$(node -e "const s=require('net').createServer().listen(0,()=>{console.log(s.address().port);s.close()})")
INGEST="deb-test-ingest-token-0123456789"
# The integrator edits the conffile: this edit must survive the upgrade.
cat >> "$R/etc/room-agent/api.toml" <<TOML

[[agent.tokens]]
name = "ingest"
token = "$INGEST"
role = "ingest"

[devices.cam-1]
driver = "visca"
simulated = true
TOML
sed -i "s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" "$R/etc/room-agent/api.toml"
in_root room-agent check-config /etc/room-agent/api.toml | grep -qx OK || fail "edited api.toml does not pass check-config"

run_agent() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot --userspec=room-agent:room-agent "$R" /usr/bin/room-agent start --config /etc/room-agent/api.toml >"$WORK/agent-$1.log" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 300); do
    node -e "fetch('http://127.0.0.1:$PORT/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" && return 0
    sleep 0.1
  done
  cat "$WORK/agent-$1.log"; fail "agent $1 did not become healthy"
}
stop_agent() {
  kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || true; AGENT_PID=""
}

step "run $V1 as room-agent: first start generates the admin token"
run_agent v1
# env, chroot and the launcher all exec, so the pid is the node process.
tr '\0' '\n' <"/proc/$AGENT_PID/environ" | grep -qx 'MALLOC_ARENA_MAX=1' || fail "the agent runs without MALLOC_ARENA_MAX=1"
tr '\0' '\n' <"/proc/$AGENT_PID/environ" | grep -qx 'MALLOC_MMAP_THRESHOLD_=32768' || fail "the agent runs without MALLOC_MMAP_THRESHOLD_=32768"
TOKEN_FILE="$R/var/lib/room-agent/tokens/admin.token"
[ -f "$TOKEN_FILE" ] || fail "admin token was not generated"
MODE="$(in_root stat -c '%a %U' /var/lib/room-agent/tokens/admin.token)"
[ "$MODE" = "600 room-agent" ] || fail "token file mode/owner: $MODE"
ADMIN="$(cat "$TOKEN_FILE")"
grep -q "$ADMIN" "$WORK/agent-v1.log" && fail "the token itself was logged"
grep -q 'tokens/admin.token' "$WORK/agent-v1.log" || fail "the log does not say where the token is"
node scripts/deb/smoke.mjs seed "http://127.0.0.1:$PORT" "$ADMIN" "$INGEST"
stop_agent

step "every driver and every external loads from the package alone"
# The externals, each from /opt/room-agent as the room-agent user (nothing else in this root has node_modules).
EXTERNALS=$(npx tsx -e "import('./scripts/build-agent.ts').then((m) => console.log(m.EXTERNAL.join(' ')))")
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot --userspec=room-agent:room-agent "$R" /opt/room-agent/node/bin/node -e "
  const { createRequire } = require('node:module');
  const req = createRequire('/opt/room-agent/dist/agent/agent.js');
  for (const m of process.argv.slice(1)) req(m);
  const Database = req('better-sqlite3'); new Database(':memory:').prepare('select 1').get();
  req('@serialport/bindings-cpp').autoDetect(); req('unix-dgram').createSocket('unix_dgram').close();
  console.log('loaded: ' + process.argv.slice(1).join(', '));
" $EXTERNALS || fail "an external does not load from the package"
# The demo room's devices plus every other driver (ATEM and MQTT point at nothing: their libraries load, they connect in vain).
ALL="$R/tmp/all-drivers.toml"
{ sed -e "s/^listen = .*/listen = \"127.0.0.1:$PORT\"/" -e 's|^data_dir = .*|data_dir = "/var/lib/room-agent/all-drivers"|' api.toml
  for d in extron-sis kramer-p3000 tesira; do printf '\n[devices.x-%s]\ndriver = "%s"\nsimulated = true\n' "$d" "$d"; done
  printf '\n[devices.x-atem]\ndriver = "atem"\nhost = "127.0.0.1"\n\n[mqtt]\nurl = "mqtt://127.0.0.1:9"\n'
} >"$ALL"
DRIVERS=$(ls -d drivers/*/ | xargs -n1 basename | sort | tr '\n' ' ')
for d in $DRIVERS; do grep -q "^driver = \"$d\"" "$ALL" || fail "driver $d is not in the all-drivers config"; done
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot --userspec=room-agent:room-agent "$R" /usr/bin/room-agent start --config /tmp/all-drivers.toml >"$WORK/agent-all.log" 2>&1 &
AGENT_PID=$!
node -e "
  const want = process.argv.slice(1).length; let last = '';
  (async () => {
    for (let i = 0; i < 300; i++) {
      try {
        const h = await (await fetch('http://127.0.0.1:$PORT/healthz')).json();
        const s = Object.entries(h.devices); last = JSON.stringify(h.devices);
        // every simulated device online; ATEM (nothing there) and the recorder (no ffmpeg in this root) just present
        if (s.length >= 15 && s.every(([id, st]) => st === 'online' || id === 'x-atem' || id === 'recorder')) { console.log('devices: ' + last); return; }
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    console.error('devices never all online: ' + last); process.exit(1);
  })();
" $DRIVERS || { cat "$WORK/agent-all.log" | tail -20; fail "not every driver came up"; }
! grep -Eq 'Cannot find module|ERR_MODULE_NOT_FOUND|ERR_DLOPEN_FAILED|NODE_MODULE_VERSION' "$WORK/agent-all.log" ||
  { grep -E 'Cannot find|ERR_|NODE_MODULE' "$WORK/agent-all.log" | head -5; fail "a module is missing from the package"; }
grep -q '"driver":"atem"' "$WORK/agent-all.log" || fail "the ATEM driver did not run"
stop_agent
echo "every driver ran from the package: $DRIVERS"

step "upgrade to $V2: data and config edits kept"
in_root dpkg -i "/tmp/$(basename "$DEB2")"
in_root dpkg-query -W -f '${Version}' room-agent | grep -qx "$V2" || fail "not upgraded"
grep -q 'deb-test-ingest-token' "$R/etc/room-agent/api.toml" || fail "conffile edit lost on upgrade"
run_agent v2
node scripts/deb/smoke.mjs verify "http://127.0.0.1:$PORT" "$ADMIN"
stop_agent

step "remove keeps data, purge removes it"
in_root dpkg -r room-agent
[ ! -e "$R/opt/room-agent" ] || fail "/opt/room-agent left after remove"
[ -f "$R/var/lib/room-agent/room-agent.db" ] || fail "data removed by remove"
in_root dpkg -P room-agent
[ ! -e "$R/var/lib/room-agent" ] || fail "data left after purge"
! in_root getent passwd room-agent >/dev/null || fail "user left after purge"
echo
echo "test-deb: all packaging checks passed"
