#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what the tests need when it is missing,
# builds once, runs every test, then the deterministic simulator over thousands of seeds.
# Bounded: each simulator batch has a wall-clock limit, so a slow machine shortens it instead of hanging.
set -euo pipefail
cd "$(dirname "$0")/.."

SIM_SEEDS="${VIGIL_SIM_SEEDS:-2000}"
SIM_TIME_LIMIT_SECONDS="${VIGIL_SIM_TIME_LIMIT_SECONDS:-420}"
NODESIM_SEEDS="${VIGIL_NODESIM_SEEDS:-2000}"

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

need_debian_packages() {
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        step "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

command -v swift >/dev/null || { echo "swift is not on PATH (expected Swift 6.x, e.g. /opt/swift/usr/bin)" >&2; exit 2; }
# libsqlite3-dev: GRDB links the system SQLite; strace: the storage test counts fdatasync calls per acknowledged write;
# prometheus-alertmanager: the intake test runs the real Alertmanager and amtool against a cluster;
# openssl: the webhook signature test checks our HMAC against `openssl dgst`; systemd: `systemd-analyze verify` checks deploy/systemd; iproute2: cluster/netns-up.sh;
# iptables: the drills cut and slow nodes inside their namespaces (chaos/run.sh).
# chromium, chromium-driver, fonts-noto-cjk: the console's tests drive a real browser (Tests/console/run.sh).
need_debian_packages libsqlite3-dev strace prometheus-alertmanager openssl systemd iproute2 iptables chromium chromium-driver fonts-noto-cjk
[ -x /usr/bin/prometheus-alertmanager ] && [ -x /usr/bin/amtool ] || { echo "prometheus-alertmanager is installed but /usr/bin/prometheus-alertmanager or /usr/bin/amtool is missing" >&2; exit 2; }

# aiosmtpd: PagingTests run a real SMTP server on 127.0.0.1 (pip: the python3 on PATH may not be Debian's).
python3 -c 'import aiosmtpd' 2>/dev/null || { step "installing aiosmtpd"; python3 -m pip install -q aiosmtpd==1.4.6; }

step "debug build of everything, tests included"
swift build --build-tests

step "unit, property and simulation tests"
swift test --skip-build --skip VigilNodeTests --skip ClusterTransportTests --skip PagingTests

# Channels against real receivers with 300 ms timeouts and subprocesses: alone (5 s), because CPU-bound suites on
# Swift Testing's two cooperative threads delayed a timeout past a 30 s `sleep` and an aiosmtpd start past 20 s
# once the MIME parser's tests ran beside them.
step "paging channel tests (real receivers, timeouts)"
swift test --skip-build --filter PagingTests

# Real TLS sockets with reconnect timers: alone, so the parallel suites above cannot starve their handshakes
# (two CI runs saw a first connection take over 10 s while everything else ran beside it).
step "peer transport tests (mutual TLS on loopback)"
swift test --skip-build --filter ClusterTransportTests

# Real vigil processes on 127.0.0.1 time failovers, so they run alone rather than beside the simulator.
step "real-process node tests"
swift test --skip-build --filter VigilNodeTests

# The OpenAPI document against a live 3-node cluster: spec validation, routes both ways, roles, and
# schemathesis on a follower (installs openapi-spec-validator, schemathesis and pytest with pip when missing).
step "OpenAPI document against a live cluster"
bash Tests/openapi/run.sh .build/debug/vigil

# The console in headless Chromium through WebDriver against a live 3-node cluster (installs selenium with pip).
step "the console in a real browser (Tests/console/run.sh)"
bash Tests/console/run.sh .build/debug/vigil

# Customers' e-mail: smtplib sends real mail (plain, STARTTLS, GBK, HTML) to a live 3-node cluster; a kill -9 of the leader.
step "the SMTP intake against a live cluster (Tests/smtp/run.sh)"
bash Tests/smtp/run.sh .build/debug/vigil

# The multi-host demo: every node in its own network namespace and address (needs root; bounded).
if [ "$(id -u)" -eq 0 ] && ip netns add vigil-probe 2>/dev/null; then
    ip netns del vigil-probe
    step "nodes in network namespaces (cluster/netns-up.sh --check)"
    VIGIL_BINARY=.build/debug/vigil timeout 300 bash cluster/netns-up.sh --prefix vigilci --check
    # One drill of each scenario, alternately on 3 and 5 nodes, with the checkers' verdict (bounded: 20 s of faults
    # each), then each unsafe test knob, which the checkers must catch.
    step "failover drills in network namespaces (chaos/run.sh: 9 drills, 3 and 5 nodes)"
    VIGIL_BINARY=.build/debug/vigil timeout 900 bash chaos/run.sh --drills 9 --nodes 3,5 --duration-seconds 20 --seed 1 \
        --scenario random,leader-isolate,partition,disk-full,leader-pause,rolling-restart,node-replace,slow-disk,power-cut \
        --out .build/chaos/drills --prefix vchci
    step "unsafe test knobs, which the drills' checkers must catch"
    VIGIL_BINARY=.build/debug/vigil timeout 300 bash chaos/run.sh --drills 1 --duration-seconds 15 --scenario leader-isolate \
        --unsafe local-reads --expect-violations --out .build/chaos/unsafe-local-reads --prefix vchci
    VIGIL_BINARY=.build/debug/vigil timeout 300 bash chaos/run.sh --drills 1 --duration-seconds 15 --scenario leader-kill \
        --unsafe unfenced-pages --expect-violations --out .build/chaos/unsafe-unfenced-pages --prefix vchci
    VIGIL_BINARY=.build/debug/vigil timeout 300 bash chaos/run.sh --drills 1 --duration-seconds 15 --scenario power-cut \
        --unsafe ack-before-fsync --expect-violations --out .build/chaos/unsafe-ack-before-fsync --prefix vchci
else
    step "SKIPPED: nodes in network namespaces and failover drills (need root and ip netns)"
fi

step "release build of the simulator"
swift build -c release --product vigil-sim

for nodes in 3 5; do
    step "simulator: $SIM_SEEDS seeds, $nodes nodes"
    .build/release/vigil-sim --nodes "$nodes" --seeds "$SIM_SEEDS" --time-limit-seconds "$SIM_TIME_LIMIT_SECONDS"
done

step "simulator: faults aimed at leader changes with partial replication, 5 nodes"
.build/release/vigil-sim --nodes 5 --seeds "$SIM_SEEDS" --targeted --time-limit-seconds "$SIM_TIME_LIMIT_SECONDS"
step "simulator: commit-old-term (Figure 8) found by that random search, 5 nodes"
if .build/release/vigil-sim --nodes 5 --seeds 1000 --targeted --inject-bug commit-old-term --time-limit-seconds 120; then
    echo "commit-old-term went unnoticed by the targeted search" >&2
    exit 1
fi

# Whole nodes (Raft, the duty state machine, the paging scheduler and a faulty receiver) on simulated time, then each
# planted bug, which its checker must catch (commit-old-term is left to the Raft simulator's Figure 8 test).
step "release build of the whole-node simulator"
swift build -c release --product vigil-nodesim
for nodes in 3 5; do
    step "whole-node simulator: $NODESIM_SEEDS seeds, $nodes nodes"
    .build/release/vigil-nodesim --nodes "$nodes" --seeds "$NODESIM_SEEDS" --time-limit-seconds "$SIM_TIME_LIMIT_SECONDS"
done
step "whole-node simulator: each planted bug is caught"
for bug in send-before-intent-commits no-fencing-before-send forget-unfinished-intents outcome-recorded-twice apply-reads-wall-clock; do
    .build/release/vigil-nodesim --aggressive --bug "$bug" --seeds 400 --expect-violations --time-limit-seconds 120
done

step "core throughput (3-node in-memory cluster)"
.build/release/vigil-sim --bench --nodes 3 --bench-entries 200000 --bench-batch 64
step "all tests passed"
