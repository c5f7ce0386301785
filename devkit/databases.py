"""Throw-away PostgreSQL databases for test suites and benchmarks, on one server.

Every suite or benchmark run gets a database of its own, so runs sharing the server cannot
see each other's rows, and counts afterwards are this run's only. An unreachable server
raises DatabaseUnreachable: whether that skips or fails is the caller's decision (the
tests' fixtures skip locally and fail in CI; a benchmark stops).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class DatabaseUnreachable(RuntimeError):
    """The PostgreSQL server could not be reached to create the database."""


def postgres_admin_url() -> str:
    """The server to create databases on: env TEST_POSTGRES_URL, else the local default."""
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@contextmanager
def throwaway_postgres(prefix: str, admin_url: str | None = None) -> Iterator[str]:
    """Create `<prefix>_<random>` and yield its URL; drop it (and its sessions) afterwards."""
    admin_url = admin_url or postgres_admin_url()
    admin = sa.create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        raise DatabaseUnreachable(f"PostgreSQL at {admin_url} is unreachable: {error}") from error
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
