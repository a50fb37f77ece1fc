#!/usr/bin/env bash
# `npm run be [-- publish <memberId> <file|-> | advance <days>]`: the BE double (dev/be-double/main.ts).
# Without a command it serves (result-queue subscriber, DLQ poller, callback); `publish` sends a request as
# the BE; `advance` moves the running double's clock on (play the next week). Against the local stack
# unless queue settings are in the environment (scripts/local-tool.sh).
exec bash "$(dirname "${BASH_SOURCE[0]}")/local-tool.sh" dev/be-double/main "$@"
