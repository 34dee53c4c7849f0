"""Free loopback ports, for a code server, deployment, test or benchmark started beside another."""

import socket


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
