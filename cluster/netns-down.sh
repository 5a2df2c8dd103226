#!/usr/bin/env bash
# Stops the nodes of cluster/netns-up.sh and deletes its namespaces (which removes their veth pairs and bridge).
#   usage: cluster/netns-down.sh [--prefix vigil]
set -uo pipefail
cd "$(dirname "$0")/.."
prefix=vigil
[ "${1:-}" = --prefix ] && prefix=$2
dir="$(pwd)/cluster/local/netns-$prefix"
shopt -s nullglob
for pid_file in "$dir"/node*.pid; do
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null && grep -q vigil "/proc/$pid/cmdline" 2>/dev/null; then kill -TERM "$pid"; fi
done
for _ in $(seq 1 50); do
  alive=0
  for pid_file in "$dir"/node*.pid; do kill -0 "$(cat "$pid_file")" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 0.1
done
for pid_file in "$dir"/node*.pid; do kill -KILL "$(cat "$pid_file")" 2>/dev/null; rm -f "$pid_file"; done
# Data directories on a tmpfs of their own (netns-up.sh --data-tmpfs-mb).
grep -o " $dir/cluster/node[0-9]*/data " /proc/mounts | xargs -r -n1 umount && echo "unmounted the nodes' data tmpfs" || true
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-(sw|client|n[0-9]+)$"); do
  ip netns del "$ns" && echo "deleted namespace $ns"
done
