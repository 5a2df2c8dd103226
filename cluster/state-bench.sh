#!/usr/bin/env bash
# A node holding a large duty state, on a release build: duty-bench builds OPEN open and ARCHIVED archived
# tickets in memory and saves the snapshot; `vigil backup --from-duty-snapshot` makes it a backup file, `vigil
# restore` a 3-node cluster on 127.0.0.1. Prints the start-up time, every node's resident memory, and the time a
# new learner (node 4, empty disk) takes to catch up over loopback TLS and become a voter.
#   usage: cluster/state-bench.sh [--open 100000] [--archived 1000000]
#   VIGIL_BINARY / DUTY_BENCH_BINARY use those binaries instead of building them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
if [ -z "${DUTY_BENCH_BINARY:-}" ]; then
    swift build -c release --product duty-bench >&2
    DUTY_BENCH_BINARY="$PWD/.build/release/duty-bench"
fi
exec python3 cluster/state_bench.py "$VIGIL_BINARY" "$DUTY_BENCH_BINARY" "$PWD/cluster/local/state-bench" "$@"
