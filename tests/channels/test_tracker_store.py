"""The tracker store: SQLite files in write-ahead-log mode, PostgreSQL as Rasa has it.

The server-level test proves endpoints.yml really loads our class: Rasa would fall back
to an in-memory store, with one log line, if it could not import it, and the database
file would then be left in SQLite's default journal mode.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.tracker_store import ConversationStore, tune_sqlite_connection
from tests.support.databases import postgres_database


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("where is my order?", {"name": "order_status", "confidence": 1.0}))
    tracker.update(BotUttered("Your order number, please?"))
    return tracker


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    """An empty store on a fresh SQLite file, or on a throw-away PostgreSQL database."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'rasa.db'}"
        else:
            url = stack.enter_context(postgres_database("tracker_store_test"))
        opened = ConversationStore(domain=Domain.empty(), host=url)
        stack.callback(opened.engine.dispose)
        yield opened


async def saved_and_read_back(store: ConversationStore, sender: str) -> list[str]:
    await store.save(conversation(sender))
    tracker = await store.retrieve(sender)
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


async def test_a_sqlite_file_is_kept_in_a_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "rasa.db"
    store = ConversationStore(domain=Domain.empty(), host=f"sqlite:///{path}")

    said = await saved_and_read_back(store, "shopper-1")

    assert said == ["where is my order?", "Your order number, please?"]
    with sqlite3.connect(path) as other:  # e.g. the retention job or a backup script
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = other.execute("SELECT count(*) FROM events WHERE sender_id = 'shopper-1'")
        assert rows.fetchone()[0] == 3
    with store.engine.connect() as conn:
        # 1 = NORMAL: commits append to the log; the disk is synced at checkpoints.
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    store.engine.dispose()


async def test_connections_stay_open_between_turns(tmp_path: Path) -> None:
    """Closing the last connection checkpoints a WAL database (an fsync) every time."""
    store = ConversationStore(domain=Domain.empty(), host=f"sqlite:///{tmp_path / 'rasa.db'}")
    opened: list[object] = []
    sa.event.listen(store.engine, "connect", lambda conn, _record: opened.append(conn))

    for turn in range(5):
        await saved_and_read_back(store, f"shopper-{turn}")

    assert opened == []  # all served by the connection the store opened at start
    store.engine.dispose()


async def test_an_in_memory_sqlite_store_still_works() -> None:
    store = ConversationStore(domain=Domain.empty(), host="sqlite://")
    assert await saved_and_read_back(store, "shopper-1") == [
        "where is my order?",
        "Your order number, please?",
    ]


async def test_postgresql_is_left_as_rasa_configures_it() -> None:
    with postgres_database("tracker_store_test") as url:
        store = ConversationStore(domain=Domain.empty(), host=url)
        try:
            assert store.engine.dialect.name == "postgresql"
            assert not sa.event.contains(store.engine, "connect", tune_sqlite_connection)
            assert await saved_and_read_back(store, "shopper-1") == [
                "where is my order?",
                "Your order number, please?",
            ]
        finally:
            store.engine.dispose()


@pytest.mark.usefixtures("sqlite_engine")
def test_the_server_keeps_conversations_in_a_write_ahead_log(
    rasa_url: str, sqlite_url: str
) -> None:
    """The running server (fixtures write endpoints like the repository's) used our store."""
    from tests.channels.test_webchat_transcript import chat_a_little

    engine = sa.create_engine(sqlite_url)
    try:
        chat, _session = chat_a_little(rasa_url, engine, "hi")
        chat.close()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


@contextmanager
def counted_statements(store: ConversationStore) -> Iterator[list[str]]:
    """The SQL statements the store runs inside the block."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)


def stored_texts(store: ConversationStore, sender: str) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    return [row.type_name for row in rows]


async def turns_are_stored_once_without_counting(store: ConversationStore) -> None:
    """Turns as Rasa's processor has them: read the tracker, save after the message and
    again after the bot's actions, on the same object; a new session in the middle."""
    await store.save(conversation("shopper-1"))
    with counted_statements(store) as statements:
        for turn in range(3):
            tracker = await store.retrieve("shopper-1")
            assert tracker is not None
            if turn == 1:  # the session expired: Rasa appends a new start
                tracker.update(ActionExecuted("action_session_start"))
                tracker.update(SessionStarted())
                tracker.update(ActionExecuted("action_listen"))
            tracker.update(UserUttered(f"message {turn}", {"name": "inform", "confidence": 1.0}))
            await store.save(tracker)
            tracker.update(BotUttered(f"answer {turn}"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
    assert not [s for s in statements if "count(" in s.lower()], statements
    types = stored_texts(store, "shopper-1")
    # 3 from the first save, 3 a turn, 3 more for the new session's start
    assert len(types) == 3 + 3 * 3 + 3, types
    read = await store.retrieve("shopper-1")
    assert read is not None
    said = [e.text for e in read.events if isinstance(e, (UserUttered, BotUttered))]
    assert said == ["message 1", "answer 1", "message 2", "answer 2"]


async def test_each_event_is_stored_once_and_nothing_counted(store: ConversationStore) -> None:
    await turns_are_stored_once_without_counting(store)


async def test_a_tracker_the_store_did_not_read_is_counted(store: ConversationStore) -> None:
    """A tracker built elsewhere (here: the same conversation rebuilt from its events)
    has its stored events counted, as Rasa does, so nothing is stored twice."""
    await store.save(conversation("shopper-1"))
    rebuilt = conversation("shopper-1")
    rebuilt.update(BotUttered("Thanks!"))
    with counted_statements(store) as statements:
        await store.save(rebuilt)
    assert [s for s in statements if "count(" in s.lower()]
    assert stored_texts(store, "shopper-1") == ["action", "user", "bot", "bot"]


def two_sessions(sender: str) -> DialogueStateTracker:
    """A conversation with slots, entities and a second session."""
    from rasa.shared.core.events import SlotSet

    tracker = DialogueStateTracker(sender, slots=[])
    for event in (
        ActionExecuted("action_session_start", timestamp=999.0),
        SessionStarted(timestamp=1_000.0),
        ActionExecuted("action_listen", timestamp=1_001.0),
        UserUttered("order 40012345", {"name": "order_status", "confidence": 0.9},
                    [{"entity": "order_number", "value": "40012345", "start": 6, "end": 14}],
                    timestamp=1_002.0),
        SlotSet("order_number", "40012345", timestamp=1_003.0),
        BotUttered("Your email, please?", {"buttons": []}, timestamp=1_004.0),
        ActionExecuted("action_session_start", timestamp=2_000.0),
        SessionStarted(timestamp=2_000.0),
        ActionExecuted("action_listen", timestamp=2_001.0),
        UserUttered("hej", {"name": "greet", "confidence": 1.0}, timestamp=2_002.0),
    ):  # fmt: skip
        tracker.update(event)
    return tracker


async def test_reads_and_writes_are_rasas(store: ConversationStore) -> None:
    """Our statements against Rasa's own SQLTrackerStore methods, on the same database."""
    from rasa.core.tracker_store import SQLTrackerStore

    domain = Domain.from_dict({"slots": {"order_number": {"type": "text", "mappings": []}}})
    store.domain = domain
    await store.save(two_sessions("ours"))
    await SQLTrackerStore.save(store, two_sessions("rasas"))
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                    "FROM events ORDER BY id")
        ).all()  # fmt: skip
    ours = [tuple(r)[1:] for r in rows if r.sender_id == "ours"]
    rasas = [tuple(r)[1:] for r in rows if r.sender_id == "rasas"]
    assert len(ours) == 10 and ours == rasas
    for all_sessions in (False, True):
        for sender in ("ours", "rasas", "nobody"):
            read = await store._retrieve(sender, all_sessions)
            expected = await SQLTrackerStore._retrieve(store, sender, all_sessions)
            if expected is None:
                assert read is None
                continue
            assert read is not None
            assert read.events == expected.events
            assert read.current_slot_values() == expected.current_slot_values()
            assert len(read.events) == (10 if all_sessions else 4)


# Rasa's wrappers: `rasa run`'s agent holds its store behind the fail-safe one
# (rasa/core/agent.py `_create_tracker_store`), a store without async methods is behind
# the awaitable one as well.
WRAPPED = {
    "fail-safe": FailSafeTrackerStore,
    "awaitable": AwaitableTrackerStore,
    "both": lambda store: FailSafeTrackerStore(AwaitableTrackerStore(store)),
}


@pytest.mark.parametrize("wrapper", WRAPPED)
async def test_a_new_conversation_is_stored_without_counting(
    store: ConversationStore, wrapper: str
) -> None:
    """Through Rasa's wrappers, as `rasa run` holds the store: a wrapper makes new trackers
    itself unless taught otherwise, and its save then counted the stored events."""
    served: TrackerStore = WRAPPED[wrapper](store)
    with counted_statements(store) as statements:
        tracker = await served.get_or_create_tracker("new-shopper")
    assert not [s for s in statements if "count(" in s.lower()], statements
    assert [e.as_dict()["name"] for e in tracker.events] == ["action_listen"]
    assert stored_texts(store, "new-shopper") == ["action"]
    again = await served.get_or_create_tracker("new-shopper")  # read, not made again
    assert len(again.events) == 1 and stored_texts(store, "new-shopper") == ["action"]


@pytest.mark.parametrize("wrapper", WRAPPED)
async def test_a_new_session_is_stored_without_counting(
    store: ConversationStore, wrapper: str
) -> None:
    """The web chat's session start: Rasa's processor makes an empty tracker (nothing to
    write yet), runs the session start on it and saves that."""
    served: TrackerStore = WRAPPED[wrapper](store)
    with counted_statements(store) as statements:
        tracker = await served.get_or_create_tracker("new-shopper", append_action_listen=False)
        written_while_empty = list(statements)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await served.save(tracker)
    assert not [s for s in statements if "count(" in s.lower()], statements
    assert not [s for s in written_while_empty if s.lower().lstrip().startswith("insert")]
    assert stored_texts(store, "new-shopper") == ["action", "session_started", "action"]
    read = await served.retrieve("new-shopper")  # the latest session: from session_started
    assert read is not None and list(read.events) == list(tracker.events)[1:]


async def test_a_failing_database_still_gives_a_new_conversation(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fail-safe wrapper's promise is kept: when the database fails, the new tracker is
    kept in its in-memory store and the conversation goes on."""
    served = FailSafeTrackerStore(store)

    async def down(*_args: object, **_kwargs: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))

    monkeypatch.setattr(ConversationStore, "save", down)
    tracker = await served.get_or_create_tracker("shopper-in-a-storm")
    assert [e.as_dict()["name"] for e in tracker.events] == ["action_listen"]
    kept = await served.fallback_tracker_store.retrieve("shopper-in-a-storm")
    assert kept is not None and list(kept.events) == list(tracker.events)
    assert stored_texts(store, "shopper-in-a-storm") == []
