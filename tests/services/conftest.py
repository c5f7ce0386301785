"""The reference service as a subprocess on a free port, as `python -m services` runs it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-03-10"


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path_factory.mktemp("reference") / "ref.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services", "--port", str(port), "--db", str(db),
         "--today", TODAY],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "reference service exited"
            try:
                if requests.get(f"{url}/health", timeout=0.5).ok:
                    break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "reference service did not start"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
