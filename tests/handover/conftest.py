"""Queue stores on SQLite files and on a throw-away PostgreSQL database.

PostgreSQL tests are skipped when the server is unreachable, except in CI (env CI set),
where an unreachable server fails instead: a skipped test there would hide a failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from handover.models import Base  # noqa: E402
from handover.store import HandoverStore, make_engine  # noqa: E402
from tests.handover.helpers import FakeClock  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    admin_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG_URL)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True,
                             connect_args={"connect_timeout": 5})
    name = f"handover_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {admin_url}: {exc.orig}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    url = sa.engine.make_url(admin_url).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
