#!/usr/bin/env bash
# Large-state figures on a release build: for each state size, a 3-node cluster on 127.0.0.1 is filled with
# 64,000-byte settings while one follower is down; small writes then carry the log past the compaction point
# (timing the compaction and every write through it), and the follower restarts behind it (timing its catch-up
# by a streamed snapshot). Prints one table row per size and the load generator's own CPU use.
#   usage: cluster/snapshot-bench.sh [--sizes-mb 100,250] [--clients 8]
#   VIGIL_BINARY=path uses that vigil instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
exec python3 cluster/snapshot_bench.py "$VIGIL_BINARY" "$PWD/cluster/local/snapshot-bench" "$@"
