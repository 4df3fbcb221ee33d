#!/usr/bin/env bash
# Runs the C examples against each other: the server, a WebSocket client that
# chats, and an SSE client that reads ticks. Usage: c_examples.sh SERVER CLIENT
set -euo pipefail
server=$1 client=$2
out=$(mktemp)
"$server" --port 0 --seconds 20 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(awk '/listening on/ {print $3}' "$out")
[ -n "$port" ] || { echo "server did not start"; cat "$out"; exit 1; }
ws=$("$client" "ws://127.0.0.1:$port/?channel=chat" --say "hi there" --count 1)
echo "$ws"
grep -q "hi there" <<<"$ws"
sse=$("$client" "http://127.0.0.1:$port/?channel=ticks" --count 2)
echo "$sse"
[ "$(grep -c '^tick: {"tick":' <<<"$sse")" = 2 ]
kill -TERM $pid
wait $pid
grep -q "close" "$out"
echo "c examples: 3 passed, 0 failed"
