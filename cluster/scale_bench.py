"""Scale bench (see scale-bench.sh). Every loop is bounded in count and time; all traffic goes to 127.0.0.1."""
import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

from benchlib import free_base_port

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
local titles = {"Cannot log in", "Invoice missing", "Password reset", "How do I export data"}
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"kind":"consultation","priority":"P3","service_id":"web","title":"' .. titles[(counter % 4) + 1] .. ' ' .. counter .. '"}'
  return wrk.format(nil, "/api/v1/tickets", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.3f %.3f %.3f\\n", summary.requests, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def log(message):
    print(f"[scale-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Cluster:
    def __init__(self, binary, work):
        self.binary, self.work, self.processes = binary, work, {}
        if os.path.exists(work):
            shutil.rmtree(work)
        self.base = free_base_port(28000)
        subprocess.run([binary, "init", "--nodes", "3", "--dir", work, "--base-port", str(self.base), "--plain-http"],
                       check=True, stdout=subprocess.DEVNULL)
        for node in (1, 2, 3):
            path = f"{work}/node{node}/vigil.yaml"
            text = re.sub(r"requests_per_second: \d+", "requests_per_second: 100000", open(path).read())
            open(path, "w").write(text)
        self.token = open(f"{work}/admin.token").read().strip()

    def start(self, node):
        log_file = open(f"{self.work}/node{node}.log", "ab")
        self.processes[node] = subprocess.Popen([self.binary, "start", "--config", f"{self.work}/node{node}/vigil.yaml"],
                                                stdout=log_file, stderr=log_file)

    def stop_all(self):
        for process in self.processes.values():
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)

    def request(self, node, method, path, body=None, timeout=30):
        connection = http.client.HTTPConnection("127.0.0.1", self.base + 100 + node, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            started = time.time()
            connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, payload, time.time() - started
        except (OSError, http.client.HTTPException):
            return None, b"", 0
        finally:
            connection.close()

    def view(self, node):
        status, payload, _ = self.request(node, "GET", "/api/v1/cluster", timeout=3)
        return json.loads(payload) if status == 200 else None

    def leader(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            leaders = {(view or {}).get("leader") for view in (self.view(n) for n in self.processes)}
            if len(leaders) == 1 and None not in leaders and 0 not in leaders:
                return next(iter(leaders))
            time.sleep(0.05)
        raise SystemExit("no leader")

    def cpu_seconds(self, node):
        fields = open(f"/proc/{self.processes[node].pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self, node):
        for line in open(f"/proc/{self.processes[node].pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def metric(self, node, name):
        status, payload, _ = self.request(node, "GET", "/metrics", timeout=5)
        for line in payload.decode(errors="replace").splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("work")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--idle-seconds", type=int, default=20)
    parser.add_argument("--sla-seconds", type=int, default=60, help="P3 first-response target (resolution: 10x)")
    parser.add_argument("--hold-seconds", type=int, default=0, help="keep the cluster up this long after the table (to profile it)")
    arguments = parser.parse_args()
    cluster = Cluster(arguments.binary, arguments.work)
    wrk_cpu = 0.0
    try:
        for node in (1, 2, 3):
            cluster.start(node)
        leader = cluster.leader()
        subprocess.run([arguments.binary, "apply", "-f", "deploy/examples/oncall.yaml", "--endpoints",
                        f"http://127.0.0.1:{cluster.base + 100 + leader}"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "VIGIL_TOKEN": cluster.token})
        # Short SLA targets, so warnings and breaches fall due while the backlog grows (the scheduler's real load).
        policy = {"id": "default", "name": "Bench desk", "warning_threshold_percent": 80, "rules": [
            {"priority": "P3", "target": "firstResponse", "target_seconds": arguments.sla_seconds, "clock_mode": "calendarTime"},
            {"priority": "P3", "target": "resolution", "target_seconds": 10 * arguments.sla_seconds, "clock_mode": "calendarTime"}]}
        status, payload, _ = cluster.request(leader, "PUT", "/api/v1/sla-policies/default", policy)
        if status != 200:
            raise SystemExit(f"SLA policy refused: {status} {payload[:300]}")
        script = f"{arguments.work}/register.lua"
        open(script, "w").write(LUA.replace("TOKEN", cluster.token))
        start_term = cluster.view(leader)["term"]
        month = time.strftime("%Y-%m", time.gmtime())
        print("| open tickets | registrations/s | write p50 / p99 / max (ms) | idle CPU leader / followers (% of a core) "
              "| RSS leader (MB) | first page (ms) | report (ms, bytes) | term changes |")
        print("|---|---|---|---|---|---|---|---|")
        registered = 0
        rate = 1000.0
        previous = [(0, 0, 1.0, float("nan"), float("nan"), float("nan"))]
        for step in range(1, 11):
            target = arguments.tickets * step // 10
            results = []
            for _ in range(20):  # bounded: enough wrk runs to reach the step
                remaining = target - registered
                if remaining <= 0:
                    break
                # Aim a little short of the step and top up, so a step is not overshot into the next one.
                seconds = max(2, min(120, int(0.85 * remaining / max(rate, 1)) + 1))
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                output = subprocess.run(["wrk", "-t", "2", "-c", str(arguments.connections), "-d", f"{seconds}s", "-s", script,
                                         f"http://127.0.0.1:{cluster.base + 100 + leader}"], capture_output=True, text=True,
                                        timeout=seconds + 60).stdout
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                wrk_cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", output)
                if not match:
                    raise SystemExit(f"wrk printed no result:\n{output}")
                requests, errors, micros = int(match[1]), int(match[2]), int(match[3])
                results.append((requests, errors, micros / 1e6, float(match[4]), float(match[5]), float(match[6])))
                registered += requests - errors
                rate = (requests - errors) / (micros / 1e6)
            results = results or previous
            previous = results
            total = sum(r[0] - r[1] for r in results)
            duration = sum(r[2] for r in results)
            p50 = max(r[3] for r in results)
            p99 = max(r[4] for r in results)
            worst = max(r[5] for r in results)
            cpu_before = {n: cluster.cpu_seconds(n) for n in (1, 2, 3)}
            time.sleep(arguments.idle_seconds)
            idle = {n: (cluster.cpu_seconds(n) - cpu_before[n]) * 100 / arguments.idle_seconds for n in (1, 2, 3)}
            followers = [f"{idle[n]:.1f}" for n in (1, 2, 3) if n != leader]
            _, _, first_page = cluster.request(leader, "GET", "/api/v1/tickets?limit=50")
            status, report, report_seconds = cluster.request(leader, "GET", f"/api/v1/reports?month={month}")
            view = cluster.view(leader) or {}
            term_changes = view.get("term", 0) - start_term if view.get("leader") == leader else "leader lost"
            print(f"| {registered:,} | {total / duration:.0f} | {p50:.1f} / {p99:.1f} / {worst:.0f} | {idle[leader]:.1f} / "
                  f"{' , '.join(followers)} | {cluster.rss_mb(leader):.0f} | {first_page * 1000:.1f} | "
                  f"{report_seconds * 1000:.0f}, {len(report):,} | {term_changes} |", flush=True)
        print(f"load generator (wrk) CPU: {wrk_cpu:.1f} s in all", flush=True)
        if arguments.hold_seconds > 0:
            pids = {node: process.pid for node, process in cluster.processes.items()}
            print(f"holding the cluster for {arguments.hold_seconds} s (pids: {pids}, leader {leader})", flush=True)
            time.sleep(min(arguments.hold_seconds, 3_600))
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    main()
