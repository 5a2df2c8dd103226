#!/usr/bin/env python3
"""Paging figures on a real 3-node cluster (issue 6), printed, never asserted.

1. Intake to first page: N PagerDuty v2 triggers, one at a time, through a follower; the time from the
   POST to the page arriving at an HTTP sink on 127.0.0.1 (p50/p99). The same N alerts through a real
   Alertmanager (group_wait 0s, one group per alert) to the same sink, for comparison.
2. Scheduler lateness: every ticket also has a second level due LEVEL_SECONDS after registration; the
   lateness of that page is its arrival minus its deadline (p50/p99), under the intake load above.
3. Page delay across a leader kill: ROUNDS times, a ticket whose level 2 falls due 0.3 s after the
   leader is killed with SIGKILL; the delay of that page beyond its deadline.

Standard library only; every wait is bounded. Usage: paging_bench.py VIGIL_BINARY WORK_DIR [--alerts N] [--rounds N]
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

LEVEL_SECONDS = 2
KILL_LEVEL_SECONDS = 3


def log(message):
    print(f"[paging-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


class Sink:
    """Records (arrival time, path, JSON body) of every POST; answers 200.

    Waiters look pages up in an index (first arrival per path and ticket title or alert name, count per path)
    rather than scanning every request on every arrival: with a thousand pages, those scans held Python's lock
    long enough to delay the handler threads, and so the arrival times the bench measures."""

    def __init__(self):
        self.lock = threading.Lock()
        self.condition = threading.Condition(self.lock)
        self.requests = []
        self.first = {}
        self.count = {}
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One write per answer, sent at once: written as head then body without TCP_NODELAY, the 2-byte body
            # waited for the sender's delayed ACK (up to 40 ms on Linux), and the sender's connection with it.
            disable_nagle_algorithm = True
            wbufsize = -1

            def do_POST(self):
                arrived = time.time()
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                try:
                    document = json.loads(body)
                except ValueError:
                    document = None
                name = None
                if isinstance(document, dict):
                    name = (document.get("ticket") or {}).get("title") or (document.get("groupLabels") or {}).get("alertname")
                with sink.condition:
                    sink.requests.append((arrived, self.path, document))
                    sink.first.setdefault((self.path, name), (arrived, document))
                    sink.count[self.path] = sink.count.get(self.path, 0) + 1
                    sink.condition.notify_all()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a node killed mid-request resets its connection; that is the drill, not an error

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, predicate, timeout):
        """Waits until `predicate(sink)` (called with the lock held) returns something other than None."""
        deadline = time.time() + timeout
        with self.condition:
            while True:
                found = predicate(self)
                if found is not None:
                    return found
                remaining = deadline - time.time()
                if remaining <= 0:
                    return None
                self.condition.wait(remaining)


class Cluster:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.processes = {}
        if os.path.exists(work):
            shutil.rmtree(work)
        base = free_base_port()
        subprocess.run([binary, "init", "--nodes", "3", "--dir", work, "--base-port", str(base)], check=True,
                       stdout=subprocess.DEVNULL)
        self.base = base
        for node in (1, 2, 3):
            path = f"{work}/node{node}/vigil.yaml"
            text = open(path).read()
            # One person receives every bench page: storm control would (rightly) group them.
            text = text.replace("rate_limit_burst: 5", "rate_limit_burst: 1000").replace("rate_limit_refill_ms: 12000", "rate_limit_refill_ms: 1")
            text = text.replace("integration_requests_per_second: 200", "integration_requests_per_second: 1000")
            # --backlog registers its tickets as fast as one token may.
            text = re.sub(r"token_requests_per_second: \d+", "token_requests_per_second: 1000000", text)
            open(path, "w").write(text)
        self.token = open(f"{work}/admin.token").read().strip()
        self.context = ssl.create_default_context(cafile=f"{work}/ca/ca.pem")

    def url(self, node):
        return f"https://127.0.0.1:{self.base + 100 + node}"

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

    def request(self, node, method, path, body=None, timeout=10):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(node) + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.context) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None
        except (urllib.error.URLError, OSError, ValueError):
            return None, None

    def leader(self, among=(1, 2, 3), timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            leaders = set()
            for node in among:
                status, view = self.request(node, "GET", "/api/v1/cluster", timeout=2)
                if status == 200 and view and view.get("leader"):
                    leaders.add(view["leader"])
                else:
                    leaders.add(None)
            if len(leaders) == 1 and None not in leaders and next(iter(leaders)) in among:
                return next(iter(leaders))
            time.sleep(0.05)
        raise SystemExit("no leader")


def free_base_port():
    for base in range(24000, 60000, 250):
        ports = [base + n for n in (1, 2, 3)] + [base + 100 + n for n in (1, 2, 3)]
        if all(port_free(port) for port in ports):
            return base
    raise SystemExit("no free ports")


def port_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def setup(cluster, sink, leader, policy_id, level_seconds, routing_key):
    people = []
    for person in ("first", "second"):
        people.append(("PUT", f"/api/v1/people/{person}", {
            "id": person, "name": person, "role": "responder",
            "contact_methods": [{"id": "hook", "kind": "webhook", "address": f"http://127.0.0.1:{sink.port}/{policy_id}/{person}"}],
            "notification_rules": [{"contact_method_id": "hook", "delay_seconds": 0}]}))
    steps = people + [
        ("PUT", f"/api/v1/escalation-policies/{policy_id}", {
            "id": policy_id, "name": policy_id, "repeat_count": 0, "repeat_from_level": 0,
            "levels": [{"targets": [{"person": "first"}], "delay_seconds": level_seconds},
                       {"targets": [{"person": "second"}], "delay_seconds": level_seconds}]}),
        ("PUT", f"/api/v1/services/{policy_id}", {"id": policy_id, "name": policy_id, "escalation_policy_id": policy_id}),
        ("POST", f"/api/v1/services/{policy_id}/integration-keys", {"key": routing_key}),
    ]
    for method, path, body in steps:
        status, _ = cluster.request(leader, method, path, body)
        if status not in (200, 201):
            raise SystemExit(f"{method} {path} answered {status}")


def page_for(summary, person, policy_id):
    return lambda sink: sink.first.get((f"/{policy_id}/{person}", summary))


def trigger(cluster, node, routing_key, summary):
    body = {"routing_key": routing_key, "event_action": "trigger", "dedup_key": summary,
            "payload": {"summary": summary, "source": "bench", "severity": "critical"}}
    return cluster.request(node, "POST", "/v2/enqueue", body)[0]


BACKLOG_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"kind":"consultation","priority":"P3","service_id":"backlog","title":"Backlog ' .. counter .. '"}'
  return wrk.format(nil, "/api/v1/tickets", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d\\n", summary.requests, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def fill_backlog(cluster, tickets):
    """Registers `tickets` P3 consultations on a service without escalation, under a day-long SLA, so nothing of
    theirs falls due during the bench: the figures then show what holding them costs the paging path."""
    leader = cluster.leader()
    policy = {"id": "default", "name": "Backlog desk", "warning_threshold_percent": 80, "rules": [
        {"priority": "P3", "target": "firstResponse", "target_seconds": 86_400, "clock_mode": "calendarTime"},
        {"priority": "P3", "target": "resolution", "target_seconds": 864_000, "clock_mode": "calendarTime"}]}
    for method, path, body in [("PUT", "/api/v1/sla-policies/default", policy),
                               ("PUT", "/api/v1/services/backlog", {"id": "backlog", "name": "backlog"})]:
        status, _ = cluster.request(leader, method, path, body)
        if status not in (200, 201):
            raise SystemExit(f"{method} {path} answered {status}")
    script = f"{cluster.work}/backlog.lua"
    open(script, "w").write(BACKLOG_LUA.replace("TOKEN", cluster.token))
    registered = 0
    for _ in range(40):  # bounded: a few thousand registrations a second reach 100,000 in well under 40 runs
        if registered >= tickets:
            break
        seconds = max(2, min(30, (tickets - registered) // 2_000))
        output = subprocess.run(["wrk", "-t", "2", "-c", "32", "-d", f"{seconds}s", "-s", script, cluster.url(leader)],
                                capture_output=True, text=True, timeout=seconds + 60).stdout
        match = re.search(r"RESULT (\d+) (\d+)", output)
        if not match:
            raise SystemExit(f"wrk printed no result:\n{output}")
        registered += int(match[1]) - int(match[2])
        log(f"backlog: {registered} tickets registered")
    # Every node has applied them before the measurement starts.
    for _ in range(600):
        _, view = cluster.request(leader, "GET", "/api/v1/cluster")
        applied = [cluster.request(node, "GET", "/api/v1/cluster")[1] for node in (1, 2, 3)]
        if view and all(a and a["applied_index"] >= view["commit_index"] for a in applied):
            break
        time.sleep(0.1)
    return registered


def intake_and_lateness(cluster, sink, alerts):
    leader = cluster.leader()
    follower = next(n for n in (1, 2, 3) if n != leader)
    key = "b" * 32
    setup(cluster, sink, leader, "intake", LEVEL_SECONDS, key)
    intake_ms, sent = [], []
    for number in range(alerts):
        summary = f"intake-{number}"
        started = time.time()
        if trigger(cluster, follower, key, summary) != 202:
            log(f"trigger {number} refused")
            continue
        found = sink.wait(page_for(summary, "first", "intake"), 10)
        if found is None:
            log(f"no page for alert {number}")
            continue
        intake_ms.append((found[0] - started) * 1000)
        sent.append(summary)
    # Level 2 of every ticket falls due LEVEL_SECONDS after registration (the leader's stamp).
    sink.wait(lambda sink: True if sink.count.get("/intake/second", 0) >= len(sent) else None, LEVEL_SECONDS + 30)
    registered = {}
    after = 0
    for _ in range(100):
        status, page = cluster.request(leader, "GET", f"/api/v1/tickets?service_id=intake&limit=500&after={after}", timeout=30)
        if status != 200 or not page or not page.get("items"):
            break
        for ticket in page["items"]:
            registered[ticket["title"]] = ticket["registered_at"]
        if not page.get("next"):
            break
        after = int(page["next"])
    lateness_ms = []
    with sink.lock:
        keys = [document.get("idempotency_key") for _, path, document in sink.requests if path.startswith("/intake/") and document]
    log(f"intake: {len(keys)} page messages, {len(keys) - len(set(keys))} of them repeats of a key already received")
    with sink.lock:
        for arrived, path, document in sink.requests:
            if path == "/intake/second" and document:
                title = document["ticket"]["title"]
                if title in registered:
                    lateness_ms.append(arrived * 1000 - (registered[title] + LEVEL_SECONDS * 1000))
    return intake_ms, lateness_ms


def idle_cpu_share(cluster, settle_s=5, window_s=10):
    """The leader's CPU (user + system, from /proc) over `window_s` with no client load, after `settle_s`."""
    time.sleep(settle_s)
    pid = cluster.processes[cluster.leader()].pid
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    before = cpu()
    time.sleep(window_s)
    return (cpu() - before) / window_s


def scheduler_lateness(cluster, kind="escalation"):
    """The leader's histogram of lateness of one kind (escalation: due to step committed; page: due to the
    channel's answer), as bucket bounds for p50 and p99: set beside the sink's figure, they tell time spent before
    the commit from time spent sending."""
    leader = cluster.leader()
    try:
        request = urllib.request.Request(cluster.url(leader) + "/metrics")
        with urllib.request.urlopen(request, timeout=10, context=cluster.context) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    buckets = []
    for row in text.splitlines():
        if row.startswith('vigil_paging_lateness_seconds_bucket{kind="' + kind + '"'):
            bound = row.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(row.rsplit(" ", 1)[1])))
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]

    def bound(q):
        return next(b for b, count in buckets if count >= q * total)
    return f"n={total:.0f} p50<={bound(0.5) * 1000:.0f} ms p99<={bound(0.99) * 1000:.0f} ms"


def failover_rounds(cluster, sink, rounds):
    key = "k" * 32
    leader = cluster.leader()
    setup(cluster, sink, leader, "failover", KILL_LEVEL_SECONDS, key)
    delays_ms = []
    for number in range(rounds):
        leader = cluster.leader()
        summary = f"failover-{number}"
        if trigger(cluster, leader, key, summary) != 202:
            log(f"failover trigger {number} refused")
            continue
        first = sink.wait(page_for(summary, "first", "failover"), 10)
        status, page = cluster.request(leader, "GET", "/api/v1/tickets?limit=500&open=true&service_id=failover")
        ticket = next((t for t in (page or {}).get("items", []) if t["title"] == summary), None)
        if first is None or ticket is None:
            log(f"round {number}: no first page or ticket")
            continue
        due = ticket["registered_at"] / 1000 + KILL_LEVEL_SECONDS
        time.sleep(max(0, due - 0.3 - time.time()))
        cluster.kill9(leader)
        found = sink.wait(page_for(summary, "second", "failover"), 20)
        if found is None:
            log(f"round {number}: level 2 never arrived")
        else:
            delays_ms.append((found[0] - due) * 1000)
        cluster.start(leader)
        cluster.leader(timeout=20)
        # Acknowledge so the ticket pages no further levels during the next rounds.
        cluster.request(cluster.leader(), "POST", f"/api/v1/tickets/{ticket['id']}/acknowledge")
    return delays_ms


def alertmanager_comparison(sink, alerts, work):
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not binary:
        log("prometheus-alertmanager not installed: no comparison")
        return None
    port = next(p for p in range(25093, 26000) if port_free(p) and port_free(p + 1))
    directory = f"{work}/alertmanager"
    os.makedirs(directory, exist_ok=True)
    with open(f"{directory}/alertmanager.yml", "w") as config:
        config.write(f"""route:
  receiver: sink
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:{sink.port}/alertmanager
        send_resolved: false
""")
    process = subprocess.Popen([binary, f"--config.file={directory}/alertmanager.yml", f"--storage.path={directory}/data",
                                f"--web.listen-address=127.0.0.1:{port}", f"--cluster.listen-address=",
                                "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=open(f"{directory}/log", "ab"))
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        latencies = []
        for number in range(alerts):
            name = f"am-{number}"
            body = json.dumps([{"labels": {"alertname": name, "severity": "critical"},
                                "annotations": {"summary": name}}]).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v2/alerts", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            started = time.time()
            urllib.request.urlopen(request, timeout=5).read()

            found = sink.wait(lambda sink, name=name: sink.first.get(("/alertmanager", name)), 10)
            when = found[0] if found else None
            if when is not None:
                latencies.append((when - started) * 1000)
        return latencies
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def main():
    # The sink's handler threads share Python's lock with the client; at the default switch interval (5 ms) each
    # hand-over of the lock can hold a page's arrival up by 5 ms, and a request needs several.
    sys.setswitchinterval(0.0002)
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("work")
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backlog", type=int, default=0, help="open tickets registered (with nothing due) before the measurement")
    args = parser.parse_args()
    sink = Sink()
    cluster = Cluster(args.binary, args.work)
    try:
        for node in (1, 2, 3):
            cluster.start(node)
        cluster.leader()
        if args.backlog:
            log(f"backlog: {args.backlog} open tickets with nothing due")
            backlog = fill_backlog(cluster, args.backlog)
            print(f"backlog: {backlog} open tickets registered before the measurement")
            print(f"idle leader holding them: {idle_cpu_share(cluster) * 100:.1f} % of a core over 10 s")
        log(f"intake: {args.alerts} PagerDuty triggers through a follower, one at a time")
        intake_ms, lateness_ms = intake_and_lateness(cluster, sink, args.alerts)
        own_lateness = scheduler_lateness(cluster)
        own_page_lateness = scheduler_lateness(cluster, "page")
        log(f"failover: {args.rounds} leader kills 0.3 s before a level falls due")
        delays_ms = failover_rounds(cluster, sink, args.rounds)
    finally:
        cluster.stop_all()
    log(f"Alertmanager: the same {args.alerts} alerts, group_wait 0s, webhook to the same sink")
    am_ms = alertmanager_comparison(sink, args.alerts, args.work)

    def line(name, values):
        if not values:
            return f"{name}: no samples"
        return f"{name}: n={len(values)} p50={percentile(values, 0.5):.1f} ms p99={percentile(values, 0.99):.1f} ms max={max(values):.1f} ms"
    print(line("vigil intake -> first page (PagerDuty v2 via a follower)", intake_ms))
    if am_ms is not None:
        print(line("alertmanager alert -> webhook (group_wait 0s)", am_ms))
    print(line("vigil scheduler lateness (level 2 page arrival - deadline)", lateness_ms))
    if own_lateness:
        print("  the leader's own view (step committed - due, vigil_paging_lateness_seconds{kind=\"escalation\"}): " + own_lateness)
    if own_page_lateness:
        print("  the leader's own view (webhook answered - due, all pages, kind=\"page\"): " + own_page_lateness)
    print(line("vigil page delay beyond the deadline across a leader kill", delays_ms))
    if delays_ms:
        print("  rounds (ms): " + " ".join(f"{d:.0f}" for d in delays_ms))


if __name__ == "__main__":
    main()
