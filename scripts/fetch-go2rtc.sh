#!/bin/sh
# Downloads the pinned go2rtc release for packaging (amd64 and arm64) and
# checks its SHA-256. Tests never run this; packaging does, where the network
# is available.
#
#   scripts/fetch-go2rtc.sh [--arch amd64|arm64|all] [--out DIR]
#       Download, verify against the pinned SHA-256, install as DIR/<arch>/go2rtc
#       (mode 0755). Fails, and leaves nothing behind, on any mismatch.
#   scripts/fetch-go2rtc.sh --pin
#       Maintainers only, when bumping GO2RTC_VERSION: downloads both assets,
#       prints their SHA-256 and writes them into this script. Compare the
#       printed values with a second source (e.g. a download on another
#       machine) before committing.
set -eu

GO2RTC_VERSION="v1.9.14"
# Pinned SHA-256 of the release assets (go2rtc_linux_<arch>, UPX-packed single files).
SHA256_amd64=""
SHA256_arm64=""

BASE_URL="https://github.com/AlexxIT/go2rtc/releases/download/${GO2RTC_VERSION}"
SCRIPT="$0"
ARCHES="amd64 arm64"
OUT="dist/go2rtc"
PIN=0

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) shift; [ "$1" = all ] || ARCHES="$1" ;;
    --out) shift; OUT="$1" ;;
    --pin) PIN=1 ;;
    -h|--help) sed -n '2,15p' "$SCRIPT"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

sha256() { sha256sum "$1" | cut -d' ' -f1; }

fetch() { # url dest
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

if [ "$PIN" = 1 ]; then
  for arch in amd64 arm64; do
    fetch "${BASE_URL}/go2rtc_linux_${arch}" "$TMP/go2rtc_linux_${arch}"
    sum=$(sha256 "$TMP/go2rtc_linux_${arch}")
    echo "go2rtc ${GO2RTC_VERSION} linux_${arch}: ${sum}"
    sed -i "s/^SHA256_${arch}=.*/SHA256_${arch}=\"${sum}\"/" "$SCRIPT"
  done
  echo "pinned in ${SCRIPT}; verify the values from a second source before committing"
  exit 0
fi

for arch in $ARCHES; do
  case "$arch" in
    amd64) want="$SHA256_amd64" ;;
    arm64) want="$SHA256_arm64" ;;
    *) echo "unsupported arch: $arch (amd64 or arm64)" >&2; exit 2 ;;
  esac
  if [ -z "$want" ]; then
    echo "no SHA-256 pinned for go2rtc ${GO2RTC_VERSION} linux_${arch}; run '$SCRIPT --pin' on a trusted network first" >&2
    exit 1
  fi
  asset="go2rtc_linux_${arch}"
  echo "fetching ${BASE_URL}/${asset}"
  fetch "${BASE_URL}/${asset}" "$TMP/$asset"
  got=$(sha256 "$TMP/$asset")
  if [ "$got" != "$want" ]; then
    echo "SHA-256 mismatch for ${asset}: got ${got}, pinned ${want}" >&2
    exit 1
  fi
  mkdir -p "$OUT/$arch"
  install -m 0755 "$TMP/$asset" "$OUT/$arch/go2rtc"
  echo "installed $OUT/$arch/go2rtc (go2rtc ${GO2RTC_VERSION}, sha256 ${got})"
done
