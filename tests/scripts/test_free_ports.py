"""`make run` checks its ports first: a second `make run` used to start every process and
stop them again after the demo page server's "Address already in use" traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from devkit.servers import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "free-ports.sh"


def run(*ports: int) -> subprocess.CompletedProcess[str]:
    args = [str(SCRIPT), "127.0.0.1", *map(str, ports)]
    return subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)


def test_a_taken_port_is_named_and_stops_the_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(free_port(), port)
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr
    assert "make run" in result.stderr
    assert result.stderr.count("already in use") == 1


def test_free_ports_pass_quietly() -> None:
    result = run(free_port(), free_port())
    assert (result.returncode, result.stderr) == (0, "")
