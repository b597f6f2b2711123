#!/usr/bin/env bash
# Starts the servers the test suite talks to, on free loopback ports, and prints the
# environment that points the tests at them:
#   eval "$(infra/test-services/start.sh)"
# - moto (DynamoDB, S3, API Gateway Management API), requests serialised, see moto_server.py
# - redis-server, no persistence
# Stop them with infra/test-services/stop.sh. Set AWS_ENDPOINT_URL / REDIS_URL yourself
# instead to run the same tests against LocalStack, a real Redis, or AWS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state="$root/.test-services"
mkdir -p "$state"

free_port() {
  "$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 1 100); do
    if "$root/.venv/bin/python" -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "service on port $1 did not start" >&2
  return 1
}

moto_port=$(free_port)
"$root/.venv/bin/python" "$root/infra/test-services/moto_server.py" --port "$moto_port" >"$state/moto.log" 2>&1 &
echo $! >"$state/moto.pid"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$state/redis.log" 2>&1 &
echo $! >"$state/redis.pid"

wait_port "$moto_port"
wait_port "$redis_port"

cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
export REDIS_URL=redis://127.0.0.1:$redis_port
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
ENV
