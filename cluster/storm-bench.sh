#!/usr/bin/env bash
# An alert storm on a release build (see cluster/storm_bench.py): PagerDuty triggers from wrk, half new alerts and
# half dedup updates; prints events/s, latency, CPU, and checks every accepted event is in the state.
#   usage: cluster/storm-bench.sh [--seconds 20] [--clients 64] [--target follower|leader]
#   VIGIL_BINARY=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
work="$PWD/cluster/local/storm-bench"
rm -rf "$work"
exec python3 cluster/storm_bench.py "$VIGIL_BINARY" "$work" "$@"
