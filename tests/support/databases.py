"""Throw-away PostgreSQL databases for test suites, on TEST_POSTGRES_URL's server.

Every suite gets a database of its own, so suites sharing the server cannot see each
other's rows. An unreachable server skips the tests on a developer's machine but fails
them in CI (env CI set): there a skipped PostgreSQL test would hide a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def unreachable(what: str, error: Exception) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} is unreachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must not skip this test)")
    pytest.skip(message)


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """Create `<prefix>_<random>` and yield its URL; drop it (and its sessions) afterwards."""
    admin_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        unreachable(f"PostgreSQL at {admin_url}", error)
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
