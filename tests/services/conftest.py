"""The reference service as a subprocess on a free port, as `python -m services` runs it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.servers import stop
from devkit.stack import start_reference_service

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-03-10"


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("reference") / "ref.db"
    url, proc = start_reference_service(dict(os.environ), str(db), ("--today", TODAY))
    yield url
    stop(proc)
