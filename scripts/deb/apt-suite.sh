#!/usr/bin/env bash
# Staged updates (docs/fleet.md): the apt repository has two suites, canary and
# stable. A release tag is published to canary only; a build reaches stable
# only through `promote`, which copies the very packages canary carries (same
# bytes, every architecture) - it never rebuilds.
#
#   apt-suite.sh publish <repo-dir> <suite> <deb>...   add .debs to a suite (Jenkins: canary on tags)
#   apt-suite.sh promote <repo-dir> <version>          copy room-agent <version> from canary to stable
#   apt-suite.sh show    <repo-dir> <suite>            print "<arch> <version>" of room-agent in a suite
#
# Needs reprepro; <repo-dir>/conf/distributions declares Codename: canary and
# Codename: stable (docs/install.md, "Repository").
set -euo pipefail
PKG=room-agent
die() { echo "apt-suite: $*" >&2; exit 1; }
# reprepro lists "suite|component|arch: package version"; this keeps "arch version".
arch_version() { awk '{sub(/:$/, "", $1); n = split($1, p, "|"); print p[n], $3}' | sort; }
command -v reprepro >/dev/null 2>&1 || die "reprepro not found (Debian package reprepro)"

cmd="${1:-}"; shift || true
case "$cmd" in
  publish)
    [ $# -ge 3 ] || die "usage: publish <repo-dir> <suite> <deb>..."
    repo="$1"; suite="$2"; shift 2
    case "$suite" in canary|stable) ;; *) die "suite must be canary or stable, not '$suite'";; esac
    for deb in "$@"; do
      [ -f "$deb" ] || die "no such .deb: $deb"
      reprepro -b "$repo" includedeb "$suite" "$deb"
    done
    ;;
  promote)
    [ $# -eq 2 ] || die "usage: promote <repo-dir> <version>"
    repo="$1"; version="$(printf '%s' "$2" | tr -d '[:space:]')"
    [[ "$version" =~ ^[0-9A-Za-z.+~:-]+$ ]] || die "not a Debian version: '$version'"
    filter="Package (== $PKG), Version (== $version)"
    in_canary="$(reprepro -b "$repo" listfilter canary "$filter")"
    [ -n "$in_canary" ] || die "$PKG $version is not in canary (canary has: $(reprepro -b "$repo" list canary "$PKG" | arch_version | paste -sd, -)); only a build canary ran can be promoted"
    reprepro -b "$repo" copyfilter stable canary "$filter"
    # Every architecture canary had must now be in stable at that version.
    want="$(printf '%s\n' "$in_canary" | arch_version)"
    got="$(reprepro -b "$repo" listfilter stable "$filter" | arch_version)"
    [ "$want" = "$got" ] || die "promotion incomplete: canary has [$want], stable has [$got]"
    echo "promoted $PKG $version to stable:"
    printf '%s\n' "$got"
    ;;
  show)
    [ $# -eq 2 ] || die "usage: show <repo-dir> <suite>"
    reprepro -b "$1" list "$2" "$PKG" | arch_version
    ;;
  *) die "usage: apt-suite.sh publish|promote|show ... (see the header)";;
esac
