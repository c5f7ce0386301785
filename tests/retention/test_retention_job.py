"""The retention job against real SQLite files and a real PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from retention.clock import cutoff_for, day_of, day_start
from retention.guard import LockBusy, run_lock
from retention.job import RunOptions, run
from retention.prune import prune
from retention.schema import ensure_schema
from retention.stats import rollup
from tests.retention.retention_support import DAY, Store, conversation, reference_stats

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.timezone.utc)
CUTOFF = cutoff_for(NOW, 90)  # 2026-03-17T00:00Z
C = CUTOFF.timestamp()


def options(**kw: Any) -> RunOptions:
    base: dict[str, Any] = {"cutoff": CUTOFF, "days": 90}
    base.update(kw)
    return RunOptions(**base)


def fill(store: Store) -> None:
    """Conversations of every kind spread over 12 days, several straddling the cutoff."""
    kinds = [
        "plain",
        "fallback",
        "handover",
        "message",
        "feedback",
        "pause_only",
        "idle",
        "fallback_handover",
    ]
    chats: list[tuple[str, list[Any]]] = []
    n = 0
    for day in range(-8, 4):  # days relative to the cutoff day
        for k, kind in enumerate(kinds[: 2 + (day % 6)]):
            n += 1
            chats.append((f"conv-{n}", conversation(kind, C + day * DAY + 3600 * (k + 1), n)))
    # straddling: the same sender on both sides of the cutoff, and across midnight
    for i in range(3):
        chats.append((f"straddle-{i}", conversation("plain", C - DAY + 3 * 3600 * i, 900 + i)))
        chats.append((f"straddle-{i}", conversation("handover", C + 60 * i, 910 + i)))
    chats.append(("midnight", conversation("fallback", C - 5, 999)))  # events at C-5 .. C+4
    store.add_all(chats)


def test_cutoff_is_utc_midnight_90_days_back() -> None:
    assert dt.datetime(2026, 3, 17, tzinfo=dt.timezone.utc) == CUTOFF
    late = dt.datetime(2026, 6, 15, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert cutoff_for(late, 90) == dt.datetime(2026, 3, 18, tzinfo=dt.timezone.utc)


def test_just_inside_and_just_outside(store: Store) -> None:
    store.add("outside", [conversation("plain", C - 10)[0]])
    store.add("edge-old", conversation("idle", C - 0.001))
    store.add("edge-new", conversation("idle", C))
    store.add("inside", conversation("plain", C + 0.5))
    summary = run(store.engine, options())
    remaining = {(s, t) for s, _type, t, _d in store.events()}
    assert {s for s, _ in remaining} == {"edge-new", "inside"}
    assert min(t for _, t in remaining) == C
    assert summary["events_deleted"] == 1 + 3
    assert summary["conversations_deleted"] == 2
    assert summary["days_rolled_up"] == 1  # both old senders are on the day before the cutoff


def test_statistics_equal_raw_events_and_only_old_events_go(store: Store) -> None:
    fill(store)
    expected = reference_stats(store.rows, before=C)
    expected_left = sorted(
        (r["sender_id"], r["timestamp"]) for r in store.rows if r["timestamp"] >= C
    )
    summary = run(store.engine, options(batch_size=50))
    assert store.stats() == expected
    assert summary["days_rolled_up"] == len(expected) == 8
    assert sorted((s, t) for s, _ty, t, _d in store.events()) == expected_left
    assert summary["events_deleted"] == len(store.rows) - len(expected_left)
    assert summary["conversations_trimmed"] == 4  # three straddlers and "midnight"
    assert summary["index_created"] is True


def test_statistics_contain_nothing_identifying(store: Store) -> None:
    fill(store)
    run(store.engine, options())
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = {
            t: {c["name"] for c in inspector.get_columns(t)}
            for t in ("conversation_stats_daily", "intent_stats_daily")
        }
        dumped = json.dumps(
            [
                [str(v) for v in row]
                for t in columns
                for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
            ]
        )
    assert columns["intent_stats_daily"] == {"day", "intent", "messages"}
    assert not {c for cols in columns.values() for c in cols} & {
        "sender_id",
        "conversation_id",
        "text",
        "data",
        "entities",
        "slots",
    }
    secrets = {
        "jane+shop@example.com",
        "example.com",
        "blorp",
        "where is my order",
        "conv-",
        "straddle",
        "midnight",
        "12340",
    }
    assert not [s for s in secrets if s in dumped]


def test_dry_run_changes_nothing(store: Store) -> None:
    fill(store)
    before = store.dump()
    summary = run(store.engine, options(dry_run=True, agent_cutoff=CUTOFF, agent_days=90))
    assert store.dump() == before
    assert summary["dry_run"] is True
    assert summary["events_deleted"] == sum(r["timestamp"] < C for r in store.rows) > 0
    assert summary["days_rolled_up"] == 8
    assert summary["agent"]["status"] == "no handover tables"


def test_batches_are_separate_transactions(store: Store) -> None:
    for i in range(10):
        store.add(f"s{i}", conversation("idle", C - DAY * (i + 1)))  # 3 events each
    ensure_schema(store.engine)
    rollup(store.engine, C)
    result = prune(store.engine, C, batch_size=7)
    assert (result.events_deleted, result.batches) == (30, 5)  # 7+7+7+7+2
    assert store.events() == []


def test_prune_refuses_without_batch() -> None:
    with pytest.raises(ValueError):
        prune(sa.create_engine("sqlite://"), C, batch_size=0)


def test_rerun_counts_nothing_twice(store: Store) -> None:
    fill(store)
    first = run(store.engine, options())
    stats = store.stats()
    second = run(store.engine, options())
    assert store.stats() == stats
    assert (second["events_deleted"], second["days_rolled_up"]) == (0, 0)
    assert first["events_deleted"] > 0
    assert second["index_created"] is False


def test_interrupted_run_resumes_without_recounting(store: Store) -> None:
    """A crash after the roll-up but before the prune: the rerun only prunes."""
    fill(store)
    ensure_schema(store.engine)
    rollup(store.engine, C)
    stats = store.stats()
    summary = run(store.engine, options())
    assert summary["days_rolled_up"] == 0 and summary["days_already_rolled_up"] == 8
    assert summary["events_deleted"] > 0
    assert store.stats() == stats == reference_stats(store.rows, before=C)


def test_unique_day_key_holds_when_the_guard_is_bypassed(store: Store) -> None:
    """Eight unguarded roll-ups racing: each day still lands exactly once."""
    fill(store)
    ensure_schema(store.engine)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            rollup(store.engine, C)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.stats() == reference_stats(store.rows, before=C)


def test_second_run_is_refused_while_the_lock_is_held(store: Store) -> None:
    fill(store)
    before = store.dump()
    with run_lock(store.engine), pytest.raises(LockBusy):
        run(store.engine, options())
    assert store.dump() == before


def test_agent_conversations_are_kept_by_default(store: Store) -> None:
    store.create_handover_tables()
    store.add("bot-only", conversation("plain", C - 3 * DAY))
    store.add("with-agent", conversation("handover", C - 3 * DAY))
    store.add("open-agent", conversation("handover", C - 3 * DAY))
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO handover_requests (id, conversation_id, status, email, created_at,"
                " closed_at) VALUES (1, 'with-agent', 'closed', 'a@b.de', :old, :closed),"
                " (2, 'open-agent', 'waiting', 'c@d.de', :old, NULL)"
            ),
            {"old": C - 200 * DAY, "closed": C - 150 * DAY},
        )
        conn.execute(
            sa.text(
                "INSERT INTO handover_messages (id, request_id, conversation_id, sender, text,"
                " created_at) VALUES (1, 1, 'with-agent', 'agent', 'hi', :t),"
                " (2, 2, 'open-agent', 'shopper', 'hello', :t)"
            ),
            {"t": C - 200 * DAY},
        )
    summary = run(store.engine, options())
    assert {s for s, *_ in store.events()} == {"with-agent", "open-agent"}
    assert summary["agent_conversations_kept"] == 2
    assert summary["agent"] is None
    handover_stats = store.stats()[day_of(C - 3 * DAY)]
    assert handover_stats["handover_conversations"] == 2  # rolled up although kept

    summary = run(store.engine, options(agent_cutoff=cutoff_for(NOW, 100), agent_days=100))
    assert summary["agent"] == {
        "status": "ok",
        "agent_days": 100,
        "cutoff": "2026-03-07T00:00:00+00:00",
        "requests_deleted": 1,
        "messages_deleted": 1,
    }
    assert {s for s, *_ in store.events()} == {"open-agent"}
    assert summary["days_rolled_up"] == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM handover_requests")).all() == [(2,)]
        assert conn.execute(sa.text("SELECT id FROM handover_messages")).all() == [(2,)]


def test_agent_days_without_handover_tables_says_so(store: Store) -> None:
    store.add("old", conversation("plain", C - DAY))
    summary = run(store.engine, options(agent_cutoff=CUTOFF, agent_days=90))
    assert summary["agent"]["status"] == "no handover tables"
    assert summary["events_deleted"] > 0


def test_existing_timestamp_index_is_reused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text("CREATE INDEX my_ts ON events (timestamp)"))
    assert ensure_schema(store.engine) is False
    with store.engine.connect() as conn:
        names = {i["name"] for i in sa.inspect(conn).get_indexes("events")}
    assert "ix_events_timestamp" not in names


def test_day_boundaries_are_utc() -> None:
    assert day_start(dt.date(2026, 3, 17)) == C


def test_rows_match_rasa_sql_tracker_store(sqlite_store: Store) -> None:
    """The test writer produces exactly the rows Rasa's own SQLTrackerStore.save writes."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.retention.retention_support import rasa_row

    evs = conversation("fallback_handover", C - DAY, 7)
    rasa_store = SQLTrackerStore(Domain.empty(), host=sqlite_store.url)
    asyncio.run(rasa_store.save(DialogueStateTracker.from_events("by-rasa", evs)))
    rasa_store.engine.dispose()
    with sqlite_store.engine.connect() as conn:
        written = [
            dict(r._mapping)
            for r in conn.execute(
                sa.text(
                    "SELECT sender_id, type_name, timestamp, intent_name, action_name, data"
                    " FROM events ORDER BY id"
                )
            )
        ]
    ours = [rasa_row("by-rasa", e) for e in evs]
    assert [{**r, "data": json.loads(r["data"])} for r in written] == [
        {**r, "data": json.loads(r["data"])} for r in ours
    ]


def test_feedback_is_counted_and_its_text_goes_with_the_conversation(store: Store) -> None:
    """The daily statistics count kept feedback; the text itself is only in the tracker,
    so the 90-day pruning removes it with the conversation."""
    store.add_all(
        [
            ("fb-old", conversation("feedback", C - 2 * DAY + 3600, 1)),
            ("fb-old-2", conversation("feedback", C - 2 * DAY + 7200, 2)),
            ("plain-old", conversation("plain", C - 2 * DAY + 9000, 3)),
        ]
    )
    run(store.engine, options())
    [day] = store.stats().values()
    assert day["feedback_messages"] == 2
    assert day["intents"]["feedback"] == 2
    with store.engine.connect() as conn:
        dumped = json.dumps(
            [
                [str(v) for v in row]
                for row in conn.execute(sa.text("SELECT * FROM conversation_stats_daily"))
            ]
        )
        left = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
    assert "catalogue" not in dumped
    assert left == 0


def test_an_older_statistics_table_gets_the_feedback_counter(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE conversation_stats_daily (day DATE PRIMARY KEY, conversations "
                "INTEGER NOT NULL, engaged_conversations INTEGER NOT NULL, shopper_messages "
                "INTEGER NOT NULL, fallback_messages INTEGER NOT NULL, fallback_actions INTEGER "
                "NOT NULL, fallback_conversations INTEGER NOT NULL, handover_conversations "
                "INTEGER NOT NULL, resolved_without_agent INTEGER NOT NULL, rolled_up_at FLOAT "
                "NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO conversation_stats_daily VALUES "
                "('2026-01-01', 1, 1, 1, 0, 0, 0, 0, 1, 0.0)"
            )
        )
    store.add_all([("fb", conversation("feedback", C - 2 * DAY + 3600, 1))])
    run(store.engine, options())
    stats = store.stats()
    assert stats[dt.date(2026, 1, 1)]["feedback_messages"] == 0
    assert stats[day_of(C - 2 * DAY + 3600)]["feedback_messages"] == 1
