#!/usr/bin/env bash
# `npm run feedback -- <command>`: the operator CLI (src/cli/feedback.ts), against the local stack
# unless queue settings are in the environment (scripts/local-tool.sh).
# In the Docker image (no dev dependencies): `node dist/src/cli/feedback.js <command>`.
exec bash "$(dirname "${BASH_SOURCE[0]}")/local-tool.sh" src/cli/feedback "$@"
