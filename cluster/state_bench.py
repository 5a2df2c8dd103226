"""Large duty-state bench (see state-bench.sh): start-up, resident memory, learner catch-up.

Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import time

from snapshot_bench import Cluster, free_base_port


def log(message):
    print(f"[state-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class RestoredCluster(Cluster):
    """Three nodes written by `vigil restore` from a backup file, plus room for a fourth."""

    def __init__(self, binary, work, backup):
        import ssl
        import threading
        self.binary, self.work, self.processes = binary, work, {}
        self.base = free_base_port(27000)
        subprocess.run([binary, "restore", "--from", backup, "--dir", work, "--nodes", "3", "--base-port", str(self.base)],
                       check=True, stdout=subprocess.DEVNULL)
        self.token = open(f"{work}/admin.token").read().strip()
        self.context = ssl.create_default_context(cafile=f"{work}/ca/ca.pem")
        self.local = threading.local()

    def peak_mb(self, node):
        process = self.processes.get(node)
        try:
            for line in open(f"/proc/{process.pid}/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return float("nan")

    def wait_settled(self, node, quiet_s=5, limit_s=300):
        """Until the commit index has not moved for `quiet_s` (the SLA clocks of a restored state run out at once
        and the leader records their breaches first); returns the seconds waited."""
        started = time.time()
        last, since = None, time.time()
        while time.time() - started < limit_s:
            view = self.view(node)
            commit = view["commit_index"] if view else None
            if commit != last:
                last, since = commit, time.time()
            elif time.time() - since >= quiet_s:
                break
            time.sleep(0.2)
        return time.time() - started

    def wait_applied(self, node, target, limit_s):
        started = time.time()
        while time.time() - started < limit_s:
            view = self.view(node)
            if view and view["leader"] and view["applied_index"] >= target:
                return time.time() - started
            time.sleep(0.1)
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("duty_bench")
    parser.add_argument("work")
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--archived", type=int, default=1_000_000)
    arguments = parser.parse_args()
    work = arguments.work
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)

    snapshot = f"{work}/duty.snapshot"
    log(f"duty-bench: {arguments.open} open and {arguments.archived} archived tickets")
    started = time.time()
    # duty-bench spaces commands 10 ms apart: starting that long before now makes the open tickets the last
    # minutes' (a state restored months later would first record 100,000 SLA breaches, which is another bench).
    start_ms = int(time.time() * 1000) - (arguments.open + arguments.archived) * 10 - 60_000
    subprocess.run([arguments.duty_bench, str(arguments.open), str(arguments.archived), "0"], check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "DUTY_BENCH_SAVE_SNAPSHOT": snapshot, "DUTY_BENCH_START_MS": str(start_ms)})
    log(f"built in {time.time() - started:.0f} s, snapshot {os.path.getsize(snapshot) / 1e6:.0f} MB")
    backup = f"{work}/state.vbak"
    subprocess.run([arguments.binary, "backup", "--from-duty-snapshot", snapshot, "--out", backup], check=True, stdout=subprocess.DEVNULL)
    os.remove(snapshot)

    cluster = RestoredCluster(arguments.binary, f"{work}/cluster", backup)
    try:
        started = time.time()
        for node in (1, 2, 3):
            cluster.start(node)
        leader = cluster.leader(timeout=600)
        first_term = cluster.view(leader)["term"]
        target = cluster.view(leader)["commit_index"]
        ready = [cluster.wait_applied(node, target, 600) for node in (1, 2, 3)]
        startup = time.time() - started
        settled = cluster.wait_settled(leader)
        settled_commit = cluster.view(leader)["commit_index"]
        rss = {node: cluster.rss_mb(node) for node in (1, 2, 3)}
        peak = {node: cluster.peak_mb(node) for node in (1, 2, 3)}
        log(f"settled after {settled:.0f} s more (commit index {settled_commit}); peak RSS {peak}")
        status, tickets = cluster.request(leader, "GET", "/api/v1/tickets?limit=1")
        log(f"cluster up in {startup:.1f} s (leader node {leader}, term {first_term}); ticket list answered {status}")

        member = f"4=127.0.0.1:{cluster.base + 4}:{cluster.base + 104}"
        subprocess.run([arguments.binary, "cert", "issue", "--node", "4", "--member", member, "--ca-dir", f"{cluster.work}/ca",
                        "--out", f"{cluster.work}/node4", "--config-from", f"{cluster.work}/node1/vigil.yaml"],
                       check=True, stdout=subprocess.DEVNULL)
        cluster.start(4)
        added = time.time()
        for attempt in range(10):
            # Three nodes that just decoded a large snapshot on a small machine may still be electing.
            result = subprocess.run([arguments.binary, "member", "add", "--member", member, "--cluster-dir", cluster.work],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if result.returncode == 0:
                break
            log(f"member add: {result.stderr.strip()} (attempt {attempt + 1})")
            time.sleep(2)
        else:
            raise SystemExit("node 4 could not be added")
        leader = cluster.leader(timeout=60)
        target = cluster.view(leader)["commit_index"]
        caught_up = cluster.wait_applied(4, target, 600)
        voter = None
        while caught_up is not None and time.time() - added < 600:
            members = (cluster.view(leader) or {}).get("members", [])
            if any(m["id"] == 4 and m["voter"] for m in members):
                voter = time.time() - added
                break
            time.sleep(0.1)
        time.sleep(3)
        learner_rss = cluster.rss_mb(4)
        snapshot_mb = os.path.getsize(backup) / 1e6
    finally:
        cluster.stop_all()

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"| tickets (open + archived) | snapshot | 3 nodes up from it | RSS node 1 / 2 / 3, settled | peak RSS | learner caught up | learner a voter | learner RSS |")
    print("|---|---|---|---|---|---|---|---|")
    caught = f"{caught_up:.1f} s" if caught_up is not None else "not in 600 s"
    promoted = f"{voter:.1f} s" if voter is not None else "no"
    print(f"| {arguments.open:,} + {arguments.archived:,} | {snapshot_mb:.0f} MB | {startup:.1f} s "
          f"| {rss[1]:.0f} / {rss[2]:.0f} / {rss[3]:.0f} MB | {max(peak.values()):.0f} MB | {caught} | {promoted} | {learner_rss:.0f} MB |")
    print(f"bench script CPU: {cpu.ru_utime + cpu.ru_stime:.1f} s (it only polls; the state is built before the nodes start)")


if __name__ == "__main__":
    main()
