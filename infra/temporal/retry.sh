# Sourced by the one-shot setup jobs in this folder.
# retry ATTEMPTS COMMAND...: runs COMMAND until it succeeds, 2 s apart.
retry() {
  attempts="$1"
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      echo "failed after $attempts attempts: $*" >&2
      return 1
    fi
    n=$((n + 1))
    sleep 2
  done
}
