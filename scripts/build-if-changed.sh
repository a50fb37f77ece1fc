#!/usr/bin/env bash
# `npm run build` unless dist/ was built from exactly these sources: the hash of everything the build
# reads (the TypeScript under src/, dev/ and scripts/, the tsconfig files, the lockfile) is kept in
# dist/.build-inputs.sha after a build that succeeded. `npm start`, the chaos run, the bench and the fuzz
# run call this, so that starting again (or the test that starts `npm start` three times) skips the
# half-minute build, and a run never rewrites dist/ under processes of another run that use it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAMP=dist/.build-inputs.sha

inputs_hash() {
  {
    find src dev scripts -type f -name '*.ts' -print0 | sort -z | xargs -0 sha256sum
    sha256sum tsconfig.json tsconfig.build.json package-lock.json
  } | sha256sum | cut -d' ' -f1
}

want="$(inputs_hash)"
if [ -f dist/workflow-bundle.js ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  echo "[build] dist/ is up to date" >&2
  exit 0
fi
rm -f "$STAMP"
npm run --silent build >&2
echo "$want" > "$STAMP"
