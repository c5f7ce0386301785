"""Real tracker stores for the insights tests: SQLite files and a throw-away PostgreSQL DB.

PostgreSQL tests are skipped when the server is unreachable, except in CI (env CI set),
where an unreachable server fails the session instead: a skipped test there is a failure.
The fixtures are shared with tests/retention (retention_support.py).
"""

from __future__ import annotations

import gc

from tests.retention.retention_support import pg_url, sqlite_store, store

__all__ = ["pg_url", "sqlite_store", "store"]

# Rasa's import leaves a huge heap that pytest's per-test gc.collect() walks again and
# again (about 0.25 s a test); freezing it keeps the suite fast without hiding anything.
gc.freeze()
