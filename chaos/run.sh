#!/usr/bin/env bash
# Failover drills on this machine: per drill, a fresh cluster with every node in its own network namespace and
# address (cluster/netns-up.sh), `vigil drill` in the client namespace with a drill file whose commands kill,
# pause, restart and cut nodes (iptables inside their namespaces), then the checkers. Nothing leaves this machine:
# the namespaces have no route out. Needs root, iproute2 and iptables.
#   usage: chaos/run.sh [--drills N] [--seed S] [--nodes 3|5|3,5] [--out DIR] [--duration-seconds D]
#                       [--scenario random|leader-kill|leader-isolate|leader-pause|partition|disk-full|slow-disk|power-cut|
#                                   rolling-restart|node-replace]
#                       [--unsafe local-reads|unfenced-pages|ack-before-fsync] [--expect-violations] [--prefix vchaos]
#   VIGIL_BINARY=path uses that vigil instead of building a debug one.
#   --nodes 3,5 alternates the cluster size from drill to drill; --scenario a,b,c rotates scenarios the same way.
#   --prefix names the namespaces (PREFIX-n1…, PREFIX-client), so that two runs can go side by side.
#   --unsafe starts the nodes with a test knob that breaks a promise; with --expect-violations the run passes
#   only when the checkers report a violation (the checkers are shown to fail).
# Prints one line per drill and the summary: drills=N ok=N lost_writes=0 linearizability_violations=0 paging_violations=0
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
drills=1 seed=1 nodes_list=3 out="" duration=30 scenario=random unsafe="" expect=no prefix=vchaos
while [ $# -gt 0 ]; do
  case "$1" in
    --drills) drills=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --nodes) nodes_list=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --duration-seconds) duration=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --unsafe) unsafe=$2; shift 2 ;;
    --expect-violations) expect=yes; shift ;;
    --prefix) prefix=$2; shift 2 ;;
    *) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
[[ "$drills" =~ ^[0-9]+$ ]] && [ "$drills" -ge 1 ] && [ "$drills" -le 10000 ] || { echo "--drills: '$drills' is not 1…10000" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "--seed: '$seed' is not a number" >&2; exit 2; }
[[ "$duration" =~ ^[0-9]+$ ]] && [ "$duration" -ge 10 ] && [ "$duration" -le 3600 ] || { echo "--duration-seconds: '$duration' is not 10…3600" >&2; exit 2; }
IFS=, read -r -a scenarios <<<"$scenario"
for s in "${scenarios[@]}"; do
  case "$s" in random|leader-kill|leader-isolate|leader-pause|partition|disk-full|slow-disk|power-cut|rolling-restart|node-replace) ;;
    *) echo "--scenario: '$s' is not a scenario (see the usage at the top of $0)" >&2; exit 2 ;; esac
done
IFS=, read -r -a sizes <<<"$nodes_list"
for n in "${sizes[@]}"; do case "$n" in 3|5) ;; *) echo "--nodes: '$nodes_list' must be 3, 5 or 3,5" >&2; exit 2 ;; esac; done
case "$unsafe" in
  "") ;;
  local-reads) export VIGIL_UNSAFE_LOCAL_READS=1 ;;
  unfenced-pages) export VIGIL_UNSAFE_UNFENCED_PAGES=1 ;;
  ack-before-fsync) export VIGIL_UNSAFE_ACK_BEFORE_FSYNC=1 ;;
  *) echo "--unsafe: '$unsafe' is not local-reads, unfenced-pages or ack-before-fsync" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "needs root for ip netns and iptables (run with sudo)" >&2; exit 2; }
command -v ip >/dev/null || { echo "needs iproute2 (apt-get install iproute2)" >&2; exit 2; }
command -v iptables >/dev/null || { echo "needs iptables (apt-get install iptables)" >&2; exit 2; }
if [ -z "${VIGIL_BINARY:-}" ]; then
  swift build --product vigil 2>&1 | grep -E 'error:|Build complete' || true
  VIGIL_BINARY="$(swift build --show-bin-path)/vigil"
fi
[ -x "$VIGIL_BINARY" ] || { echo "no vigil at $VIGIL_BINARY" >&2; exit 2; }
export VIGIL_BINARY
[ -n "$out" ] || out="$root/chaos/runs/$(date -u +%Y%m%dT%H%M%SZ)-seed$seed"
mkdir -p "$out"
out=$(cd "$out" && pwd)
subnet=10.214.0
cluster="$root/cluster/local/netns-$prefix"
ip netns list | grep -q "^$prefix-" && bash cluster/netns-down.sh --prefix "$prefix" >/dev/null

# Failpoints (Sources/Paging/Failpoint.swift): the slow-disk fault writes a delay there for one node.
export VIGIL_FAILPOINT_DIR="$cluster/failpoints"
started=$(date +%s)
echo "==> $drills drill(s) of $duration s, scenario $scenario, seeds $seed…$((seed + drills - 1)), nodes $nodes_list${unsafe:+, UNSAFE $unsafe}; files in $out"
for i in $(seq 1 "$drills"); do
  drill_seed=$((seed + i - 1))
  n=${sizes[$(( (i - 1) % ${#sizes[@]} ))]}
  drill_scenario=${scenarios[$(( (i - 1) % ${#scenarios[@]} ))]}
  dir="$out/drill-$i"
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! bash cluster/netns-up.sh --nodes "$n" --prefix "$prefix" --subnet "$subnet" --data-tmpfs-mb 64 >"$dir/netns-up.log" 2>&1; then
    echo "drill $i: the cluster did not start (see $dir/netns-up.log)"
    bash cluster/netns-down.sh --prefix "$prefix" >/dev/null 2>&1 || true
    echo '{"ok": false, "error": "cluster did not start"}' >"$dir/result.json"
    continue
  fi
  {
    echo "# Drill $i (seed $drill_seed), written by chaos/run.sh: $n nodes in namespaces $prefix-n1..$n."
    echo "nodes:"
    for id in $(seq 1 "$n"); do echo "  - {id: $id, api: \"https://$subnet.$id:7101\", host: $subnet.$id, peer: \"$subnet.$id:7001\"}"; done
    echo "ca: $cluster/cluster/ca/ca.pem"
    echo "token_file: $cluster/cluster/admin.token"
    echo "sink: {listen: \"$subnet.100:9100\"}"
    echo "commands:"
    echo "  kill: kill -KILL \$(cat $cluster/node{id}.pid)"
    echo "  start: ip netns exec $prefix-n{id} $cluster/vigil start --config $cluster/cluster/node{id}/vigil.yaml >>$cluster/node{id}.log 2>&1 & echo \$! >$cluster/node{id}.pid"
    echo "  stop: pid=\$(cat $cluster/node{id}.pid); kill -TERM \$pid; for _ in \$(seq 1 150); do kill -0 \$pid 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
    echo "  pause: kill -STOP \$(cat $cluster/node{id}.pid)"
    echo "  resume: kill -CONT \$(cat $cluster/node{id}.pid)"
    echo "  isolate: for p in {peers}; do ip netns exec $prefix-n{id} iptables -A INPUT -s \$p -j DROP && ip netns exec $prefix-n{id} iptables -A OUTPUT -d \$p -j DROP || exit 1; done"
    echo "  isolate_inbound: for p in {peers}; do ip netns exec $prefix-n{id} iptables -A INPUT -s \$p -j DROP || exit 1; done"
    echo "  loss: ip netns exec $prefix-n{id} iptables -A INPUT -m statistic --mode random --probability {fraction} -j DROP"
    echo "  heal: ip netns exec $prefix-n{id} iptables -F"
    # A slow disk through the node's persist-delay failpoint (the nodes run with VIGIL_FAILPOINT_DIR set).
    echo "  slow_disk: mkdir -p $cluster/failpoints && echo {milliseconds} >$cluster/failpoints/persist-delay-ms-node{id}"
    echo "  fast_disk: rm -f $cluster/failpoints/persist-delay-ms-node{id}"
    echo "  wipe: \"rm -rf $cluster/cluster/node{id}/data/* && sed -i 's/^join: false\$/join: true/' $cluster/cluster/node{id}/vigil.yaml\""
    # The data directory is a 64 MiB tmpfs (netns-up.sh --data-tmpfs-mb): filled to the last byte, then freed; a
    # node that stopped on the full disk is started again.
    echo "  fill_disk: dd if=/dev/zero of=$cluster/cluster/node{id}/data/filler bs=1M status=none 2>/dev/null; test -s $cluster/cluster/node{id}/data/filler"
    echo "  free_disk: rm -f $cluster/cluster/node{id}/data/filler; kill -0 \$(cat $cluster/node{id}.pid) 2>/dev/null || { ip netns exec $prefix-n{id} $cluster/vigil start --config $cluster/cluster/node{id}/vigil.yaml >>$cluster/node{id}.log 2>&1 & echo \$! >$cluster/node{id}.pid; }"
  } >"$dir/drill.yaml"
  set +e
  timeout $((duration + 300)) ip netns exec "$prefix-client" "$cluster/vigil" drill --file "$dir/drill.yaml" --seed "$drill_seed" \
    --scenario "$drill_scenario" --duration-seconds "$duration" --out "$dir" >"$dir/drill.log" 2>&1
  status=$?
  set -e
  for log in "$cluster"/node*.log; do cp "$log" "$dir/" 2>/dev/null || true; done
  bash cluster/netns-down.sh --prefix "$prefix" >/dev/null 2>&1 || true
  line=$(grep '^drill: ' "$dir/drill.log" | tail -1 || true)
  if [ -z "$line" ]; then
    echo "drill $i ($drill_scenario, seed $drill_seed, $n nodes): did not finish, exit $status: $(tail -1 "$dir/drill.log")"
    [ -f "$dir/result.json" ] || echo "{\"ok\": false, \"error\": \"exit $status\"}" >"$dir/result.json"
  else
    echo "drill $i ($drill_scenario, seed $drill_seed, $n nodes): ${line#drill: }"
  fi
done

python3 - "$out" "$drills" "$(( $(date +%s) - started ))" "$expect" <<'PY'
import json, os, sys
out, drills, seconds, expect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
totals = dict(ok=0, lost_writes=0, linearizability_violations=0, paging_violations=0, command_failures=0, unfinished=0)
failovers = []
by_kind = {}
for i in range(1, drills + 1):
    try:
        result = json.load(open(os.path.join(out, f"drill-{i}", "result.json")))
    except (OSError, ValueError):
        result = {"ok": False, "error": "no result"}
    if "error" in result:
        totals["unfinished"] += 1
        continue
    totals["ok"] += 1 if result["ok"] else 0
    for key in ("lost_writes", "linearizability_violations", "paging_violations"):
        totals[key] += result[key]
    totals["command_failures"] += len(result["command_failures"])
    failovers += result["failover_ms"]
    for item in result.get("failovers", []):
        by_kind.setdefault(item["kind"], []).append(item["ms"])
failovers.sort()
median = failovers[len(failovers) // 2] if failovers else "-"
line = (f"drills={drills} ok={totals['ok']} lost_writes={totals['lost_writes']} "
        f"linearizability_violations={totals['linearizability_violations']} paging_violations={totals['paging_violations']} "
        f"unfinished={totals['unfinished']} command_failures={totals['command_failures']} "
        f"failover_ms_median={median} failover_ms_max={failovers[-1] if failovers else '-'} seconds={seconds}")
print(line)
kinds = " ".join(f"{kind}={sorted(values)[len(values) // 2]}/{max(values)}(n={len(values)})" for kind, values in sorted(by_kind.items()))
if kinds:
    print(f"time to a new leader after a fault on the leader, median/max ms by fault: {kinds}")
open(os.path.join(out, "summary.txt"), "w").write(line + "\n" + (kinds + "\n" if kinds else ""))
violations = totals["lost_writes"] + totals["linearizability_violations"] + totals["paging_violations"]
if expect == "yes":
    if violations == 0:
        print("FAILED: an unsafe knob was on and the checkers reported no violation", file=sys.stderr)
        sys.exit(1)
    print("as expected, the checkers caught the unsafe knob")
    sys.exit(0)
sys.exit(0 if totals["ok"] == drills else 1)
PY
