"""Ratings and helpful votes through the retention job: rolled up, then pruned.

Feedback rows are ordinary events of their conversation, so the 90-day pruning takes them
with it; the roll-up keeps only counts per day, rating, bot-only/with-agent, response
and intent: no conversation id, message id or comment.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from rasa.shared.core.events import AgentUttered, BotUttered, Event

from channels.feedback import message_id
from retention.clock import cutoff_for, day_of
from retention.job import RunOptions, run
from tests.retention.retention_support import DAY, Store, action, conversation, user

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.timezone.utc)
CUTOFF = cutoff_for(NOW, 90)
C = CUTOFF.timestamp()
COMMENT = "Lovely help from Jane, my number is 0170 5551234"


def rating(value: int, ts: float, comment: str | None = None) -> AgentUttered:
    data: dict[str, Any] = {"feedback": "rating", "rating": value}
    if comment:
        data["comment"] = comment
    return AgentUttered(None, data, timestamp=ts)


def vote(
    sender: str,
    answer_ts: float,
    helpful: bool,
    ts: float,
    response: str = "utter_delivery_time",
    intent: str = "delivery_time",
) -> AgentUttered:
    return AgentUttered(
        None,
        {
            "feedback": "vote",
            "message_id": message_id(sender, answer_ts),
            "helpful": helpful,
            "response": response,
            "intent": intent,
        },
        timestamp=ts,
    )


def answered(sender: str, start: float) -> tuple[list[Event], float]:
    """A conversation with a delivery-time answer; returns the events and its timestamp."""
    t = start + 20
    events = [
        *conversation("plain", start),
        user("how long does delivery take", "delivery_time", t),
        action("utter_delivery_time", t + 1),
        BotUttered(
            "2-4 working days.", metadata={"utter_action": "utter_delivery_time"}, timestamp=t + 1
        ),
        action("action_listen", t + 1),
    ]
    return events, t + 1


def fill(store: Store) -> dt.date:
    store.create_handover_tables()
    day = C - 3 * DAY
    a, a_ts = answered("bot-a", day)
    b, b_ts = answered("bot-b", day + 600)
    agent_chat = conversation("handover", day + 1200)
    store.add_all(
        [
            # changed vote: only the last (unhelpful) counts; rating 4 then corrected to 5
            (
                "bot-a",
                [
                    *a,
                    vote("bot-a", a_ts, True, a_ts + 5),
                    vote("bot-a", a_ts, False, a_ts + 9),
                    rating(4, a_ts + 10),
                    rating(5, a_ts + 11, COMMENT),
                ],
            ),
            ("bot-b", [*b, vote("bot-b", b_ts, False, b_ts + 5), rating(2, b_ts + 6)]),
            ("with-agent", [*agent_chat, rating(5, day + 1300, "Sam was great")]),
        ]
    )
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO handover_requests (id, conversation_id, status, agent, created_at,"
                " claimed_at, closed_at, closed_reason) VALUES"
                " (1, 'with-agent', 'closed', 'sam', :t, :t, :closed, 'agent')"
            ),
            {"t": day + 1205, "closed": C - 200 * DAY},
        )
    return day_of(day)


def feedback_tables(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.engine.connect() as conn:
        ratings = [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT day, with_agent, rating, ratings FROM rating_stats_daily"
                    " ORDER BY with_agent, rating"
                )
            )
        ]
        answers = [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT day, response, intent, helpful, unhelpful FROM answer_feedback_daily"
                )
            )
        ]
    return ratings, answers


def test_roll_up_keeps_the_numbers_after_pruning_and_the_feedback_rows_go(store: Store) -> None:
    day = fill(store)
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    remaining = {(s, t) for s, t, _ts, _d in store.events()}
    assert not [s for s, _t in remaining if s.startswith("bot-")]  # pruned, feedback included
    assert ("with-agent", "agent") in remaining  # agent conversations are kept by default
    ratings, answers = feedback_tables(store)
    as_date = [(dt.date.fromisoformat(d) if isinstance(d, str) else d) for d, *_ in ratings]
    assert set(as_date) == {day}
    assert [tuple(r[1:]) for r in ratings] == [(False, 2, 1), (False, 5, 1), (True, 5, 1)]
    assert [tuple(r[1:]) for r in answers] == [("utter_delivery_time", "delivery_time", 0, 2)]


def test_feedback_roll_up_holds_no_ids_or_text(store: Store) -> None:
    fill(store)
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    with store.engine.connect() as conn:
        columns = {
            t: {c["name"] for c in sa.inspect(conn).get_columns(t)}
            for t in ("rating_stats_daily", "answer_feedback_daily")
        }
        dumped = json.dumps(
            [
                [str(v) for v in row]
                for t in columns
                for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
            ]
        )
    assert columns["rating_stats_daily"] == {"day", "with_agent", "rating", "ratings"}
    assert columns["answer_feedback_daily"] == {"day", "response", "intent", "helpful", "unhelpful"}
    for secret in (
        "bot-a",
        "bot-b",
        "with-agent",
        "sam",
        "Sam",
        "Jane",
        "0170",
        "m-",
        "2-4 working days",
    ):
        assert secret not in dumped


def test_a_rerun_counts_feedback_once(store: Store) -> None:
    fill(store)
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    first = feedback_tables(store)
    run(store.engine, RunOptions(cutoff=CUTOFF, days=90))
    assert feedback_tables(store) == first
