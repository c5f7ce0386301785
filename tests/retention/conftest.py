"""Real tracker stores for the retention tests: SQLite files and a throw-away PostgreSQL DB.

PostgreSQL tests are skipped when the server is unreachable, except in CI (env CI set),
where an unreachable server fails the session instead: a skipped test there is a failure.
The fixtures live in retention_support.py so that tests/insights can use them too.
"""

from __future__ import annotations

import gc

from tests.retention.retention_support import pg_url, sqlite_store, store

__all__ = ["pg_url", "sqlite_store", "store"]

# Rasa's import leaves a huge heap that pytest's per-test gc.collect() walks again and
# again (about 0.25 s a test); freezing it keeps the suite fast without hiding anything.
gc.freeze()
