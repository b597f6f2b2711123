#!/usr/bin/env bash
# Stops what start.sh started.
root=$(cd "$(dirname "$0")/../.." && pwd)
for name in moto redis; do
  pidfile="$root/.test-services/$name.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
done
