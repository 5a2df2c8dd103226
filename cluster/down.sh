#!/usr/bin/env bash
# Stops the nodes that cluster/up.sh started: exactly the pids in cluster/local/node*.pid (SIGTERM, then
# SIGKILL after 10 s for any that did not exit).
set -uo pipefail
local_dir="$(cd "$(dirname "$0")" && pwd)/local"
shopt -s nullglob
pids=()
for pid_file in "$local_dir"/node*.pid; do
  pid=$(cat "$pid_file")
  # Only a vigil process: a stale pid file must not kill whatever reused the number.
  if kill -0 "$pid" 2>/dev/null && grep -q vigil "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" && pids+=("$pid") && echo "sent SIGTERM to $(basename "$pid_file" .pid) (pid $pid)"
  fi
  rm -f "$pid_file"
done
for _ in $(seq 1 100); do
  alive=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
  [ ${#alive[@]} -eq 0 ] && { echo "all stopped"; exit 0; }
  sleep 0.1
done
for pid in "${alive[@]}"; do echo "pid $pid did not stop in 10 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null; done
