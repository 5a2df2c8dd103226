#!/usr/bin/env bash
# A growing backlog on a release build: a 3-node cluster (peer TLS, plain-HTTP API) with deploy/examples/oncall.yaml
# applied takes P3 consultations on service `web` from wrk (C, Lua script; installed with apt when missing) with N
# connections until it holds up to --tickets open tickets. At each 10 % step it prints registrations/s and write
# latency (wrk's), each node's CPU over 20 idle seconds, resident memory, the first-page list and report times,
# and the term changes so far; then wrk's own CPU use, to show the load generator is not the bottleneck.
# The default SLA policy is replaced by short P3 targets (first response --sla-seconds, default 60 s; resolution
# ten times that), so warnings and breaches fall due throughout the run, as on a desk that is behind.
#   usage: cluster/scale-bench.sh [--tickets 100000] [--connections 16] [--idle-seconds 20] [--sla-seconds 60]
#   VIGIL_BINARY=path uses that vigil instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
if ! command -v wrk >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
exec python3 cluster/scale_bench.py "$VIGIL_BINARY" "$PWD/cluster/local/scale-bench" "$@"
