"""An agent's own ratings: what shoppers said after chats the agent took part in.

A shopper's rating is an `agent`-type event of the conversation in the tracker store
(channels/feedback.py), in the same database as the handover tables. It belongs to the
agent whose claim of a request of that conversation is the latest one before the rating;
the last rating of a conversation is the one that counts. Only the agent themselves sees
theirs (the route runs for the signed-in agent): comments come with the day, nothing else
about the shopper.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handover.models import requests_table

RATING_DAYS = 30
#: Comments listed, newest first; the counts cover every rating of the period.
RECENT_COMMENTS = 20

_events = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)


def agent_ratings(
    engine: Engine, agent: str, now: float, days: int = RATING_DAYS
) -> dict[str, Any]:
    """Count, average, distribution and recent comments of `agent`'s ratings."""
    since = now - days * 86_400
    r = requests_table
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("events"):
            return _summary(agent, days, [])
        claims: dict[str, list[tuple[float, str]]] = {}
        mine = (
            sa.select(r.c.conversation_id)
            .where(r.c.agent == agent, r.c.claimed_at.is_not(None))
            .where(sa.or_(r.c.closed_at.is_(None), r.c.closed_at >= since - 86_400))
        )
        for cid, claimed_at, who in conn.execute(
            sa.select(r.c.conversation_id, r.c.claimed_at, r.c.agent).where(
                r.c.conversation_id.in_(mine), r.c.claimed_at.is_not(None)
            )
        ):
            claims.setdefault(str(cid), []).append((float(claimed_at), str(who)))
        if not claims:
            return _summary(agent, days, [])
        rows = conn.execute(
            sa.select(_events.c.sender_id, _events.c.timestamp, _events.c.data)
            .where(_events.c.type_name == "agent", _events.c.timestamp >= since)
            .where(_events.c.sender_id.in_(sorted(claims)))
            .order_by(_events.c.id)
        )
        last: dict[str, tuple[float, dict[str, Any]]] = {}
        for sender, timestamp, data in rows:
            try:
                payload = (json.loads(data or "{}") or {}).get("data") or {}
            except ValueError:
                continue
            if isinstance(payload, dict) and payload.get("feedback") == "rating":
                last[str(sender)] = (float(timestamp), payload)
    ratings: list[tuple[float, dict[str, Any]]] = []
    for sender, (timestamp, payload) in last.items():
        before = [c for c in claims[sender] if c[0] <= timestamp]
        if before and max(before)[1] == agent:
            ratings.append((timestamp, payload))
    return _summary(agent, days, ratings)


def _summary(agent: str, days: int, ratings: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    import datetime as dt

    values = [int(p["rating"]) for _, p in ratings if isinstance(p.get("rating"), int)]
    newest = sorted(ratings, key=lambda item: -item[0])
    return {
        "agent": agent,
        "days": days,
        "ratings": len(values),
        "average": round(sum(values) / len(values), 2) if values else None,
        "distribution": {str(n): values.count(n) for n in range(1, 6)},
        "comments": [
            {
                "day": dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).date().isoformat(),
                "rating": p.get("rating"),
                "comment": p["comment"],
            }
            for t, p in newest
            if p.get("comment")
        ][:RECENT_COMMENTS],
    }
