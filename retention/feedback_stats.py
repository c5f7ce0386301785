"""Feedback statistics of one UTC day: conversation ratings and helpful votes per answer.

Feedback is stored as `agent` events of the conversation (channels/feedback.py). What
leaves this module is counts keyed by a day, a 1-5 rating, a bot-only/with-agent flag,
a response name and an intent name: designer-made labels, never an id, a comment or a
message. The last rating of a conversation and the last vote per answer count, wherever
they fall; a day counts those of its feedback events that are still the last ones when
the day is rolled up (a vote changed after that day was rolled up counts on both days).

A rating is "with an agent" if an agent had claimed a handover request of that
conversation before the rating was given.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from retention import markers
from retention.clock import day_bounds
from retention.schema import (
    answer_feedback_daily,
    events,
    rating_stats_daily,
    reflect_handover,
)

#: (with_agent, rating) -> number of ratings
Ratings = dict[tuple[bool, int], int]
#: (response, intent) -> [helpful, unhelpful]
Answers = dict[tuple[str, str], list[int]]


def _payload(data: Any) -> dict[str, Any] | None:
    try:
        event = json.loads(data) if isinstance(data, str) else data
    except ValueError:
        return None
    payload = event.get("data") if isinstance(event, dict) else None
    if isinstance(payload, dict) and payload.get("feedback") in (
        markers.FEEDBACK_RATING,
        markers.FEEDBACK_VOTE,
    ):
        return payload
    return None


def _agent_claims(conn: Connection, senders: set[str]) -> dict[str, float]:
    """The first time an agent claimed a request of each conversation."""
    handover = reflect_handover(conn)
    if handover is None or not senders:
        return {}
    requests = handover.requests
    rows = conn.execute(
        sa.select(requests.c.conversation_id, sa.func.min(requests.c.claimed_at))
        .where(requests.c.conversation_id.in_(sorted(senders)))
        .where(requests.c.claimed_at.is_not(None))
        .group_by(requests.c.conversation_id)
    )
    return {str(cid): float(at) for cid, at in rows if at is not None}


def compute_feedback(conn: Connection, day: dt.date) -> tuple[Ratings, Answers]:
    """The day's counted ratings and votes (see the module docstring)."""
    start, end = day_bounds(day)
    is_feedback = events.c.type_name == markers.FEEDBACK_EVENT
    senders_of_day = (
        sa.select(events.c.sender_id)
        .where(is_feedback, events.c.timestamp >= start, events.c.timestamp < end)
        .distinct()
    )
    rows = conn.execute(
        sa.select(events.c.sender_id, events.c.timestamp, events.c.data)
        .where(is_feedback, events.c.timestamp >= start)
        .where(events.c.sender_id.in_(senders_of_day))
        .order_by(events.c.id)
    )
    last: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
    for sender, timestamp, data in rows:
        payload = _payload(data)
        if payload is None:
            continue
        key = (
            "rating"
            if payload["feedback"] == markers.FEEDBACK_RATING
            else "vote:" + str(payload.get("message_id"))
        )
        last[(str(sender), key)] = (float(timestamp), payload)
    counted = {k: v for k, v in last.items() if start <= v[0] < end}
    claims = _agent_claims(conn, {s for (s, key) in counted if key == "rating"})
    ratings: Ratings = {}
    answers: Answers = {}
    for (sender, key), (timestamp, payload) in counted.items():
        if key == "rating":
            rating = payload.get("rating")
            if isinstance(rating, int) and 1 <= rating <= 5:
                with_agent = sender in claims and claims[sender] <= timestamp
                ratings[(with_agent, rating)] = ratings.get((with_agent, rating), 0) + 1
            continue
        name = (str(payload.get("response") or "(custom)"), str(payload.get("intent") or "(none)"))
        pair = answers.setdefault(name, [0, 0])
        pair[0 if payload.get("helpful") is True else 1] += 1
    return ratings, answers


def store_feedback(conn: Connection, day: dt.date, ratings: Ratings, answers: Answers) -> None:
    """Insert the day's feedback rows (in the caller's transaction, with the day's row)."""
    if ratings:
        conn.execute(
            rating_stats_daily.insert(),
            [
                {"day": day, "with_agent": wa, "rating": r, "ratings": n}
                for (wa, r), n in sorted(ratings.items())
            ],
        )
    if answers:
        conn.execute(
            answer_feedback_daily.insert(),
            [
                {"day": day, "response": resp, "intent": intent, "helpful": h, "unhelpful": u}
                for (resp, intent), (h, u) in sorted(answers.items())
            ],
        )


def read_feedback(
    conn: Connection, since: dt.date, until: dt.date
) -> dict[dt.date, tuple[Ratings, Answers]]:
    """Rolled-up feedback of the days in [since, until] (empty before the first run)."""
    out: dict[dt.date, tuple[Ratings, Answers]] = {}
    inspector = sa.inspect(conn)
    if inspector.has_table(rating_stats_daily.name):
        t = rating_stats_daily
        for day, wa, r, n in conn.execute(
            sa.select(t.c.day, t.c.with_agent, t.c.rating, t.c.ratings).where(
                t.c.day >= since, t.c.day <= until
            )
        ):
            out.setdefault(_date(day), ({}, {}))[0][(bool(wa), int(r))] = int(n)
    if inspector.has_table(answer_feedback_daily.name):
        a = answer_feedback_daily
        for day, resp, intent, h, u in conn.execute(
            sa.select(a.c.day, a.c.response, a.c.intent, a.c.helpful, a.c.unhelpful).where(
                a.c.day >= since, a.c.day <= until
            )
        ):
            out.setdefault(_date(day), ({}, {}))[1][(str(resp), str(intent))] = [int(h), int(u)]
    return out


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
