"""Vigil and etcd side by side with wrk (see bench.sh): writes/s, latency percentiles, CPU per 1,000 writes.

Both systems: three members on 127.0.0.1, peer TLS, default durability, plain-HTTP client API, 256-byte values
over 1,000 keys (cluster/wrk/put.lua). Each load goes to one member, the leader or a follower, with 1, 16, 64 or
256 keep-alive connections. wrk is written in C and formats every request once per thread; its CPU use is
measured (getrusage of the child) and must stay under half a core, or the figures measure the generator.

Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port_block(start, count):
    """The first base ≥ start such that base+1 … base+count are all free (bounded search)."""
    for base in range(start, start + 2_000, 10):
        try:
            for port in range(base + 1, base + count + 1):
                with socket.socket() as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise SystemExit(f"no free block of {count} ports from {start}")


def http_json(method, url, body=None, headers=None, timeout=2):
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def cpu_seconds(pid):
    """User + system CPU of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class System:
    """Three members of one system, started by the subclass."""
    name = "?"

    def __init__(self, work):
        self.work = work
        self.processes = {}

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def wait_leader(self, limit_s=60):
        deadline = time.time() + limit_s
        while time.time() < deadline:
            leader = self.leader()
            if leader:
                return leader
            time.sleep(0.2)
        raise SystemExit(f"{self.name}: no leader within {limit_s} s")


class Etcd(System):
    name = "etcd"

    def __init__(self, work):
        super().__init__(work)
        self.base = free_port_block(23700, 20)
        self.client = {n: self.base + n for n in (1, 2, 3)}
        self.peer = {n: self.base + 10 + n for n in (1, 2, 3)}
        pki = f"{work}/pki"
        os.makedirs(pki)

        def openssl(*arguments):
            subprocess.run(["openssl", *arguments], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                "-subj", "/CN=bench-etcd-ca", "-keyout", f"{pki}/ca-key.pem", "-out", f"{pki}/ca.pem")
        for n in (1, 2, 3):
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN=etcd{n}",
                    "-keyout", f"{pki}/etcd{n}-key.pem", "-out", f"{pki}/etcd{n}.csr")
            with open(f"{pki}/etcd{n}.ext", "w") as ext:
                ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
            openssl("x509", "-req", "-in", f"{pki}/etcd{n}.csr", "-CA", f"{pki}/ca.pem", "-CAkey", f"{pki}/ca-key.pem",
                    "-CAcreateserial", "-days", "30", "-extfile", f"{pki}/etcd{n}.ext", "-out", f"{pki}/etcd{n}.pem")
        members = ",".join(f"etcd{n}=https://127.0.0.1:{self.peer[n]}" for n in (1, 2, 3))
        for n in (1, 2, 3):
            command = [
                "etcd", "--name", f"etcd{n}", "--data-dir", f"{work}/data{n}",
                "--listen-client-urls", f"http://127.0.0.1:{self.client[n]}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.client[n]}",
                "--listen-peer-urls", f"https://127.0.0.1:{self.peer[n]}",
                "--initial-advertise-peer-urls", f"https://127.0.0.1:{self.peer[n]}",
                "--initial-cluster", members, "--initial-cluster-state", "new", "--initial-cluster-token", "vigil-bench",
                "--peer-client-cert-auth", "--peer-trusted-ca-file", f"{pki}/ca.pem",
                "--peer-cert-file", f"{pki}/etcd{n}.pem", "--peer-key-file", f"{pki}/etcd{n}-key.pem",
            ]
            self.processes[n] = subprocess.Popen(command, stdout=open(f"{work}/etcd{n}.log", "w"), stderr=subprocess.STDOUT)

    def url(self, n):
        return f"http://127.0.0.1:{self.client[n]}"

    def leader(self):
        for n in (1, 2, 3):
            try:
                status = http_json("POST", f"{self.url(n)}/v3/maintenance/status", {})
            except OSError:
                continue
            if status.get("leader") and status["leader"] == status.get("header", {}).get("member_id"):
                return n
        return None

    def term(self, n):
        return int(http_json("POST", f"{self.url(n)}/v3/maintenance/status", {}).get("raftTerm", 0))

    def environment(self):
        return {"BENCH_KIND": "etcd"}


class Vigil(System):
    name = "Vigil"

    def __init__(self, work, binary):
        super().__init__(work)
        self.base = free_port_block(24100, 110)
        subprocess.run([binary, "init", "--nodes", "3", "--dir", work, "--host", "127.0.0.1", "--base-port", str(self.base),
                        "--plain-http"], check=True, stdout=subprocess.DEVNULL)
        self.token = open(f"{work}/admin.token").read().strip()
        self.http = {}
        for n in (1, 2, 3):
            path = f"{work}/node{n}/vigil.yaml"
            text = open(path).read()
            # The per-token rate limit protects a cluster from one runaway client; the bench is that client.
            text = re.sub(r"token_requests_per_second: \d+", "token_requests_per_second: 1000000", text)
            # Likewise an integration key's (storm-bench.sh sends every event with one key).
            text = re.sub(r"integration_requests_per_second: \d+", "integration_requests_per_second: 1000000", text)
            open(path, "w").write(text)
            self.http[n] = re.search(r"http_listen: (\S+)", text).group(1)
            self.processes[n] = subprocess.Popen([binary, "start", "--config", path],
                                                 stdout=open(f"{work}/node{n}.log", "w"), stderr=subprocess.STDOUT)

    def url(self, n):
        return f"http://{self.http[n]}"

    def view(self, n):
        return http_json("GET", f"{self.url(n)}/api/v1/cluster")

    def leader(self):
        for n in (1, 2, 3):
            try:
                if self.view(n).get("role") == "leader":
                    return n
            except OSError:
                continue
        return None

    def term(self, n):
        return int(self.view(n)["term"])

    def environment(self):
        return {"BENCH_KIND": "vigil", "BENCH_TOKEN": self.token}


def wrk(system, node, clients, seconds):
    """One wrk run against one member; returns its JSON line plus the CPU wrk used."""
    threads = min(2, clients)
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", f"{HERE}/wrk/put.lua", system.url(node)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(command, env={**os.environ, **system.environment()}, capture_output=True, text=True,
                            timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in output.stdout.splitlines() if line.startswith("{")]
    if output.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({output.returncode}):\n{output.stdout}\n{output.stderr}")
    result = json.loads(lines[-1])
    result["generator_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def measure(system, target, clients, seconds, warmup_seconds):
    leader = system.wait_leader()
    node = leader if target == "leader" else next(n for n in (1, 2, 3) if n != leader)
    term_before = system.term(leader)
    wrk(system, node, clients, warmup_seconds)
    cpu_before = {n: cpu_seconds(process.pid) for n, process in system.processes.items()}
    result = wrk(system, node, clients, seconds)
    cpu = {n: cpu_seconds(process.pid) - cpu_before[n] for n, process in system.processes.items()}
    writes = result["requests"] - result["non_2xx"]
    duration_s = result["duration_us"] / 1e6
    row = {
        "system": system.name, "target": target, "clients": clients,
        "writes_per_s": writes / duration_s,
        "p50_ms": result["p50_us"] / 1e3, "p99_ms": result["p99_us"] / 1e3, "p999_ms": result["p999_us"] / 1e3,
        "errors": result["non_2xx"] + result["socket_errors"],
        "cpu_per_1000": {("L" if n == leader else "F") + str(n): cpu[n] * 1000 / max(writes, 1) for n in sorted(cpu)},
        "generator_core": result["generator_cpu_s"] / duration_s,
        "term_changes": system.term(system.wait_leader()) - term_before,
    }
    log(f"{system.name} {target} {clients} clients: {row['writes_per_s']:.0f} writes/s, p50 {row['p50_ms']:.2f} ms, "
        f"p99 {row['p99_ms']:.2f} ms, generator {row['generator_core'] * 100:.0f} % of a core")
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vigil")
    parser.add_argument("work")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup-seconds", type=int, default=2)
    parser.add_argument("--clients", default="1,16,64,256")
    parser.add_argument("--targets", default="leader,follower")
    parser.add_argument("--only", choices=["etcd", "vigil"])
    parser.add_argument("--json", help="also write the rows to this file")
    arguments = parser.parse_args()
    clients = [int(c) for c in arguments.clients.split(",")]
    targets = arguments.targets.split(",")
    if any(c < 1 or c > 1024 for c in clients) or any(t not in ("leader", "follower") for t in targets):
        raise SystemExit("--clients takes counts 1–1024, --targets leader and/or follower")
    if os.path.exists(arguments.work):
        shutil.rmtree(arguments.work)
    os.makedirs(arguments.work)

    rows = []
    for kind in ("etcd", "vigil"):
        if arguments.only and arguments.only != kind:
            continue
        work = f"{arguments.work}/{kind}"
        os.makedirs(work)
        system = Etcd(work) if kind == "etcd" else Vigil(work, arguments.vigil)
        try:
            log(f"{system.name}: leader is member {system.wait_leader()}")
            for target in targets:
                for count in clients:
                    rows.append(measure(system, target, count, arguments.seconds, arguments.warmup_seconds))
        finally:
            system.stop()
    if arguments.json:
        with open(arguments.json, "w") as out:
            json.dump(rows, out, indent=1)
    report(rows)


def report(rows):
    print(f"| system | target | clients | writes/s | p50 ms | p99 ms | p99.9 ms | CPU-s per 1,000 writes (L leader, F follower) "
          f"| wrk CPU (core) | errors | term changes |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        cpu = " ".join(f"{node} {value:.2f}" for node, value in row["cpu_per_1000"].items())
        print(f"| {row['system']} | {row['target']} | {row['clients']} | {row['writes_per_s']:,.0f} | {row['p50_ms']:.2f} | "
              f"{row['p99_ms']:.2f} | {row['p999_ms']:.2f} | {cpu} | {row['generator_core']:.2f} | {row['errors']} | "
              f"{row['term_changes']} |")
    by_key = {(row["system"], row["target"], row["clients"]): row for row in rows}
    ratios = []
    for row in rows:
        if row["system"] != "Vigil" or ("etcd", row["target"], row["clients"]) not in by_key:
            continue
        etcd = by_key[("etcd", row["target"], row["clients"])]
        ratios.append((row, etcd))
    if ratios:
        print()
        print("| target | clients | writes/s Vigil / etcd | p50 Vigil / etcd (ms) | p99 Vigil / etcd (ms) |")
        print("|---|---|---|---|---|")
        for vigil, etcd in ratios:
            print(f"| {vigil['target']} | {vigil['clients']} | **{vigil['writes_per_s'] / etcd['writes_per_s']:.2f}×** "
                  f"({vigil['writes_per_s']:,.0f} / {etcd['writes_per_s']:,.0f}) | {vigil['p50_ms']:.2f} / {etcd['p50_ms']:.2f} | "
                  f"{vigil['p99_ms']:.2f} / {etcd['p99_ms']:.2f} |")
    busiest = max(row["generator_core"] for row in rows)
    verdict = "under half a core: the generator is not the bottleneck" if busiest < 0.5 else "OVER half a core: these figures measure wrk"
    print(f"\nload generator: wrk used at most {busiest:.2f} of a core in any run ({verdict})")
    if busiest >= 0.5:
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
