#!/usr/bin/env bash
# Paging figures on a real 3-node cluster (see cluster/paging_bench.py): intake to first page over 1,000
# PagerDuty triggers beside the same alerts through a real Alertmanager, scheduler lateness, and page
# delay across leader kills. Prints figures; asserts nothing.
#   usage: cluster/paging-bench.sh [--alerts N] [--rounds N] [--backlog N]      VIGIL_BINARY=path skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIGIL_BINARY:-}" ]; then
    swift build -c release --product vigil >&2
    VIGIL_BINARY="$PWD/.build/release/vigil"
fi
if ! command -v prometheus-alertmanager >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
fi
exec python3 cluster/paging_bench.py "$VIGIL_BINARY" "$PWD/cluster/local/paging-bench" "$@"
