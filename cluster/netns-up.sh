#!/usr/bin/env bash
# A cluster as on separate machines, on this one: each node in its own network namespace with its own address,
# plus a client namespace, all joined by a bridge in a namespace of its own. Nothing is added to the host's
# namespace and there is no route out, so no packet leaves this machine. Needs root (ip netns).
#   usage: cluster/netns-up.sh [--nodes 3|5] [--prefix vigil] [--subnet 10.213.0] [--data-tmpfs-mb N] [--check]
#   VIGIL_BINARY=path uses that vigil instead of building a debug one.
#   --data-tmpfs-mb N: each node's data directory on a tmpfs of N MiB of its own (the drills fill it up).
#   --check: write through a follower from the client namespace, kill -9 the leader, write again, tear down.
# Namespaces: PREFIX-sw (the bridge), PREFIX-n1..N (node N at SUBNET.N, peer port 7001, API 7101),
# PREFIX-client (SUBNET.100). Run a command as a client: ip netns exec PREFIX-client vigil status --cluster-dir DIR
# Stop: cluster/netns-down.sh [--prefix vigil]
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=3 prefix=vigil subnet=10.213.0 check=no tmpfs_mb=
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --subnet) subnet=$2; shift 2 ;;
    --data-tmpfs-mb) tmpfs_mb=$2; shift 2 ;;
    --check) check=yes; shift ;;
    *) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
case "$nodes" in 1|3|5|7) ;; *) echo "--nodes: $nodes is not 1, 3, 5 or 7" >&2; exit 2 ;; esac
[[ "$prefix" =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "--prefix: '$prefix' must be 1-8 lowercase letters and digits" >&2; exit 2; }
[[ "$subnet" =~ ^(10|192\.168|172\.(1[6-9]|2[0-9]|3[01]))(\.[0-9]{1,3}){1,2}$ ]] && [ "$(tr -cd . <<<"$subnet" | wc -c)" -eq 2 ] ||
  { echo "--subnet: '$subnet' must be the first three octets of a private /24 (e.g. 10.213.0)" >&2; exit 2; }
[ -z "$tmpfs_mb" ] || { [[ "$tmpfs_mb" =~ ^[0-9]+$ ]] && [ "$tmpfs_mb" -ge 8 ] && [ "$tmpfs_mb" -le 4096 ]; } ||
  { echo "--data-tmpfs-mb: '$tmpfs_mb' is not 8…4096" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root for ip netns (run with sudo)" >&2; exit 2; }
command -v ip >/dev/null || { echo "needs iproute2 (apt-get install iproute2)" >&2; exit 2; }
ip netns list | grep -q "^$prefix-sw\b" && { echo "namespaces $prefix-* exist already; cluster/netns-down.sh --prefix $prefix first" >&2; exit 2; }

root=$(pwd)
dir="$root/cluster/local/netns-$prefix"
if [ -z "${VIGIL_BINARY:-}" ]; then
  swift build --product vigil 2>&1 | grep -E 'error:|Build complete' || true
  VIGIL_BINARY="$(swift build --show-bin-path)/vigil"
fi
[ -x "$VIGIL_BINARY" ] || { echo "no vigil at $VIGIL_BINARY" >&2; exit 2; }
# A data tmpfs left mounted by a run that was cut short would survive the rm below.
grep -o " $dir/cluster/node[0-9]*/data " /proc/mounts | xargs -r -n1 umount 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir"
# A private copy: the nodes must not hold the build's binary open while it is relinked.
cp "$VIGIL_BINARY" "$dir/vigil"
bin="$dir/vigil"

echo "==> namespaces $prefix-sw (bridge), $prefix-n1..$nodes, $prefix-client on $subnet.0/24"
ip netns add "$prefix-sw"
ip -n "$prefix-sw" link set lo up
ip -n "$prefix-sw" link add br0 type bridge
ip -n "$prefix-sw" link set br0 up
attach() { # namespace, address
  local ns=$1 address=$2 port="p${1##*-}"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$port" netns "$prefix-sw" type veth peer name eth0 netns "$ns"
  ip -n "$prefix-sw" link set "$port" master br0 up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
}
members=()
for i in $(seq 1 "$nodes"); do
  attach "$prefix-n$i" "$subnet.$i"
  members+=(--member "$i=$subnet.$i:7001:7101")
done
attach "$prefix-client" "$subnet.100"

"$bin" init --dir "$dir/cluster" "${members[@]}" >/dev/null
if [ -n "$tmpfs_mb" ]; then
  for i in $(seq 1 "$nodes"); do
    mkdir -p "$dir/cluster/node$i/data"
    mount -t tmpfs -o "size=${tmpfs_mb}m,mode=0700" "vigil-$prefix-n$i" "$dir/cluster/node$i/data"
  done
fi
for i in $(seq 1 "$nodes"); do
  ip netns exec "$prefix-n$i" "$bin" start --config "$dir/cluster/node$i/vigil.yaml" >"$dir/node$i.log" 2>&1 &
  echo $! >"$dir/node$i.pid"
done
client() { ip netns exec "$prefix-client" "$@"; }
echo "==> waiting (at most 60 s) for a leader"
for _ in $(seq 1 120); do
  client curl -sf --max-time 1 --cacert "$dir/cluster/ca/ca.pem" "https://$subnet.1:7101/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
client "$bin" status --cluster-dir "$dir/cluster"
echo "client: ip netns exec $prefix-client $bin status --cluster-dir $dir/cluster"
echo "stop:   cluster/netns-down.sh --prefix $prefix"

[ "$check" = yes ] || exit 0
echo "==> check: a write through a follower, the leader killed, a write again"
view=$(client curl -sf --cacert "$dir/cluster/ca/ca.pem" "https://$subnet.1:7101/api/v1/cluster")
leader=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["leader"])' "$view")
follower=$(( leader % nodes + 1 ))
put() { client curl -sf --max-time 5 --cacert "$dir/cluster/ca/ca.pem" -H "Authorization: Bearer $(cat "$dir/cluster/admin.token")" \
  -H 'Content-Type: application/json' -X PUT -d "{\"value\":\"$2\"}" "https://$subnet.$1:7101/api/v1/settings/netns-check"; }
put "$follower" before >/dev/null || { echo "FAILED: write through node $follower" >&2; "$root/cluster/netns-down.sh" --prefix "$prefix"; exit 1; }
kill -9 "$(cat "$dir/node$leader.pid")"
ok=no
for _ in $(seq 1 100); do
  if put "$follower" after >/dev/null 2>&1; then ok=yes; break; fi
  sleep 0.1
done
"$root/cluster/netns-down.sh" --prefix "$prefix"
[ "$ok" = yes ] || { echo "FAILED: no write within 10 s after the leader (node $leader) was killed" >&2; exit 1; }
echo "netns check passed: node $follower took writes before and after node $leader was killed"
