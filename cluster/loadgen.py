#!/usr/bin/env python3
"""One load generator for Vigil and etcd, so both are measured the same way.

HTTP/1.1 with keep-alive, one connection per client thread, JSON bodies, on loopback only.
  load:      N clients write 256-byte values for a fixed time; prints writes/s and p50/p99 latency.
  failover:  writes until one is acknowledged by any endpoint; prints the seconds that took.
Every loop is bounded by a deadline.
"""
import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse


def allowed(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    return host == "localhost" or host.startswith("127.") or host == "::1"


class Target:
    """How one system takes a write: Vigil's settings API or etcd's JSON gateway."""

    def __init__(self, kind, endpoint, value_bytes, token=None):
        self.kind = kind
        self.token = token
        parts = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parts.hostname, parts.port
        self.value = "v" * value_bytes

    def connect(self, timeout_seconds):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout_seconds)

    def write(self, connection, key):
        if self.kind == "vigil":
            body = json.dumps({"value": self.value})
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            connection.request("PUT", f"/api/v1/settings/{key}", body, headers)
        else:
            body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                               "value": base64.b64encode(self.value.encode()).decode()})
            connection.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return 200 <= response.status < 300, response.status


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def run_load(args):
    endpoints = args.endpoints.split(",")
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + args.seconds
    warmup_end = time.monotonic() + args.warmup_seconds

    def client(number):
        target = Target(args.kind, endpoints[number % len(endpoints)], args.value_bytes, token_of(args))
        connection = target.connect(5)
        local, local_errors, sequence = [], 0, 0
        while time.monotonic() < deadline:
            sequence += 1
            started = time.monotonic()
            try:
                ok, _ = target.write(connection, f"k{number}-{sequence % 1000}")
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = target.connect(5)
            finished = time.monotonic()
            if started < warmup_end:
                continue
            if ok:
                local.append(finished - started)
            else:
                local_errors += 1
        with lock:
            latencies.extend(local)
            errors[0] += local_errors

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(args.seconds + 30)
    measured = args.seconds - args.warmup_seconds
    latencies.sort()
    result = {
        "system": args.kind, "clients": args.clients, "writes": len(latencies), "errors": errors[0],
        "writes_per_sec": round(len(latencies) / measured, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    print(json.dumps(result))


def token_of(args):
    """The Vigil API token (settings writes need the admin role); None for etcd."""
    if not args.token_file:
        return None
    with open(args.token_file, encoding="utf-8") as handle:
        return handle.read().strip()


def run_failover(args):
    """Round-robins writes over the endpoints until one is acknowledged; prints the elapsed seconds."""
    endpoints = args.endpoints.split(",")
    started = time.monotonic()
    deadline = started + args.seconds
    attempt = 0
    while time.monotonic() < deadline:
        target = Target(args.kind, endpoints[attempt % len(endpoints)], args.value_bytes, token_of(args))
        attempt += 1
        try:
            connection = target.connect(0.5)
            ok, _ = target.write(connection, f"failover-{attempt}")
            connection.close()
            if ok:
                print(json.dumps({"system": args.kind, "seconds": round(time.monotonic() - started, 3), "attempts": attempt}))
                return 0
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.01)
    print(json.dumps({"system": args.kind, "seconds": None, "attempts": attempt}))
    return 1


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["load", "failover"])
    parser.add_argument("--kind", choices=["vigil", "etcd"], required=True)
    parser.add_argument("--endpoints", required=True, help="comma-separated http://127.x.x.x:port URLs")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--token-file", help="Vigil: file with the bearer token (vigil init writes DIR/admin.token)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=1)
    parser.add_argument("--value-bytes", type=int, default=256)
    args = parser.parse_args()
    for endpoint in args.endpoints.split(","):
        if not allowed(endpoint):
            parser.error(f"endpoint {endpoint!r} is not on loopback; this tool only sends to 127.0.0.0/8")
    if not (1 <= args.clients <= 1024 and 0 < args.seconds <= 600 and 0 <= args.warmup_seconds < args.seconds):
        parser.error("need 1..1024 clients, 0 < seconds <= 600 and warmup shorter than the run")
    if args.mode == "load":
        run_load(args)
        return 0
    return run_failover(args)


if __name__ == "__main__":
    sys.exit(main())
