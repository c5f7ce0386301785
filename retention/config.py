"""Finding the tracker store the same way Rasa does, and opening it safely.

The URL comes from `--db-url` or from the `tracker_store` section of endpoints.yml, read
with Rasa's own reader (so `${DATABASE_URL}` and the other environment variables are
interpolated exactly as the server sees them) and turned into a URL by Rasa's own
`SQLTrackerStore.get_db_url`. Rasa is imported lazily: `--db-url` runs never pay for it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.engine.url import make_url

DEFAULT_ENDPOINTS = Path("endpoints.yml")
CONNECT_TIMEOUT_SECONDS = 10


class ConfigError(ValueError):
    """The configuration cannot name a usable SQL tracker store."""


def url_from_endpoints(path: Path) -> str | URL:
    """The tracker store URL configured in `path`, interpolating environment variables."""
    if not path.is_file():
        raise ConfigError(f"endpoints file not found: {path}")
    try:
        from rasa.shared.utils.io import read_config_file

        content = read_config_file(str(path))
    except Exception as exc:  # Rasa raises several types for YAML and ${VAR} problems
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    section = content.get("tracker_store")
    if not isinstance(section, dict):
        raise ConfigError(f"{path} has no tracker_store section")
    return url_from_tracker_store_section(section)


# Rasa's own SQL store, and ours that only tunes SQLite (channels/tracker_store.py).
SQL_TYPES = frozenset({"sql", "channels.tracker_store.conversationstore"})


def url_from_tracker_store_section(section: dict[str, Any]) -> str | URL:
    """Apply Rasa's SQLTrackerStore rules to an already-read `tracker_store` section."""
    # Rasa's declarative_base() triggers SQLAlchemy's "2.0 migration" banner, which is
    # printed straight to stderr (not through `warnings`) and would land in every cron
    # mail; this is the switch SQLALCHEMY_SILENCE_UBER_WARNING=1 sets at import time.
    from sqlalchemy.util import deprecations

    deprecations.SILENCE_UBER_WARNING = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig.from_dict(dict(section))
    if str(endpoint.type or "").lower() not in SQL_TYPES:
        raise ConfigError(
            f"tracker_store type is {endpoint.type!r}; only the SQL tracker store can be pruned"
        )
    kwargs = endpoint.kwargs
    try:
        return SQLTrackerStore.get_db_url(
            dialect=kwargs.get("dialect", "sqlite"),
            host=endpoint.url,
            port=kwargs.get("port"),
            db=kwargs.get("db", "rasa.db"),
            username=kwargs.get("username"),
            password=kwargs.get("password"),
            query=kwargs.get("query"),
        )
    except Exception as exc:
        raise ConfigError(f"invalid tracker_store settings: {exc}") from exc


def make_engine(url: str | URL) -> Engine:
    """An engine for `url` that fails fast and never creates an SQLite file by accident.

    A typo in an SQLite path would otherwise create an empty database and report a
    successful run that deleted nothing.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:
        raise ConfigError(f"invalid database URL: {exc}") from exc
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not Path(database).is_file():
            raise ConfigError(f"SQLite database not found: {database}")
        connect_args["timeout"] = 30
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    try:
        return sa.create_engine(parsed, future=True, connect_args=connect_args)
    except Exception as exc:  # unknown dialect, missing driver
        raise ConfigError(f"cannot use database URL: {exc}") from exc


def describe(url: str | URL) -> str:
    """The URL with any password hidden, safe for logs and the summary line."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)
