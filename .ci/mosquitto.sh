#!/usr/bin/env bash
# Makes a real Mosquitto available to the sync tests (test/sync-*.test.ts).
# Source it from .ci/run before `npm test`:   . .ci/mosquitto.sh
# It installs the Debian package when missing and exports MOSQUITTO_BIN; the
# tests start their own broker on a free loopback port (the system service is
# not used) and run the same suites against it as against in-process aedes.
set -euo pipefail

find_mosquitto() {
  command -v mosquitto 2>/dev/null && return 0
  for p in /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

if ! bin="$(find_mosquitto)"; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mosquitto >/dev/null
    bin="$(find_mosquitto)"
  else
    echo "mosquitto.sh: mosquitto is not installed and apt-get is unavailable" >&2
    exit 1
  fi
fi

# The package enables a system broker on :1883; the tests do not need it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
fi

export MOSQUITTO_BIN="$bin"
echo "mosquitto for the sync tests: $MOSQUITTO_BIN ($("$MOSQUITTO_BIN" -h 2>&1 | head -n1))"
