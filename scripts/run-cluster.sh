#!/usr/bin/env bash
# The demo as a cluster: a redis-server and three `ssews serve --broker` nodes sharing channels
# through it, each with the demo page (examples/web), fed by the example publisher through the
# first node. Open two tabs on different ports: chat and notifications cross nodes. Ctrl-C stops
# everything. See docs/scaling.md.
# Usage: scripts/run-cluster.sh [--nodes N] [--base-port P] [--redis-port R] [other ssews serve options]
#        defaults: 3 nodes on 8081.., Redis on 6390 (its data in build/cluster-redis/, AOF on)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=3 base=8081 rport=6390
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) nodes=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --redis-port) rport=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release -DSSEWS_BUILD_TESTS=OFF
token=${SSEWS_PUBLISH_TOKEN:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}
broker=redis://127.0.0.1:$rport
mkdir -p "$root/build/cluster-redis"

pids=()
stop() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

redis-server --port "$rport" --bind 127.0.0.1 --dir "$root/build/cluster-redis" --appendonly yes \
  --save "" --logfile "$root/build/cluster-redis/redis.log" &
pids+=($!)
for _ in $(seq 100); do  # until it answers
  redis-cli -p "$rport" ping 2>/dev/null | grep -q PONG && break
  sleep 0.1
done

for ((i = 0; i < nodes; i++)); do
  "$root/build/tools/ssews" serve --port $((base + i)) --static "$root/examples/web" --history 1000 \
    --publish-token "$token" --broker "$broker" ${args[@]+"${args[@]}"} &
  pids+=($!)
done
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$base/" && break
  sleep 0.1
done

python3 "$root/examples/python/publisher.py" --url "http://127.0.0.1:$base" --token "$token" &
pids+=($!)

cat <<MSG

  Redis on $broker, $nodes nodes:
$(for ((i = 0; i < nodes; i++)); do echo "    http://127.0.0.1:$((base + i))/"; done)
  Open two of them in two tabs: what one tab says, the other sees, across nodes.
  Publish through any node:  curl -d 'hello' -H 'Authorization: Bearer $token' 'http://127.0.0.1:$((base + nodes - 1))/publish?channel=notices&event=notice'
  Kill a node (kill -9) and reload its tab on another port: nothing is lost.
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
stop
