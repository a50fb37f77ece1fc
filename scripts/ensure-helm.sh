#!/usr/bin/env bash
# Installs helm v3.22.0 into .tools/bin (git-ignored) for the chart checks (test/deploy/helm.test.ts),
# once: helm has no Debian or PyPI package here, so it is compiled from the Go module proxy (several
# minutes on two cores). No prebuilt binary is downloaded. Idempotent: skips when .tools/bin/helm is
# already that version.
#
#   bash scripts/ensure-helm.sh          # then: .tools/bin/helm version
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM_MODULE=helm.sh/helm/v3
HELM_VERSION=v3.22.0
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"

log() { printf '[helm] %s\n' "$*" >&2; }

# A `go install` build reports only "v3.22" in `helm version` (the release's version string is set by
# helm's Makefile), so the exact version is read from the binary's Go build information.
installed_version() {
  [ -x "$HELM" ] || return 0
  if command -v go >/dev/null 2>&1; then
    { go version -m "$HELM" 2>/dev/null || true; } | awk -v m="$HELM_MODULE" '$1 == "mod" && $2 == m { print $3 }'
  else
    "$HELM" version --template '{{.Version}}' 2>/dev/null || true
  fi
}

current="$(installed_version)"
if [ "$current" = "$HELM_VERSION" ]; then
  log "helm $HELM_VERSION already in .tools/bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "Go is required to build helm $HELM_VERSION (go install $HELM_MODULE/cmd/helm@$HELM_VERSION)"
  exit 1
fi
log "${current:+replacing helm $current: }building helm $HELM_VERSION from the Go module proxy into .tools/bin (several minutes)"
mkdir -p "$BIN"
# go install does not overwrite a file that is not a Go binary (a broken or foreign one).
rm -f "$HELM"
started=$SECONDS
GOBIN="$BIN" go install "$HELM_MODULE/cmd/helm@$HELM_VERSION" >&2
log "built in $((SECONDS - started)) s: $("$HELM" version --short 2>/dev/null || echo '?')"
