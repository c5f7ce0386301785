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

A new conversation's tracker is made only after a read found none of its events (Rasa's
`get_or_create_tracker`), so it is saved without counting too (`create_tracker`). Rasa
holds a tracker store behind wrappers that pass on reads and saves but make new trackers
themselves, and so counted again: `rasa run`'s agent behind `FailSafeTrackerStore`
(which saves to an in-memory store when the database fails), a store without async
methods behind `AwaitableTrackerStore`. Both are taught to leave that to this store
(`install()`, at import, before Rasa wraps the store); when the database fails there,
the fail-safe wrapper makes the tracker in its own way, falling back as before.

Reading and writing go through SQLAlchemy Core instead of the ORM: under load the ORM's
query objects (rebuilt for every read), one object per event row and its unit of work on
every commit took a quarter of the Rasa server's event loop, with the tracker rebuilt
from the events on top (README "Measurements"). The statements are Rasa's: the events
of the conversation's latest session (from its last `session_started`, or all of them if
it has none) or of all sessions, in the order they were stored, read through Rasa's own
session (which checks a PostgreSQL schema where one is set); the rows written are the
rows Rasa writes, column for column. `tests/channels/test_tracker_store.py` compares
both with Rasa's own methods on SQLite and PostgreSQL.

endpoints.yml names this class as the tracker store `type`. Rasa falls back to an
in-memory store, with only a log line, when a custom type cannot be imported, so the
tests start the real server and read the conversation back from the database.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

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


def latest_session_events(table: sa.Table) -> sa.sql.Select:
    """The `data` of a conversation's events since its last session start, as stored."""
    events = table.c
    session_start = (
        sa.select(sa.func.max(events.timestamp).label("session_start"))
        .where(
            events.sender_id == sa.bindparam("sender_id"),
            events.type_name == SessionStarted.type_name,
        )
        .subquery()
    )
    return (
        sa.select(events.data)
        .where(
            events.sender_id == sa.bindparam("sender_id"),
            sa.or_(
                events.timestamp >= session_start.c.session_start,
                session_start.c.session_start.is_(None),
            ),
        )
        .order_by(events.id)
    )


def all_session_events(table: sa.Table) -> sa.sql.Select:
    """The `data` of all a conversation's events, as stored."""
    events = table.c
    return (
        sa.select(events.data)
        .where(events.sender_id == sa.bindparam("sender_id"))
        .order_by(events.id)
    )


def event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The row Rasa's SQLTrackerStore.save writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


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
        self.events_table: sa.Table = self.SQLEvent.__table__
        self.reads = {
            False: latest_session_events(self.events_table),
            True: all_session_events(self.events_table),
        }

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            texts = session.execute(
                self.reads[fetch_events_from_all_sessions], {"sender_id": sender_id}
            ).scalars()
            events = [json.loads(text) for text in texts]
        if not self.domain or not events:
            logger.debug("No stored events of conversation %s", sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            # All its events were just read from the latest session: Rasa's count
            # would find exactly these.
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def create_tracker(
        self, sender_id: str, append_action_listen: bool = True
    ) -> DialogueStateTracker:
        """Rasa's, for a conversation a read has just found no event of: none are counted."""
        tracker = self.init_tracker(sender_id)
        setattr(tracker, STORED, 0)
        if append_action_listen:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await self.save(tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Appends the events the database does not have, in one statement."""
        await self.stream_events(tracker)
        if getattr(tracker, STORED, None) == len(tracker.events) and tracker.events.maxlen is None:
            return  # the database has them all: a new conversation before its first event
        with self.session_scope() as session:
            rows = [
                event_row(tracker.sender_id, e) for e in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(sa.insert(self.events_table), rows)
            session.commit()
        setattr(tracker, STORED, len(tracker.events))

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Any]:
        stored = getattr(tracker, STORED, None)
        # A deque with a maximum length drops old events: only a count can tell then.
        if stored is None or stored > len(tracker.events) or tracker.events.maxlen is not None:
            return super()._additional_events(session, tracker)  # type: ignore[no-any-return]
        return itertools.islice(tracker.events, stored, len(tracker.events))


_WRAPPERS = (AwaitableTrackerStore, FailSafeTrackerStore)
_rasas_create_tracker = {wrapper: wrapper.create_tracker for wrapper in _WRAPPERS}


async def _create_tracker(
    self: AwaitableTrackerStore | FailSafeTrackerStore,
    sender_id: str,
    append_action_listen: bool = True,
) -> DialogueStateTracker:
    """A wrapper's `create_tracker`: this store's own, for this store."""
    failsafe = isinstance(self, FailSafeTrackerStore)
    rasas = _rasas_create_tracker[FailSafeTrackerStore if failsafe else AwaitableTrackerStore]
    store = self._tracker_store
    while isinstance(store, _WRAPPERS):
        store = store._tracker_store
    if not isinstance(store, ConversationStore):
        return await rasas(self, sender_id, append_action_listen)
    # Rasa's get_or_create_tracker sets the history length on the outer wrapper.
    store.max_event_history = self.max_event_history
    try:
        return await store.create_tracker(sender_id, append_action_listen)
    except Exception:
        if not failsafe:
            raise
        # the fail-safe wrapper's own way reports it and falls back to memory
        return await rasas(self, sender_id, append_action_listen)


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    for wrapper in _WRAPPERS:
        wrapper.create_tracker = _create_tracker  # type: ignore[method-assign]


install()
