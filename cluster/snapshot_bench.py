"""Large-state bench (see snapshot-bench.sh): compaction time, writes through the compaction, follower catch-up.

Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
"""
import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time

from benchlib import free_base_port

VALUE_BYTES = 64_000


def log(message):
    print(f"[snapshot-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Cluster:
    def __init__(self, binary, work, snapshot_every):
        self.binary, self.work, self.processes = binary, work, {}
        if os.path.exists(work):
            shutil.rmtree(work)
        self.base = free_base_port(26000)
        subprocess.run([binary, "init", "--nodes", "3", "--dir", work, "--base-port", str(self.base),
                        "--snapshot-every", str(snapshot_every), "--snapshot-every-mb", "4096"], check=True, stdout=subprocess.DEVNULL)
        for node in (1, 2, 3):
            path = f"{work}/node{node}/vigil.yaml"
            text = open(path).read()
            # The bench is one client identity at hundreds of writes per second.
            text = re.sub(r"requests_per_second: \d+", "requests_per_second: 100000", text)
            open(path, "w").write(text)
        self.token = open(f"{work}/admin.token").read().strip()
        self.context = ssl.create_default_context(cafile=f"{work}/ca/ca.pem")
        self.local = threading.local()

    def start(self, node):
        log_file = open(f"{self.work}/node{node}.log", "ab")
        self.processes[node] = subprocess.Popen([self.binary, "start", "--config", f"{self.work}/node{node}/vigil.yaml"],
                                                stdout=log_file, stderr=log_file)

    def kill9(self, node):
        process = self.processes.pop(node, None)
        if process:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self):
        for node in list(self.processes):
            self.kill9(node)

    def rss_mb(self, node):
        process = self.processes.get(node)
        try:
            for line in open(f"/proc/{process.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return float("nan")

    def request(self, node, method, path, body=None, timeout=10):
        """One request on this thread's kept-alive connection to `node`; (status, parsed body or None)."""
        connections = getattr(self.local, "connections", None)
        if connections is None:
            connections = self.local.connections = {}
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for _ in range(2):
            connection = connections.get(node)
            if connection is None:
                connection = connections[node] = http.client.HTTPSConnection(
                    "127.0.0.1", self.base + 100 + node, timeout=timeout, context=self.context)
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                try:
                    return response.status, json.loads(payload or b"null")
                except ValueError:
                    return response.status, None
            except (OSError, http.client.HTTPException):
                connection.close()
                connections.pop(node, None)
        return None, None

    def view(self, node):
        status, view = self.request(node, "GET", "/api/v1/cluster", timeout=3)
        return view if status == 200 else None

    def metric(self, node, name):
        connection = http.client.HTTPSConnection("127.0.0.1", self.base + 100 + node, timeout=3, context=self.context)
        try:
            connection.request("GET", "/metrics")
            for line in connection.getresponse().read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[-1])
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        return None

    def leader(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            views = [self.view(node) for node in self.processes]
            leaders = {view["leader"] if view else None for view in views}
            if len(leaders) == 1 and None not in leaders and 0 not in leaders:
                return next(iter(leaders))
            time.sleep(0.05)
        raise SystemExit("no leader")


def parallel(clients, work):
    threads = [threading.Thread(target=work, args=(client,)) for client in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_size(binary, work, size_mb, clients):
    count = size_mb * 1_000_000 // VALUE_BYTES
    cluster = Cluster(binary, work, snapshot_every=count + 2000)
    try:
        for node in (1, 2, 3):
            cluster.start(node)
        leader = cluster.leader()
        stranded = next(node for node in (1, 2, 3) if node != leader)
        cluster.kill9(stranded)

        failures = []
        fill_started = time.time()

        def fill(client):
            for index in range(client, count, clients):
                value = f"v{index}-".ljust(VALUE_BYTES, "abcdefghijklmnopqrstuvwxyz"[index % 26])
                for _ in range(5):
                    status, _ = cluster.request(leader, "PUT", f"/api/v1/settings/large-{index}", {"value": value})
                    if status == 200:
                        break
                else:
                    failures.append(index)
        parallel(clients, fill)
        fill_seconds = time.time() - fill_started
        log(f"{size_mb} MB: {count} values in {fill_seconds:.1f} s ({count / fill_seconds:.0f} writes/s), {len(failures)} failed")
        before = cluster.view(leader)
        changes_before = cluster.metric(leader, "vigil_raft_leader_changes_total")

        # Small writes until the leader has compacted and 2 s more, bounded by 20,000 writes and 300 s.
        latencies, small_failures, stop = [], [], threading.Event()
        compacted_at = [None]
        deadline = time.time() + 300

        def small(client):
            index = 0
            while not stop.is_set() and index < 20_000 // 4 and time.time() < deadline:
                started = time.time()
                status, _ = cluster.request(leader, "PUT", f"/api/v1/settings/small-{client}-{index}", {"value": "x" * 64})
                latencies.append(time.time() - started)
                if status != 200:
                    small_failures.append(status)
                index += 1

        def watch(_):
            while time.time() < deadline:
                view = cluster.view(leader)
                if view and view["snapshot_index"] > 0 and compacted_at[0] is None:
                    compacted_at[0] = time.time()
                if compacted_at[0] and time.time() - compacted_at[0] > 2:
                    break
                time.sleep(0.05)
            stop.set()
        threads = [threading.Thread(target=small, args=(c,)) for c in range(4)] + [threading.Thread(target=watch, args=(0,))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = cluster.view(leader)
        changes_after = cluster.metric(leader, "vigil_raft_leader_changes_total")
        longest_round = cluster.metric(leader, "vigil_raft_loop_round_longest_seconds")
        compaction = re.findall(r"bytes=(\d+) node=\d+ seconds=([\d.]+)", open(f"{work}/node{leader}.log").read())
        snapshot_bytes, compaction_seconds = (int(compaction[0][0]), float(compaction[0][1])) if compaction else (0, float("nan"))
        leader_rss = cluster.rss_mb(leader)

        cluster.start(stranded)
        catch_up_started = time.time()
        target = after["commit_index"]
        caught_up = None
        while time.time() - catch_up_started < 300:
            view = cluster.view(stranded)
            if view and view["applied_index"] >= target:
                caught_up = time.time() - catch_up_started
                break
            time.sleep(0.05)
        status, answer = cluster.request(stranded, "GET", f"/api/v1/settings/large-{count - 1}")
        intact = status == 200 and answer and answer.get("value", "").startswith(f"v{count - 1}-")
        return {
            "size_mb": size_mb, "snapshot_mb": snapshot_bytes / 1e6, "fill_writes_per_s": count / fill_seconds,
            "compaction_s": compaction_seconds, "small_writes": len(latencies), "small_failed": len(small_failures) + len(failures),
            "write_p50_ms": percentile(latencies, 0.5) * 1000, "write_p99_ms": percentile(latencies, 0.99) * 1000,
            "write_max_ms": max(latencies) * 1000 if latencies else float("nan"),
            "loop_round_max_ms": (longest_round or float("nan")) * 1000,
            "term_changes": (after["term"] - before["term"]) if after and before else None,
            "leader_changes": (changes_after or 0) - (changes_before or 0),
            "catch_up_s": caught_up, "follower_read_ok": bool(intact), "leader_rss_mb": leader_rss,
        }
    finally:
        cluster.stop_all()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("work")
    parser.add_argument("--sizes-mb", default="100,250")
    parser.add_argument("--clients", type=int, default=8)
    arguments = parser.parse_args()
    rows = []
    for size in [int(part) for part in arguments.sizes_mb.split(",")]:
        rows.append(run_size(arguments.binary, f"{arguments.work}/{size}mb", size, arguments.clients))
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print("| state | snapshot file | fill rate | compaction (copy → compacted log) | writes through it | p50 / p99 / max write | longest Raft loop round | term changes | follower catch-up | leader RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        caught = f"{row['catch_up_s']:.1f} s" + ("" if row["follower_read_ok"] else " (read FAILED)") if row["catch_up_s"] else "did not catch up in 300 s"
        print(f"| {row['size_mb']} MB | {row['snapshot_mb']:.0f} MB | {row['fill_writes_per_s']:.0f} w/s | {row['compaction_s']:.2f} s "
              f"| {row['small_writes']} ({row['small_failed']} failed) | {row['write_p50_ms']:.1f} / {row['write_p99_ms']:.1f} / {row['write_max_ms']:.0f} ms "
              f"| {row['loop_round_max_ms']:.0f} ms | {row['term_changes']} | {caught} | {row['leader_rss_mb']:.0f} MB |")
    print(f"load generator CPU: {cpu.ru_utime + cpu.ru_stime:.1f} s (user {cpu.ru_utime:.1f} s, system {cpu.ru_stime:.1f} s)")


if __name__ == "__main__":
    main()
