"""An alert storm on a release build (see storm-bench.sh): PagerDuty Events v2 triggers from wrk at 64 connections,
half new alerts and half dedup updates, for --seconds; then every accepted event is looked for in the state.

Three Vigil nodes on 127.0.0.1 with peer TLS and the plain-HTTP client API (wrk_bench.Vigil), the integration
key's rate limit lifted. The service's policy pages a person with no contact method, so the storm measures intake,
not channels. wrk's CPU is measured and must stay under half a core. Every loop is bounded in count and time.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wrk_bench  # noqa: E402

ROUTING_KEY = "s" * 32


def setup(vigil, leader):
    headers = {"Authorization": f"Bearer {vigil.token}"}
    steps = [
        ("PUT", "/api/v1/people/storm-oncall", {"id": "storm-oncall", "name": "On call", "role": "responder",
                                                "contact_methods": [], "notification_rules": []}),
        ("PUT", "/api/v1/escalation-policies/storm", {
            "id": "storm", "name": "storm", "repeat_count": 0, "repeat_from_level": 0,
            "levels": [{"targets": [{"person": "storm-oncall"}], "delay_seconds": 300}]}),
        ("PUT", "/api/v1/services/storm", {"id": "storm", "name": "storm", "escalation_policy_id": "storm"}),
        ("POST", "/api/v1/services/storm/integration-keys", {"key": ROUTING_KEY}),
    ]
    for method, path, body in steps:
        wrk_bench.http_json(method, f"{vigil.url(leader)}{path}", body, headers, timeout=10)


def counted_events(vigil, node):
    """The sum of alert counts over the storm service's tickets, paging through the list (bounded)."""
    headers = {"Authorization": f"Bearer {vigil.token}"}
    total, tickets, after = 0, 0, 0
    for _ in range(10_000):
        page = wrk_bench.http_json("GET", f"{vigil.url(node)}/api/v1/tickets?service_id=storm&limit=500&after={after}",
                                   None, headers, timeout=30)
        for item in page["items"]:
            total += item.get("alert_count", 0)
            tickets += 1
        if not page.get("next"):
            return total, tickets
        after = int(page["next"])
    raise SystemExit("the ticket list did not end")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vigil")
    parser.add_argument("work")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--target", choices=["leader", "follower"], default="follower")
    arguments = parser.parse_args()
    if subprocess.run(["which", "wrk"], stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    vigil = wrk_bench.Vigil(arguments.work, arguments.vigil)
    try:
        leader = vigil.wait_leader()
        setup(vigil, leader)
        node = leader if arguments.target == "leader" else next(n for n in (1, 2, 3) if n != leader)
        term = vigil.term(leader)
        command = ["wrk", "-t", "2", "-c", str(arguments.clients), "-d", f"{arguments.seconds}s", "--timeout", "5s",
                   "-s", f"{HERE}/wrk/pagerduty.lua", vigil.url(node)]
        cpu_before = {n: wrk_bench.cpu_seconds(vigil.processes[n].pid) for n in (1, 2, 3)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_bench.log(f"storm: {arguments.clients} connections to node {node} ({arguments.target}) for {arguments.seconds} s")
        output = subprocess.run(command, check=True, capture_output=True, text=True,
                                env={**os.environ, "BENCH_ROUTING_KEY": ROUTING_KEY}, timeout=arguments.seconds + 60).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_after = {n: wrk_bench.cpu_seconds(vigil.processes[n].pid) for n in (1, 2, 3)}
        result = json.loads(output.strip().splitlines()[-1])
        seconds = result["duration_us"] / 1e6
        wrk_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / seconds
        # Every 202 was answered after its entry was applied on the node that answered; read it back from the leader.
        counted, tickets = counted_events(vigil, leader)
        changes = vigil.term(leader) - term
    finally:
        vigil.stop()
    accepted = result["accepted"]
    print("| target | connections | events sent | accepted (202) | events/s | p50 / p99 / p99.9 ms | tickets | events in the state | "
          "lost | CPU-s per 1,000 events (nodes) | wrk CPU | term changes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    per_thousand = " / ".join(f"{(cpu_after[n] - cpu_before[n]) / max(accepted, 1) * 1000:.2f}" for n in (1, 2, 3))
    print(f"| {arguments.target} | {arguments.clients} | {result['requests']:,} | {accepted:,} | {accepted / seconds:,.0f} "
          f"| {result['p50_us'] / 1000:.1f} / {result['p99_us'] / 1000:.1f} / {result['p999_us'] / 1000:.1f} "
          f"| {tickets:,} | {counted:,} | {max(accepted - counted, 0):,} | {per_thousand} | {wrk_cpu:.2f} core | {changes} |")
    if wrk_cpu >= 0.5:
        raise SystemExit(f"wrk used {wrk_cpu:.2f} of a core: the figures measure the generator")
    if counted < accepted:
        raise SystemExit(f"{accepted - counted} accepted events are not in the state")


if __name__ == "__main__":
    main()
