#!/usr/bin/env bash
# `sam build` as a SAM user runs it, twice: the first builds every function (cargo-lambda,
# arm64, release), the second must reuse every one from SAM's cache. Then each artefact
# must be an arm64 executable named bootstrap. Called by `make test` (target sam-build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" SAM_CLI_TELEMETRY=0
logs="$root/.aws-sam/logs"
mkdir -p "$logs"

functions=$(grep -c "BuildMethod: rust-cargolambda" template.yaml)

build() {
  local log="$logs/$1.log" start
  start=$(date +%s)
  if ! sam build >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "sam build ($1) failed; the whole log is in $log" >&2
    exit 1
  fi
  echo "sam build ($1): $(( $(date +%s) - start )) s"
}

build first
build second
valid=$(grep -c "Valid cache found" "$logs/second.log" || true)
invalid=$(grep -c "Cache is invalid" "$logs/second.log" || true)
if [ "$valid" != "$functions" ] || [ "$invalid" != 0 ]; then
  grep -E "Valid cache found|Cache is invalid" "$logs/second.log" >&2 || true
  echo "the second sam build reused $valid of $functions functions from the cache" >&2
  exit 1
fi
echo "second sam build: all $functions functions from the cache"

for bootstrap in .aws-sam/build/*/bootstrap; do
  # ELF header: magic, then e_machine (bytes 18-19, little endian) = 0xB7 (AArch64).
  header=$(od -A n -t x1 -N 20 "$bootstrap" | tr -d ' \n')
  case "$header" in
    7f454c46*b700) printf '%-60s arm64 ELF, %s bytes\n' "$bootstrap" "$(stat -c %s "$bootstrap")" ;;
    *) echo "$bootstrap is not an arm64 executable (header $header)" >&2; exit 1 ;;
  esac
done
count=$(ls .aws-sam/build/*/bootstrap | wc -l)
[ "$count" = "$functions" ] || { echo "$count bootstraps for $functions functions" >&2; exit 1; }
