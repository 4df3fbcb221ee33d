#!/usr/bin/env bash
# The main job: installs what is needed, builds, and runs the demo: the hub (ssews serve with
# the web page in examples/web) on http://127.0.0.1:8080, fed by the example publisher
# (examples/python/publisher.py: a live ticker every second, a notice every five), which gets a
# fresh publish token and stops when the hub does. Ctrl-C stops both.
# Usage: scripts/run-demo.sh [--port P] [other ssews serve options]
#        PORT=P scripts/run-demo.sh          (--port wins over PORT; default 8080)
#        SSEWS_PUBLISH_TOKEN=T ...           (use this token instead of a random one)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release -DSSEWS_BUILD_TESTS=OFF

# Learn the address from the arguments (they all go to ssews serve unchanged).
port=${PORT:-8080}
host=127.0.0.1
scheme=http
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --port) port=${args[i + 1]:-$port} ;;
    --host) host=${args[i + 1]:-$host} ;;
    --tls-cert) scheme=https ;;
  esac
done
case $host in  # the publisher runs here: reach a wildcard address through loopback
  0.0.0.0 | "") local_host=127.0.0.1 ;;
  :: | "[::]") local_host="[::1]" ;;
  *:*) local_host="[$host]" ;;
  *) local_host=$host ;;
esac
url="$scheme://$local_host:$port"
token=${SSEWS_PUBLISH_TOKEN:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}

hub_pid='' pub_pid=''
stop() {
  [ -n "$pub_pid" ] && kill -TERM "$pub_pid" 2>/dev/null || true
  [ -n "$hub_pid" ] && kill -TERM "$hub_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

"$root/build/tools/ssews" serve --port "$port" --static "$root/examples/web" --history 1000 \
  --publish-token "$token" "$@" &
hub_pid=$!

# Wait until the hub answers (or has exited: then report its status).
insecure=()
[ "$scheme" = https ] && insecure=(--insecure)
for _ in $(seq 100); do
  kill -0 "$hub_pid" 2>/dev/null || break
  curl -sfk -o /dev/null "$url/" && break
  sleep 0.1
done
if ! kill -0 "$hub_pid" 2>/dev/null; then
  rc=0
  wait "$hub_pid" || rc=$?
  exit "$rc"
fi

python3 "$root/examples/python/publisher.py" --url "$url" --token "$token" "${insecure[@]}" &
pub_pid=$!

cat <<EOF

  Open $url/ in a browser (two tabs make two viewers).
  Publish yourself:  curl -d 'hello' -H 'Authorization: Bearer $token' '$url/publish?channel=notices&event=notice'
  Ctrl-C stops the hub and the publisher.

EOF

rc=0
wait "$hub_pid" || rc=$?
hub_pid=''
kill -TERM "$pub_pid" 2>/dev/null || true
wait "$pub_pid" 2>/dev/null || true
exit "$rc"
