"""A real Rasa server with the web chat channel (and a fake agent desk) for protocol tests.

One server per test session on a temporary SQLite tracker store, plus the action server,
because the first bot message comes from our custom action_session_start. PostgreSQL
tests get their own server on a throw-away database; they are skipped when the server
is unreachable, except in CI (env CI set), where that fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from devkit.servers import (
    find_model,
    start_action_server,
    start_rasa,
    stop,
    write_endpoints,
)
from tests.support.databases import postgres_database

ROOT = Path(__file__).resolve().parents[2]

SECRET = "test-secret-" + "s" * 40
ALLOWED_ORIGIN = "http://localhost:8080"
CREDENTIALS = """\
channels.webchat.WebchatInput:
  extensions: ["tests.channels.fake_extension:FakeDesk"]
"""


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a test Rasa server: production-like, with a test secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCHAT_")}
    env.update(
        APP_ENV="test",
        WEBCHAT_SECRET=SECRET,
        WEBCHAT_ALLOWED_ORIGINS=f"{ALLOWED_ORIGIN},http://127.0.0.1:8080",
        WEBCHAT_RATE_LIMIT="5/10",
        # Every test client connects from 127.0.0.1: the per-address budgets are tested
        # in tests/scale/test_multiworker_budgets.py, with a trusted proxy's addresses.
        WEBCHAT_ADDRESS_RATE_LIMIT="10000/60",
        WEBCHAT_ADDRESS_SESSION_LIMIT="10000/600",
        WEBCHAT_MAX_MESSAGE_CHARS="2000",
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def model() -> Path:
    return find_model()


@pytest.fixture(scope="session")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webchat") / "credentials.yml"
    path.write_text(CREDENTIALS)
    return path


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Agents are in all week: the handover tests want the live queue whatever the hour
    # (at 20:00 Berlin time test_extension_seam met "leave a message" instead).
    env = {
        **os.environ,
        "HANDOVER_OPENING_HOURS": "mon-sun 00:00-24:00",
        "HANDOVER_TIMEZONE": "UTC",
    }
    url, proc = start_action_server(env)
    yield url
    stop(proc)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('webchat-db') / 'rasa.db'}"


@pytest.fixture(scope="session")
def rasa_server(
    model: Path, action_server: str, credentials_file: Path, sqlite_url: str
) -> Iterator[tuple[str, Path]]:
    """The SQLite server's URL and its log file."""
    env = server_env(sqlite_url, ACTION_SERVER_URL=action_server)
    endpoints = write_endpoints(
        credentials_file.with_name("sqlite-endpoints.yml"), action_server, sqlite_url
    )
    base_url, proc = start_rasa(model, env, credentials_file, endpoints_path=endpoints)
    yield base_url, proc.log_path  # type: ignore[attr-defined]  # set by servers._spawn
    stop(proc)


@pytest.fixture(scope="session")
def rasa_url(rasa_server: tuple[str, Path]) -> str:
    return rasa_server[0]


@pytest.fixture(scope="session")
def sqlite_engine(rasa_url: str, sqlite_url: str) -> Iterator[sa.engine.Engine]:
    engine = sa.create_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database("webchat_test") as url:
        yield url


@pytest.fixture(scope="session")
def pg_rasa(
    model: Path, action_server: str, credentials_file: Path, postgres_url: str
) -> Iterator[dict[str, Any]]:
    env = server_env(postgres_url, ACTION_SERVER_URL=action_server)
    endpoints = write_endpoints(
        credentials_file.with_name("pg-endpoints.yml"), action_server, postgres_url
    )
    base_url, proc = start_rasa(model, env, credentials_file, endpoints_path=endpoints)
    engine = sa.create_engine(postgres_url)
    yield {"url": base_url, "engine": engine}
    engine.dispose()
    stop(proc)
