"""Statistics per conversation language: the roll-up counts conversation-days, messages and
intents per language, stores nothing identifying, and the report shows the same numbers
whether a day was rolled up or is computed live (README "Languages")."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from rasa.shared.core.events import SessionStarted, SlotSet

from insights.report import build_report, to_markdown
from retention.job import RunOptions, run
from tests.retention.retention_support import Store, action, user

DAY = dt.date(2026, 3, 2)
T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc).timestamp()
CUTOFF = dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc)


def _slot(language: str, ts: float) -> SlotSet:
    return SlotSet("language", language, timestamp=ts)


def fill(store: Store) -> None:
    store.add_all(
        [
            # Swedish page, one question
            (
                "conv-sv-anna",
                [
                    SessionStarted(timestamp=T),
                    _slot("sv", T),
                    user("var är mitt paket 40012345", "order_status", T + 1),
                ],
            ),
            # English start, switched to Finnish by a long message: the day counts as fi
            (
                "conv-en-to-fi",
                [
                    SessionStarted(timestamp=T),
                    _slot("en", T),
                    user("hello", "greet", T + 1),
                    _slot("fi", T + 2),
                    user("missä on tilaukseni jane+shop@example.com", "order_status", T + 2),
                    user("ok", "affirm", T + 3),
                ],
            ),
            # an old tracker without any language event: English, the slot's initial value
            (
                "conv-legacy",
                [user("where is my order", "order_status", T + 5), action("action_listen", T + 6)],
            ),
        ]
    )


def test_conversations_and_intents_are_counted_per_language(sqlite_store: Store) -> None:
    fill(sqlite_store)
    live = build_report(sqlite_store.engine, DAY, DAY).languages()
    run(sqlite_store.engine, RunOptions(cutoff=CUTOFF, days=90))
    stored = build_report(sqlite_store.engine, DAY, DAY)

    assert stored.days[0].source == "rolled-up"
    languages = stored.languages()
    assert languages == live
    assert {code: (v["conversations"], v["shopper_messages"]) for code, v in languages.items()} == {
        "sv": (1, 1),
        "fi": (1, 3),
        "en": (1, 1),
    }
    # the whole conversation-day counts in the language it ended in
    assert sorted(i["intent"] for i in languages["fi"]["top_intents"]) == [
        "affirm",
        "greet",
        "order_status",
    ]
    assert languages["sv"]["top_intents"] == [{"intent": "order_status", "messages": 1}]
    assert stored.to_json()["languages"] == languages
    assert "| fi | 1 | 3 |" in to_markdown(stored, None, None)


def test_the_language_statistics_hold_no_ids_or_text(sqlite_store: Store) -> None:
    fill(sqlite_store)
    run(sqlite_store.engine, RunOptions(cutoff=CUTOFF, days=90))
    tables = ("language_stats_daily", "language_intent_stats_daily")
    with sqlite_store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        columns = {t: {c["name"] for c in inspector.get_columns(t)} for t in tables}
        dumped = json.dumps(
            [
                [str(v) for v in row]
                for t in tables
                for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
            ]
        )
    assert columns == {
        "language_stats_daily": {"day", "language", "conversations", "shopper_messages"},
        "language_intent_stats_daily": {"day", "language", "intent", "messages"},
    }
    assert dumped.count("fi") >= 1  # the rows are there ...
    for secret in ("conv-", "anna", "jane", "example.com", "40012345", "paket", "tilaukseni"):
        assert secret not in dumped  # ... and nothing a person wrote or is known by
