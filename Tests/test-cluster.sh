# Sourced by Tests/openapi/run.sh and Tests/console/run.sh: a 3-node TLS cluster for a test, from a private copy of
# the binary, on free loopback ports, with the example on-call configuration applied.
#
#   start_test_cluster WORK_DIR BINARY
#
# Sets `vigil` (the copy), `base` (node n answers HTTPS on base+100+n), `ca`, and appends the nodes to `pids`
# (the caller stops them). A caller that defines `configure_test_node N CONFIG_FILE` has it called for each node
# before the nodes start (the SMTP test adds its intake there; ports base+200+n and base+250 are free for it). Returns non-zero, having said why, when the cluster is not ready within 60 s.

test_cluster_api() { echo "https://127.0.0.1:$((base + 100 + $1))"; }

start_test_cluster() {
    local work=$1 binary=$2 n ready=0
    # A private copy: the nodes must not hold the build's binary open while someone relinks it.
    cp "$binary" "$work/vigil"
    vigil="$work/vigil"
    base=$(python3 - <<'PY'
import random, socket
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
for _ in range(200):
    # Below Linux's ephemeral range (32768-60999): a node restarted by a test must find its ports free, and an
    # outgoing connection can be given any port in that range.
    base = random.randrange(20000, 32400, 100)
    if all(free(base + offset) for offset in (1, 2, 3, 101, 102, 103, 201, 202, 203, 250)):
        print(base)
        break
PY
)
    [ -n "$base" ] || { echo "no free ports found" >&2; return 2; }
    printf '\n== 3-node cluster on 127.0.0.1 (peers %s-%s, API %s-%s) (%s)\n' \
        "$((base + 1))" "$((base + 3))" "$((base + 101))" "$((base + 103))" "$(date -u +%H:%M:%S)"
    "$vigil" init --nodes 3 --dir "$work/c" --base-port "$base" >/dev/null || return 1
    # A 2-core machine that also runs a browser or builds can stall a debug node for more than the default
    # 0.4-0.8 s election timeout; an election mid-test would answer 503. 3-6 s here.
    sed -i 's/^\( *election_timeout_ticks:\).*/\1 300/' "$work"/c/node*/vigil.yaml
    ca="$work/c/ca/ca.pem"
    if declare -F configure_test_node >/dev/null; then
        for n in 1 2 3; do configure_test_node "$n" "$work/c/node$n/vigil.yaml" || return 1; done
    fi
    for n in 1 2 3; do
        "$vigil" start --config "$work/c/node$n/vigil.yaml" >"$work/node$n.log" 2>&1 &
        pids+=($!)
    done
    for _ in $(seq 1 120); do
        ready=0
        for n in 1 2 3; do curl -sf --cacert "$ca" "$(test_cluster_api "$n")/readyz" >/dev/null && ready=$((ready + 1)); done
        [ "$ready" -eq 3 ] && break
        sleep 0.5
    done
    [ "$ready" -eq 3 ] || { echo "the cluster did not become ready" >&2; tail -5 "$work"/node*.log; return 1; }
    "$vigil" apply -f deploy/examples/oncall.yaml --cluster-dir "$work/c" | tail -1
}
