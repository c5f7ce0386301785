"""Queue stores on SQLite files and on a throw-away PostgreSQL database.

PostgreSQL tests are skipped when the server is unreachable, except in CI (env CI set),
where an unreachable server fails instead: a skipped test there would hide a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.models import Base
from handover.store import HandoverStore, make_engine
from tests.handover.helpers import FakeClock
from tests.support.databases import postgres_database


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("handover_test") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty queue database: a fresh SQLite file, or the PG database with fresh tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rasa.db'}"
        return
    url = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()
    yield url


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def store(db_url: str, clock: FakeClock) -> Iterator[HandoverStore]:
    s = HandoverStore(make_engine(db_url), clock=clock, default_handling_minutes=4.0)
    s.create_schema()
    yield s
    s.engine.dispose()
