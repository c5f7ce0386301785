"""Throw-away PostgreSQL databases for test fixtures: devkit's, with the tests' skip policy.

An unreachable server skips the tests on a developer's machine but fails them in CI (env
CI set): there a skipped PostgreSQL test would hide a failure. devkit itself knows nothing
of pytest, so benchmarks use it directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import NoReturn

import pytest

from devkit.databases import DatabaseUnreachable, throwaway_postgres


def skip_or_fail(message: str) -> NoReturn:
    """Skip locally, fail in CI."""
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must not skip this test)")
    pytest.skip(message)


def unreachable(what: str, error: Exception) -> NoReturn:
    """A server the test needs is down: skip locally, fail in CI."""
    skip_or_fail(f"{what} is unreachable: {error}")


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throw-away database on TEST_POSTGRES_URL's server; skipped or failed if unreachable."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_postgres(prefix))
        except DatabaseUnreachable as error:
            skip_or_fail(str(error))
        yield url
