#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-namespace, image temporalio/admin-tools): waits
# until the Temporal frontend serves, creates the namespace if it is missing and registers the
# search attributes FeedbackWorkflow uses. Safe to run on every `docker compose up`: existing ones
# are left alone. The list below must match src/domain/workflow.ts (test/deploy checks it).
set -eu

SEARCH_ATTRIBUTES="MemberId:Int FeedbackStage:Keyword FeedbackSource:Keyword PromptVersion:Keyword RequestSignature:Keyword PromptTokens:Int CompletionTokens:Int"

address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-120h}"

# Dial the IPv4 address: the frontend listens on 0.0.0.0 only, and the service name may also
# resolve to an IPv6 address first.
host="${address%:*}"
port="${address##*:}"
ip="$(getent ahostsv4 "$host" | awk 'NR == 1 { print $1 }' || true)"
target="${ip:-$host}:$port"

# shellcheck source=retry.sh
. "$(dirname "$0")/retry.sh"

echo "waiting for Temporal at $target"
retry 90 temporal operator cluster health --address "$target" >/dev/null

if temporal operator namespace describe --address "$target" --namespace "$namespace" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  temporal operator namespace create --address "$target" --namespace "$namespace" --retention "$retention"
  echo "namespace $namespace created (retention $retention)"
fi

registered() {
  temporal operator search-attribute list --address "$target" --namespace "$namespace" | grep -qw "$1"
}

for pair in $SEARCH_ATTRIBUTES; do
  name="${pair%%:*}"
  type="${pair##*:}"
  if registered "$name"; then
    echo "search attribute $name exists"
  else
    # A namespace created a moment ago may not be visible to every frontend yet: retry.
    retry 15 temporal operator search-attribute create --address "$target" --namespace "$namespace" \
      --name "$name" --type "$type"
    echo "search attribute $name ($type) registered"
  fi
done

for pair in $SEARCH_ATTRIBUTES; do
  retry 15 registered "${pair%%:*}"
done
echo "namespace $namespace ready"
