#!/usr/bin/env bash
# Brings up a local 3-node Vigil cluster on 127.0.0.1 (mutual TLS between peers), state under cluster/local/.
# Usage: cluster/up.sh [release|debug]   (default: debug; VIGIL_BASE_PORT overrides the base port 7000)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
local_dir="$root/cluster/local"
configuration="${1:-debug}"
base_port="${VIGIL_BASE_PORT:-7000}"
nodes=3

case "$configuration" in debug|release) ;; *) echo "usage: $0 [debug|release]" >&2; exit 2 ;; esac

# SwiftPM rebuilds only what changed, so this is cheap when the binary is current; a first build of all
# dependencies takes about 10 minutes (debug) or 17 (release) on 2 cores: its progress lines are shown.
echo "==> building vigil ($configuration); the first build of the dependencies takes 10-17 minutes on 2 cores"
swift build -c "$configuration" --product vigil 2>&1 | grep --line-buffered -E '^\[[0-9]+/[0-9]+\]|error:|warning: unable|Compiling vigil|Build complete' | awk '
  /^\[[0-9]+\/[0-9]+\]/ { n++; if (n % 25 != 1) next } { print; fflush() }'
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then echo "build failed (exit $status)" >&2; exit "$status"; fi
bin="$(swift build -c "$configuration" --show-bin-path)/vigil"

mkdir -p "$local_dir"
if [ ! -f "$local_dir/node1/vigil.yaml" ]; then
  echo "==> vigil init into $local_dir"
  "$bin" init --nodes "$nodes" --dir "$local_dir" --host 127.0.0.1 --base-port "$base_port"
  # Customers' e-mail: node i takes SMTP on base+200+i for support@example.com (the example's `web` service).
  for i in $(seq 1 "$nodes"); do
    cat >>"$local_dir/node$i/vigil.yaml" <<YAML
intake:
  smtp:
    listen: 127.0.0.1:$((base_port + 200 + i))
    mailboxes:
      - {address: support@example.com, service: web, kind: consultation, priority: P3}
YAML
  done
fi

for i in $(seq 1 "$nodes"); do
  pid_file="$local_dir/node$i.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "==> node$i already running (pid $(cat "$pid_file"))"
    continue
  fi
  nohup "$bin" start --config "$local_dir/node$i/vigil.yaml" >>"$local_dir/node$i.log" 2>&1 &
  echo $! >"$pid_file"
  echo "==> started node$i (pid $!), log $local_dir/node$i.log"
done

# The API addresses come from the configs, so a cluster written with another base port still works; the API is
# HTTPS with the cluster CA unless the cluster was initialised with --plain-http.
scheme=https
grep -qE '^\s+tls: false' "$local_dir/node1/vigil.yaml" && scheme=http
endpoints=$(grep -E '^\s+http:' "$local_dir/node1/vigil.yaml" | sed -E "s/.*http: *//; s/^/$scheme:\/\//" | paste -sd, -)
ca="$local_dir/ca/ca.pem"
echo "==> waiting (at most 60 s) for a leader"
deadline=$((SECONDS + 60))
leader=""
while [ $SECONDS -lt $deadline ]; do
  for url in ${endpoints//,/ }; do
    if curl -fsS --cacert "$ca" --max-time 1 "$url/readyz" >/dev/null 2>&1; then leader=yes; break; fi
  done
  [ -n "$leader" ] && break
  sleep 0.5
done
if [ -z "$leader" ]; then
  echo "no leader within 60 s; see $local_dir/node*.log" >&2
  exit 1
fi
"$bin" status --cluster-dir "$local_dir" || true
echo
echo "endpoints: $endpoints"
echo "CA:        $ca"
echo "admin token (mode 0600): $local_dir/admin.token"
echo "try:  $bin ticket list          (the CLI finds cluster/local by itself)"
echo "      curl --cacert $ca -H \"Authorization: Bearer \$(cat $local_dir/admin.token)\" ${endpoints%%,*}/api/v1/tickets"
echo "console: ${endpoints%%,*}/  (any node; sign in after: printf '%s\\n' 'a password' | $bin person set-password <person id>)"
echo "stop: cluster/down.sh"
