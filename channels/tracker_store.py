"""Rasa's SQL tracker store, with SQLite set up for a chat server.

Rasa commits to the tracker store at least twice a turn (the shopper's message, then the
bot's actions), on the event loop that serves every conversation. In SQLite's default
rollback-journal mode a commit waits for several fsyncs: 19 ms a commit on the 2-core
box of README "Measurements", so under 20 shoppers a third of the loop's time went to
waiting for the disk. In write-ahead-log mode with `synchronous=NORMAL` a commit is an
append to the log (0.02 ms there) and the disk is synced at checkpoints. Rasa's engine
opens and closes a connection for every query (SQLAlchemy 1.4's default for SQLite
files), and closing the last connection to a WAL database checkpoints it, fsync
included; so the connections are pooled and stay open. A power cut can
lose the last turns, never corrupt the file; the embedded SQLite store is the
development and single-machine default (`make run`), and production runs PostgreSQL,
whose engine this class leaves as Rasa's `SQLTrackerStore` has it.

Saving a turn appends the events the tracker has and the database has not. Rasa finds
them by counting the stored events of the latest session (a query with a subquery, on
every save: two or three a turn, ~6% of the server's time under load); a tracker this
store has just read, or saved, already knows how many of its events are stored, so only
a tracker from elsewhere is counted (`_additional_events`).

endpoints.yml names this class as the tracker store `type`. Rasa falls back to an
in-memory store, with only a log line, when a custom type cannot be imported, so the
tests start the real server and read the conversation back from the database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

# Readers (transcript downloads, the retention job, the agent desk) wait this long for a
# writer instead of failing at once with "database is locked".
BUSY_TIMEOUT_MS = 5000


def tune_sqlite_connection(dbapi_connection: Any, _record: Any = None) -> None:
    """Per-connection settings: `synchronous` is not stored in the file."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


# Set on a tracker object: how many of its first events are in the database.
STORED = "_events_in_store"

# Open connections kept for the loop, the transcript routes and the agent desk.
POOL_SIZE = 4


def is_sqlite_file(engine: sa.engine.Engine) -> bool:
    """A SQLite database in a file (an in-memory one is a database per connection)."""
    database = engine.url.database or ""
    return engine.dialect.name == "sqlite" and database not in ("", ":memory:")


def write_ahead_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """An engine on a SQLite file in WAL mode, with pooled, tuned connections.

    `check_same_thread` is off because a pooled connection may serve a query from a
    thread other than the one that opened it; Python's sqlite3 module serialises them.
    """
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=POOL_SIZE,
        connect_args={"check_same_thread": False},
    )
    sa.event.listen(engine, "connect", tune_sqlite_connection)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


class ConversationStore(SQLTrackerStore):
    """`SQLTrackerStore` that puts a SQLite database in write-ahead-log mode and counts
    the stored events of a tracker only when it does not know them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rasas_engine: sa.engine.Engine = self.engine  # type: ignore[has-type]  # untyped in Rasa
        if is_sqlite_file(rasas_engine):
            rasas_engine.dispose()
            self.engine = write_ahead_engine(rasas_engine.url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            # All its events were just read from the latest session: Rasa's count
            # would find exactly these.
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        setattr(tracker, STORED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        stored = getattr(tracker, STORED, None)
        # A deque with a maximum length drops old events: only a count can tell then.
        if stored is None or stored > len(tracker.events) or tracker.events.maxlen is not None:
            return super()._additional_events(session, tracker)  # type: ignore[no-any-return]
        return itertools.islice(tracker.events, stored, len(tracker.events))
