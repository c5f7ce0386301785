"""Helpers shared by the retention and insights tests (a module, not a conftest, so the
insights suite can import it too).

Rows are written exactly as Rasa's SQLTrackerStore.save writes them, from real Rasa
events (`test_rows_match_rasa_sql_tracker_store` keeps that promise honest), and the
expected statistics are computed here, in plain Python, from those raw rows: a second,
independent implementation the SQL roll-up is checked against.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from channels.tracker_store import event_row
from retention import markers
from retention.clock import day_of
from retention.config import make_engine
from tests.support.databases import postgres_database

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400.0

# ---------------------------------------------------------------- rows like Rasa writes them


# The `events` row SQLTrackerStore.save writes for an event: the tracker store's own, which
# test_retention_job.py and tests/channels/test_tracker_store.py compare with Rasa's save.
rasa_row = event_row


def user(
    text: str,
    intent: str,
    ts: float,
    confidence: float = 0.93,
    entities: list[dict[str, Any]] | None = None,
) -> UserUttered:
    return UserUttered(
        text,
        intent={"name": intent, "confidence": confidence},
        entities=entities or [],
        timestamp=ts,
        input_channel="webchat",
    )


def action(name: str, ts: float) -> ActionExecuted:
    return ActionExecuted(name, policy="RulePolicy", confidence=1.0, timestamp=ts)


def bot_turn(text: str, ts: float) -> list[Event]:
    return [action("utter_x", ts), BotUttered(text, timestamp=ts), action("action_listen", ts)]


def conversation(kind: str, start: float, n: int = 0) -> list[Event]:
    """A realistic conversation of a given kind, all events within a minute of `start`."""
    t = start
    out: list[Event] = [
        action("action_session_start", t),
        SessionStarted(timestamp=t),
        action("action_listen", t),
    ]
    if kind == "idle":
        return out
    out += [
        user(
            f"where is my order 1234{n:04d}",
            "order_status",
            t + 1,
            entities=[{"entity": "order_number", "value": f"1234{n:04d}"}],
        )
    ]
    out += [SlotSet("order_number", f"1234{n:04d}", timestamp=t + 1)]
    out += bot_turn("Your order is on its way.", t + 2)
    if kind in ("fallback", "fallback_handover"):
        out += [
            user("blorp quux", markers.FALLBACK_INTENT, t + 3, confidence=0.2),
            action(markers.FALLBACK_ACTION, t + 3),
        ]
        out += bot_turn("Sorry, I did not get that.", t + 4)
    if kind in ("handover", "fallback_handover"):
        out += [
            user("I want a human", "request_agent", t + 5),
            action("action_join_queue", t + 5),
            ConversationPaused(timestamp=t + 5),
            user(
                "hello? my email is jane+shop@example.com",
                "inform",
                t + 6,
                entities=[{"entity": "email", "value": "jane+shop@example.com"}],
            ),
            ConversationResumed(timestamp=t + 7),
        ]
    if kind == "message":
        out += [
            user("can I leave a message", "leave_message", t + 5),
            action("action_leave_message", t + 5),
        ]
    if kind == "feedback":  # the text lives in the tracker; statistics count the action
        out += [
            user("the new catalogue is lovely blorp", "feedback", t + 5),
            action(markers.FEEDBACK_ACTION, t + 5),
            SlotSet("shopper_feedback", "the new catalogue is lovely blorp", timestamp=t + 5),
        ]
    if kind == "pause_only":
        out += [ConversationPaused(timestamp=t + 5)]
    out += [user("thanks", "thank", t + 8), *bot_turn("You're welcome!", t + 9)]
    return out


# ---------------------------------------------------------------- reference statistics


def reference_stats(rows: list[dict[str, Any]], before: float) -> dict[dt.date, dict[str, Any]]:
    """Statistics per day computed in Python from raw rows (the independent oracle)."""
    per: dict[tuple[dt.date, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["timestamp"] is not None and r["timestamp"] < before:
            per[(day_of(r["timestamp"]), r["sender_id"])].append(r)
    out: dict[dt.date, dict[str, Any]] = {}
    for (day, _sender), evs in per.items():
        s = out.setdefault(
            day,
            {
                "conversations": 0,
                "engaged_conversations": 0,
                "shopper_messages": 0,
                "fallback_messages": 0,
                "fallback_actions": 0,
                "fallback_conversations": 0,
                "handover_conversations": 0,
                "resolved_without_agent": 0,
                "feedback_messages": 0,
                "intents": {},
            },
        )
        users = [e for e in evs if e["type_name"] == "user"]
        fb_msgs = [e for e in users if e["intent_name"] == markers.FALLBACK_INTENT]
        fb_acts = [
            e
            for e in evs
            if e["type_name"] == "action" and e["action_name"] == markers.FALLBACK_ACTION
        ]
        handover = any(
            (e["type_name"] == "action" and e["action_name"] in markers.HANDOVER_ACTIONS)
            or e["type_name"] == "pause"
            for e in evs
        )
        s["conversations"] += 1
        s["engaged_conversations"] += bool(users)
        s["shopper_messages"] += len(users)
        s["fallback_messages"] += len(fb_msgs)
        s["fallback_actions"] += len(fb_acts)
        s["fallback_conversations"] += bool(fb_msgs or fb_acts)
        s["handover_conversations"] += handover
        s["resolved_without_agent"] += bool(users) and not handover
        s["feedback_messages"] += sum(
            e["type_name"] == "action" and e["action_name"] == markers.FEEDBACK_ACTION for e in evs
        )
        for e in users:
            name = e["intent_name"] or markers.NO_INTENT
            s["intents"][name] = s["intents"].get(name, 0) + 1
    return out


# ---------------------------------------------------------------- stores


@dataclass
class Store:
    """A tracker store under test: its URL, an engine, and what was written to it."""

    url: str
    engine: sa.engine.Engine
    rows: list[dict[str, Any]] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def add(self, sender_id: str, evs: list[Event]) -> None:
        self.add_all([(sender_id, evs)])

    def add_all(self, conversations: list[tuple[str, list[Event]]]) -> None:
        """Insert many conversations in one transaction (one fsync, not one per chat)."""
        rows = [rasa_row(sender, e) for sender, evs in conversations for e in evs]
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name,"
                    " data) VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name,"
                    " :data)"
                ),
                rows,
            )
        self.rows += rows
        for sender, _evs in conversations:
            if sender not in self.senders:
                self.senders.append(sender)

    def events(self) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text("SELECT sender_id, type_name, timestamp, data FROM events ORDER BY id")
                )
            ]

    def dump(self) -> dict[str, Any]:
        """Every table's schema and rows, to prove a dry run changed nothing."""
        out: dict[str, Any] = {}
        with self.engine.connect() as conn:
            inspector = sa.inspect(conn)
            for table in sorted(inspector.get_table_names()):
                cols = [c["name"] for c in inspector.get_columns(table)]
                idx = sorted(i["name"] or "" for i in inspector.get_indexes(table))
                rows = sorted(map(repr, conn.execute(sa.text(f'SELECT * FROM "{table}"'))))
                out[table] = (cols, idx, rows)
        return out

    def stats(self) -> dict[dt.date, dict[str, Any]]:
        """The statistics table as {day: counters + intents}."""
        out: dict[dt.date, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(sa.text("SELECT * FROM conversation_stats_daily")):
                d = dict(row._mapping)
                day = d.pop("day")
                day = dt.date.fromisoformat(day) if isinstance(day, str) else day
                d.pop("rolled_up_at")
                d["intents"] = {}
                out[day] = d
            for day, intent, n in conn.execute(
                sa.text("SELECT day, intent, messages FROM intent_stats_daily")
            ):
                day = dt.date.fromisoformat(day) if isinstance(day, str) else day
                out[day]["intents"][intent] = n
        return out

    def create_handover_tables(self) -> None:
        """The handover store's real tables (handover/models.py); the job never creates them."""
        from handover.models import Base

        Base.metadata.create_all(self.engine)


def create_rasa_schema(url: str) -> None:
    """Let Rasa's own SQLTrackerStore create the `events` table (and its indexes)."""
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(host=url)
    store.engine.dispose()


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m retention ...` as cron would run it."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "retention", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summary_of(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON line the command prints on stdout (exactly one line)."""
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (proc.stdout, proc.stderr)
    return json.loads(lines[0])


# ---------------------------------------------------------------- fixtures
# (conftest.py files import these, so the insights suite gets the same stores)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this session; skipped locally, fatal in CI."""
    with postgres_database("retention_test") as url:
        yield url


def _reset_pg(url: str) -> None:
    engine = sa.create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "DROP TABLE IF EXISTS handover_messages, handover_requests, intent_stats_daily,"
                " rating_stats_daily, answer_feedback_daily, self_service_stats_daily,"
                " conversation_stats_daily, language_stats_daily, language_intent_stats_daily,"
                " events CASCADE"
            )
        )
        conn.execute(sa.text("DROP SEQUENCE IF EXISTS events_seq"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty Rasa tracker store on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rasa.db'}"
    else:
        url = request.getfixturevalue("pg_url")
        _reset_pg(url)
    create_rasa_schema(url)
    s = Store(url=url, engine=make_engine(url))
    yield s
    s.engine.dispose()


@pytest.fixture()
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'rasa.db'}"
    create_rasa_schema(url)
    s = Store(url=url, engine=make_engine(url))
    yield s
    s.engine.dispose()
