#!/usr/bin/env bash
# Installs promtool (Prometheus 2.42.0, Debian bookworm's `prometheus` package) into the git-ignored
# .tools/bin/promtool, as scripts/infra.sh installs the other tools: the .deb is downloaded with
# `apt-get download` and unpacked with `dpkg-deb -x` into a temporary directory, and only promtool is
# copied out. Nothing is installed system-wide and no Prometheus server is set up or started.
# Idempotent: does nothing when .tools/bin/promtool already reports the wanted version. Progress goes
# to stderr; stdout stays empty. The rules' unit tests (test/deploy/alerts.test.ts) run this promtool.
#
#   bash scripts/ensure-promtool.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"
PROMTOOL="$BIN/promtool"
# The upstream version is pinned, not the Debian revision: a security update of the package
# (+deb12u2, …) replaces the old .deb on the mirrors, and the same promtool must keep installing.
WANT_VERSION="2.42.0"

log() { printf "[promtool] %s\n" "$*" >&2; }

installed_version() {
  # First line: "promtool, version 2.42.0+ds (branch: …)".
  "$PROMTOOL" --version 2>&1 | sed -n '1s/^promtool, version \([0-9.]*\).*/\1/p'
}

if [ -x "$PROMTOOL" ] && [ "$(installed_version)" = "$WANT_VERSION" ]; then
  exit 0
fi
if [ -e "$PROMTOOL" ]; then
  have="$(installed_version || true)"
  log "found promtool ${have:-of an unknown version}, want $WANT_VERSION: replacing it"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/deb"
# apt fetches as its unprivileged _apt user where that user exists: it must be able to write here.
if id _apt >/dev/null 2>&1; then chmod 0755 "$work" && chown _apt "$work/deb"; fi

# The package lists may be missing (a fresh container) or stale (the mirror dropped that revision).
download() { (cd "$work/deb" && apt-get download prometheus >&2); }
log "downloading Debian's prometheus package (apt-get download)"
if ! download; then
  log "download failed; refreshing the package lists (apt-get update) and trying again"
  apt-get update >&2
  download
fi
deb="$(find "$work/deb" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)"
[ -n "$deb" ] || { log "apt-get download left no prometheus_*.deb"; exit 1; }

log "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
[ -x "$work/root/usr/bin/promtool" ] || { log "the package has no usr/bin/promtool"; exit 1; }

mkdir -p "$BIN"
# Copied under a temporary name and renamed: a concurrent caller never runs a half-written binary.
cp "$work/root/usr/bin/promtool" "$PROMTOOL.tmp.$$"
chmod 0755 "$PROMTOOL.tmp.$$"
mv -f "$PROMTOOL.tmp.$$" "$PROMTOOL"

got="$(installed_version)"
if [ "$got" != "$WANT_VERSION" ]; then
  log "installed promtool reports version '$got', want $WANT_VERSION (the package moved to another release?)"
  exit 1
fi
log "installed promtool $got into .tools/bin/promtool"
