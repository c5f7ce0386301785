"""One retention run at a time per database.

PostgreSQL: a session-level advisory lock on a connection held for the whole run; the
server drops it if the job dies, so a crash never leaves a stale lock behind.
SQLite: an exclusive flock on a file next to the database, which the kernel likewise
releases when the process ends. Either way the primary key on the statistics day is the
second line of defence.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

#: Arbitrary but fixed 64-bit key: "retention" in ASCII, so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x726574656E74696F


class LockBusy(RuntimeError):
    """Another run holds the lock; this run did nothing."""


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file beside an SQLite database file, or None for in-memory databases."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database + ".retention-lock")


@contextlib.contextmanager
def _postgres_lock(engine: Engine) -> Iterator[str]:
    with engine.connect() as conn:
        acquired = conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar()
        conn.commit()
        if not acquired:
            raise LockBusy("another retention run holds the PostgreSQL advisory lock")
        try:
            yield "pg_advisory_lock"
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[str]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockBusy(f"another retention run holds {path}") from exc
        yield "file_lock"
    finally:
        os.close(fd)


@contextlib.contextmanager
def run_lock(engine: Engine) -> Iterator[str]:
    """Hold the run lock for the block; yields the kind of guard used, for the summary."""
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine) as kind:
            yield kind
        return
    if engine.dialect.name == "sqlite":
        path = sqlite_lock_path(engine)
        if path is not None:
            with _file_lock(path) as kind:
                yield kind
            return
    yield "unique_day_key_only"
