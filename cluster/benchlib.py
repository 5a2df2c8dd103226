"""Helpers shared by the bench scripts in this folder (loopback only)."""
import socket


def port_free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_base_port(start):
    """A base port B with B+1..3 (peers) and B+101..103 (API) free on 127.0.0.1."""
    for base in range(start, 60000, 250):
        if all(port_free(base + n) for n in (1, 2, 3, 101, 102, 103)):
            return base
    raise SystemExit("no free ports")
