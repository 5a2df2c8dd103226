#!/usr/bin/env bash
# Vigil and etcd side by side, in one run, on this machine, with a load generator that etcd cannot outrun: wrk
# (C, cluster/wrk/put.lua). Three members each, peer TLS on both, default durability on both, plain-HTTP client
# APIs, 256-byte values over 1,000 keys; each load goes to the leader, then to a follower, with 1, 16, 64 and 256
# connections (2 s warm-up, then --seconds). Prints writes/s, p50/p99/p99.9, CPU-seconds per 1,000 writes of each
# member, wrk's own CPU (it must stay under half a core, or the run fails), and the Vigil/etcd ratios.
# Failover timing is cluster/failover-bench.sh.
#   usage: cluster/bench.sh [--seconds 10] [--clients 1,16,64,256] [--targets leader,follower] [--only etcd|vigil]
#                           [--json FILE]
#   VIGIL_BINARY=path uses that vigil instead of building one. Installs wrk and etcd-server with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v openssl >/dev/null || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
exec python3 cluster/wrk_bench.py "$VIGIL_BINARY" "$PWD/cluster/local/bench" "$@"
