#!/usr/bin/env bash
# Failover of Vigil and etcd side by side, in one run, on this machine: three nodes each, peer TLS on both,
# default durability on both; N rounds of kill -9 of the leader, timing the next write acknowledged by a
# survivor (cluster/loadgen.py failover, one client). Throughput is cluster/bench.sh's (wrk).
#   usage: cluster/failover-bench.sh [--rounds N] [--only etcd|vigil] [--build release|debug]
#   VIGIL_BINARY=path uses that vigil instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK="$ROOT/cluster/local/failover-bench"
ROUNDS=10
ONLY=""
BUILD=release
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --build) BUILD="$2"; shift 2 ;;
        *) echo "unknown argument: $1 (expected --rounds N, --only etcd|vigil, --build release|debug)" >&2; exit 2 ;;
    esac
done

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
PIDS=()
cleanup() { for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

need() {
    local missing=()
    for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Waits (bounded) until a command succeeds.
wait_for() {
    local what="$1" limit_seconds="$2"; shift 2
    local deadline=$(( $(date +%s) + limit_seconds ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || { log "timed out waiting for $what"; return 1; }
        sleep 0.2
    done
}

# ---------------------------------------------------------------- etcd
ETCD_CLIENT_PORTS=(23791 23792 23793)
ETCD_PEER_PORTS=(23801 23802 23803)
declare -A ETCD_PID

etcd_certs() {
    local dir="$WORK/etcd/pki"
    [ -f "$dir/ca.pem" ] && return 0
    mkdir -p "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=bench-etcd-ca" \
        -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" 2>/dev/null
    for n in 1 2 3; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=etcd$n" \
            -keyout "$dir/etcd$n-key.pem" -out "$dir/etcd$n.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$dir/etcd$n.ext"
        openssl x509 -req -in "$dir/etcd$n.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
            -days 30 -extfile "$dir/etcd$n.ext" -out "$dir/etcd$n.pem" 2>/dev/null
    done
}

etcd_start() {
    local n="$1" i=$(( $1 - 1 ))
    local cluster="etcd1=https://127.0.0.1:${ETCD_PEER_PORTS[0]},etcd2=https://127.0.0.1:${ETCD_PEER_PORTS[1]},etcd3=https://127.0.0.1:${ETCD_PEER_PORTS[2]}"
    local pki="$WORK/etcd/pki"
    etcd --name "etcd$n" --data-dir "$WORK/etcd/data$n" \
        --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[$i]}" --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT_PORTS[$i]}" \
        --listen-peer-urls "https://127.0.0.1:${ETCD_PEER_PORTS[$i]}" --initial-advertise-peer-urls "https://127.0.0.1:${ETCD_PEER_PORTS[$i]}" \
        --initial-cluster "$cluster" --initial-cluster-state "${2:-new}" --initial-cluster-token vigil-bench \
        --peer-client-cert-auth --peer-trusted-ca-file "$pki/ca.pem" \
        --peer-cert-file "$pki/etcd$n.pem" --peer-key-file "$pki/etcd$n-key.pem" \
        >"$WORK/etcd/etcd$n.log" 2>&1 &
    ETCD_PID[$n]=$!
    PIDS+=($!)
    disown
}

etcd_endpoints() { local out=(); for p in "${ETCD_CLIENT_PORTS[@]}"; do out+=("http://127.0.0.1:$p"); done; (IFS=,; echo "${out[*]}"); }

etcd_leader() {
    # Prints the member number (1-3) of the current leader.
    for n in 1 2 3; do
        local status
        status=$(curl -s -m 1 -X POST "http://127.0.0.1:${ETCD_CLIENT_PORTS[$((n-1))]}/v3/maintenance/status" -d '{}' 2>/dev/null) || continue
        python3 - "$status" "$n" <<'PY' && return 0
import json, sys
s = json.loads(sys.argv[1]); n = sys.argv[2]
if s.get("leader") and s["leader"] == s.get("header", {}).get("member_id"): print(n); sys.exit(0)
sys.exit(1)
PY
    done
    return 1
}

run_etcd() {
    need etcd-server curl openssl
    rm -rf "$WORK/etcd/data"*; mkdir -p "$WORK/etcd"
    etcd_certs
    for n in 1 2 3; do etcd_start "$n"; done
    wait_for "an etcd leader" 30 etcd_leader
    log "etcd leader is etcd$(etcd_leader)"
    ETCD_FAILOVER=()
    for round in $(seq 1 "$ROUNDS"); do
        local leader; leader=$(etcd_leader)
        local others=(); for n in 1 2 3; do [ "$n" = "$leader" ] || others+=("http://127.0.0.1:${ETCD_CLIENT_PORTS[$((n-1))]}"); done
        pkill -9 -f -- "--name etcd$leader " || true
        ETCD_FAILOVER+=("$(python3 "$ROOT/cluster/loadgen.py" failover --kind etcd --endpoints "$(IFS=,; echo "${others[*]}")" --seconds 30)")
        etcd_start "$leader" existing
        wait_for "etcd$leader to rejoin" 30 curl -sf -m 1 "http://127.0.0.1:${ETCD_CLIENT_PORTS[$((leader-1))]}/health"
        sleep 1
        log "etcd failover round $round: ${ETCD_FAILOVER[-1]}"
    done
    for n in 1 2 3; do kill -9 "${ETCD_PID[$n]}" 2>/dev/null || true; done
}

# ---------------------------------------------------------------- Vigil
VIGIL_BASE_PORT=24100
declare -A VIGIL_PID

vigil_start() {
    local n="$1"
    "$VIGIL" start --config "$WORK/vigil/node$n/vigil.yaml" >"$WORK/vigil/node$n.log" 2>&1 &
    VIGIL_PID[$n]=$!
    PIDS+=($!)
    disown
}

vigil_http() { python3 - "$WORK/vigil/node$1/vigil.yaml" <<'PY'
import sys, re
text = open(sys.argv[1]).read()
m = re.search(r'http[A-Za-z_]*:\s*"?(?:https?://)?([0-9.]+:[0-9]+)', text)
print("http://" + m.group(1))
PY
}

vigil_leader() {
    for n in 1 2 3; do
        local view
        view=$(curl -s -m 1 "$(vigil_http "$n")/api/v1/cluster" 2>/dev/null) || continue
        python3 - "$view" "$n" <<'PY' && return 0
import json, sys
v = json.loads(sys.argv[1]); n = sys.argv[2]
if v.get("role") == "leader": print(n); sys.exit(0)
sys.exit(1)
PY
    done
    return 1
}

run_vigil() {
    need curl
    log "building vigil ($BUILD)"
    if [ -n "${VIGIL_BINARY:-}" ]; then
        VIGIL="$VIGIL_BINARY"   # a binary built elsewhere, e.g. with --scratch-path
    else
        swift build -c "$BUILD" --product vigil >&2
        VIGIL="$(swift build -c "$BUILD" --show-bin-path)/vigil"
    fi
    rm -rf "$WORK/vigil"
    # Plain HTTP on the client API, as etcd's client URLs here: both compare consensus and storage, not TLS.
    "$VIGIL" init --nodes 3 --dir "$WORK/vigil" --host 127.0.0.1 --base-port "$VIGIL_BASE_PORT" --plain-http >&2
    for n in 1 2 3; do vigil_start "$n"; done
    wait_for "a Vigil leader" 30 vigil_leader
    VIGIL_FAILOVER=()
    for round in $(seq 1 "$ROUNDS"); do
        local leader; leader=$(vigil_leader)
        local others=(); for n in 1 2 3; do [ "$n" = "$leader" ] || others+=("$(vigil_http "$n")"); done
        # Kill by config path: exactly the process serving that node, whatever started it.
        pkill -9 -f -- "$WORK/vigil/node$leader/vigil.yaml" || true
        VIGIL_FAILOVER+=("$(python3 "$ROOT/cluster/loadgen.py" failover --kind vigil --token-file "$WORK/vigil/admin.token" --endpoints "$(IFS=,; echo "${others[*]}")" --seconds 30)")
        vigil_start "$leader"
        wait_for "node$leader to rejoin" 30 curl -sf -m 1 "$(vigil_http "$leader")/readyz"
        sleep 1
        log "vigil failover round $round: ${VIGIL_FAILOVER[-1]}"
    done
    for n in 1 2 3; do kill -9 "${VIGIL_PID[$n]}" 2>/dev/null || true; done
}

summarize() {
    python3 - "$@" <<'PY'
import json, statistics, sys
args = sys.argv[1:]
fail = {"etcd": [], "vigil": []}
for line in args:
    if line:
        r = json.loads(line); fail[r["system"]].append(r["seconds"])
for system, values in fail.items():
    done = [x for x in values if x is not None]
    if values:
        print(f"{system} failover (kill -9 leader → next acknowledged write), {len(values)} rounds: "
              f"median {statistics.median(done) if done else float('nan'):.3f} s, worst {max(done) if done else float('nan'):.3f} s, failed {len(values) - len(done)}")
PY
}

mkdir -p "$WORK"
ETCD_FAILOVER=(); VIGIL_FAILOVER=()
[ "$ONLY" = "vigil" ] || run_etcd
[ "$ONLY" = "etcd" ] || run_vigil
summarize "${ETCD_FAILOVER[@]:-}" "${VIGIL_FAILOVER[@]:-}"
